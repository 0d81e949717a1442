/**
 * Steps through the renderer's screens that several e2e specs share, done the way an operator
 * does them (typing, clicking, by the data-testid the screens carry), and the world each spec runs
 * in: the built renderer in Debian's Chromium against the test host, or the real Electron app.
 * Each screen spec describes itself once per shell (SHELLS); the Electron run is skipped, with the
 * reason printed, where there is no Electron binary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestHost, type TestHost } from './host/testHost';
import { launchE2eBrowser, type E2eBrowser } from '../support/e2eBrowser';
import { electronSkipReason, launchElectronApp, type ElectronRun } from '../support/electronApp';
import { makeSoftHsm, type SoftHsm } from '../support/softhsm';
import { KmsError } from '../../src-shared/errors';
import { dispatch } from '../../src-main/handlers/dispatch';
import type { DispatchResult } from '../../src-shared/contract/api';
import type { OperationName } from '../../src-shared/contract/operations';
import { callKeyroom } from './shellChecks';

/** Strong enough for the create screen (zxcvbn score 3 or more). */
export const UI_PASSPHRASE = 'orbit velvet canyon lantern 42';

export type ShellKind = 'chromium' | 'electron';

/** The shells every screen spec runs in; `skip` says why one cannot run on this machine. */
export const SHELLS: readonly { kind: ShellKind; skip?: string }[] = [
  { kind: 'chromium' },
  { kind: 'electron', ...(electronSkipReason() ? { skip: electronSkipReason() } : {}) },
];

export interface UiWorld {
  shell: ShellKind;
  /** The keystore's folder (where the screens offer to write backups and exports). */
  dir: string;
  keystorePath: string;
  page: Page;
  hsm?: SoftHsm;
  /** Screenshots (test-results/e2e/<spec>[-electron]/), outside traffic, page errors. */
  browser: Pick<E2eBrowser, 'screenshot' | 'assertNoOutsideTraffic' | 'pageErrors'>;
  /**
   * The real handler table behind the page, asked directly: the host's session in Chromium; in
   * Electron, the app's own main process through the window's verbs (the test cannot reach
   * into another process's session).
   */
  dispatch<N extends OperationName>(name: N, input: unknown): Promise<DispatchResult<N>>;
  keystoreIsOpen(): Promise<boolean>;
  /** The test host (Chromium only): for checks that need the keystore inside the test process. */
  host?: TestHost;
  close(): Promise<void>;
}

export interface UiWorldOptions {
  shell?: ShellKind;
  withHsm?: boolean;
  /**
   * Chromium only: the host answers the token's PIN itself, for specs about keys rather than
   * about logging in. Otherwise the PIN reaches the session only through the Tokens screen
   * (ensureTokenLogin).
   */
  hsmPinFromHost?: boolean;
}

/** A fresh world for one spec, at the app's first screen (the keystore gate). */
export async function openUiWorld(spec: string, opts: UiWorldOptions = {}): Promise<UiWorld> {
  return opts.shell === 'electron' ? openElectronWorld(spec, opts) : openChromiumWorld(spec, opts);
}

async function openChromiumWorld(spec: string, opts: UiWorldOptions): Promise<UiWorld> {
  const dir = mkdtempSync(join(tmpdir(), `keyroom-e2e-${spec}-`));
  const hsm = opts.withHsm ? makeSoftHsm(`e2e-${spec}`) : undefined;
  let host: TestHost | undefined;
  let browser: E2eBrowser | undefined;
  const close = async () => {
    await browser?.close();
    await host?.close();
    hsm?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    host = await startTestHost({
      keystoreDir: dir,
      ...(hsm
        ? {
            hsm: {
              modulePath: hsm.modulePath,
              tokenLabel: hsm.label,
              pin: async () => {
                if (opts.hsmPinFromHost) return Buffer.from(hsm.pin);
                throw new KmsError('Hsm.NotConfigured', "Enter the token's PIN in the Tokens screen, then try again.");
              },
            },
          }
        : {}),
    });
    browser = await launchE2eBrowser({ spec, allowedOrigin: host.origin });
    await browser.page.goto(host.url);
    await browser.page.getByTestId('keystore-gate').waitFor();
    const session = host.session;
    return {
      shell: 'chromium',
      dir,
      keystorePath: host.keystorePath,
      page: browser.page,
      browser,
      dispatch: async <N extends OperationName>(name: N, input: unknown) => (await dispatch(session, name, input)) as DispatchResult<N>,
      keystoreIsOpen: async () => session.isOpen,
      host,
      ...(hsm ? { hsm } : {}),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

async function openElectronWorld(spec: string, opts: UiWorldOptions): Promise<UiWorld> {
  const hsm = opts.withHsm ? makeSoftHsm(`e2e-${spec}`) : undefined;
  let run: ElectronRun | undefined;
  try {
    // The app finds the token as an operator's machine would tell it: through its environment.
    run = await launchElectronApp(spec, hsm ? { KEYROOM_PKCS11_MODULE: hsm.modulePath, KEYROOM_TOKEN: hsm.label, SOFTHSM2_CONF: hsm.conf } : {});
    const { page } = run;
    await page.getByTestId('keystore-gate').waitFor();
    const launched = run;
    return {
      shell: 'electron',
      dir: dirname(run.keystorePath),
      keystorePath: run.keystorePath,
      page,
      browser: { screenshot: launched.screenshot, assertNoOutsideTraffic: launched.assertNoOutsideTraffic, pageErrors: launched.pageErrors },
      dispatch: async <N extends OperationName>(name: N, input: unknown) =>
        (await callKeyroom(page, name as never, input as never)) as unknown as DispatchResult<N>,
      keystoreIsOpen: async () => {
        const status = await callKeyroom(page, 'GetKeystoreStatus', {});
        return status.ok && status.value.Unlocked;
      },
      ...(hsm ? { hsm } : {}),
      async close() {
        await launched.close();
        hsm?.cleanup();
      },
    };
  } catch (e) {
    await run?.close();
    hsm?.cleanup();
    throw e;
  }
}

/**
 * Log in to the world's token through the Tokens screen, unless the Chromium host answers the PIN
 * itself; then back to the Keys screen.
 */
export async function ensureTokenLogin(w: UiWorld, opts: UiWorldOptions): Promise<void> {
  if (!w.hsm || (w.shell === 'chromium' && opts.hsmPinFromHost)) return;
  await w.page.getByTestId('nav-tokens').click();
  await w.page.getByTestId('pin').fill(w.hsm.pin);
  await w.page.getByTestId('login').click();
  await w.page.getByTestId('logout').waitFor();
  await w.page.getByTestId('nav-keys').click();
}

/** On the create screen: the passphrase twice, then Create; waits for the Keys screen. */
export async function createKeystoreViaUi(page: Page, passphrase = UI_PASSPHRASE): Promise<void> {
  await page.getByTestId('passphrase').fill(passphrase);
  await page.getByTestId('passphrase-repeat').fill(passphrase);
  await page.getByTestId('create').click();
  await page.getByTestId('nav-keys').waitFor();
}

/** On the unlock screen: the passphrase, then Unlock; waits for the navigation. */
export async function unlockViaUi(page: Page, passphrase = UI_PASSPHRASE): Promise<void> {
  await page.getByTestId('passphrase').fill(passphrase);
  await page.getByTestId('unlock').click();
  await page.getByTestId('nav-keys').waitFor();
}
