/**
 * Steps through the renderer's screens that several e2e specs share, done the way an operator
 * does them (typing, clicking, by the data-testid the screens carry), never by calling
 * window.keyroom behind the page's back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestHost, type TestHost } from './host/testHost';
import { launchE2eBrowser, type E2eBrowser } from '../support/e2eBrowser';
import { makeSoftHsm, type SoftHsm } from '../support/softhsm';
import { KmsError } from '../../src-shared/errors';

/** Strong enough for the create screen (zxcvbn score 3 or more). */
export const UI_PASSPHRASE = 'orbit velvet canyon lantern 42';

export interface UiWorld {
  dir: string;
  host: TestHost;
  browser: E2eBrowser;
  page: Page;
  hsm?: SoftHsm;
  close(): Promise<void>;
}

/**
 * A fresh world for one spec: a temp keystore folder, the test host over it (with a SoftHSM
 * token when `withHsm`), and Chromium at the app's first screen. The token's PIN reaches the
 * session only through the page's LoginToken (the Tokens screen), unless `hsmPinFromHost`: then
 * the host answers the PIN itself, for specs about keys rather than about logging in.
 */
export async function openUiWorld(spec: string, opts: { withHsm?: boolean; hsmPinFromHost?: boolean } = {}): Promise<UiWorld> {
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
    return { dir, host, browser, page: browser.page, ...(hsm ? { hsm } : {}), close };
  } catch (e) {
    await close();
    throw e;
  }
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
