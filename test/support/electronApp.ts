/**
 * The real Electron app (built main, preload and renderer), launched by Playwright's
 * `_electron.launch` with a fresh data folder, for the e2e specs' Electron runs. Where this
 * machine has no Electron binary (installs here set ELECTRON_SKIP_BINARY_DOWNLOAD=1: the binary
 * comes from GitHub, not npm) or no display, `electronSkipReason()` says so in words, and the
 * specs are reported as skipped with that reason.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { saveScreenshot, watchOutsideTraffic, assertNoOutsideTraffic, type OutsideTraffic } from './e2eBrowser';

const ROOT = resolve(import.meta.dirname, '../..');

function electronBinary(): { path: string } | { why: string } {
  let path: string;
  try {
    path = createRequire(join(ROOT, 'package.json'))('electron') as string;
  } catch {
    // require('electron') throws when its binary was never downloaded.
    return { why: 'no Electron binary on this machine (installs here set ELECTRON_SKIP_BINARY_DOWNLOAD=1: the binary comes from GitHub, not npm; README, "Electron on the air-gapped machine")' };
  }
  if (!existsSync(path)) return { why: `no Electron binary on this machine: ${path} does not exist` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { why: 'an Electron binary is here, but no display to open its window on (run the tests under xvfb-run)' };
  }
  return { path };
}

/** Why the Electron runs are skipped here, or undefined when they can run. */
export function electronSkipReason(): string | undefined {
  const b = electronBinary();
  return 'why' in b ? b.why : undefined;
}

export interface ElectronRun {
  app: ElectronApplication;
  page: Page;
  /** The app's own keystore: `<appData>/Keyroom/keystore.db`, appData being $XDG_CONFIG_HOME. */
  keystorePath: string;
  traffic: OutsideTraffic;
  pageErrors: string[];
  screenshot(step: string): Promise<string>;
  assertNoOutsideTraffic(): void;
  close(): Promise<void>;
}

/**
 * Launch the built app with a fresh HOME and config folder. `env` adds variables the app reads
 * (KEYROOM_PKCS11_MODULE, KEYROOM_TOKEN, SOFTHSM2_CONF).
 * @throws Error when there is no binary to launch (check electronSkipReason first).
 */
export async function launchElectronApp(spec: string, env: Record<string, string> = {}): Promise<ElectronRun> {
  const binary = electronBinary();
  if ('why' in binary) throw new Error(binary.why);
  const home = mkdtempSync(join(tmpdir(), 'keyroom-electron-'));
  let app: ElectronApplication | undefined;
  try {
    app = await _electron.launch({
      executablePath: binary.path,
      // Chromium will not start its sandbox as root (containers, CI); elsewhere the app's own
      // sandbox stays on, as the user gets it.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ROOT],
      cwd: ROOT,
      env: { ...process.env, ...env, HOME: home, XDG_CONFIG_HOME: join(home, 'config') } as Record<string, string>,
    });
    const traffic = await watchOutsideTraffic(app.context(), (url) => url.startsWith('file://') || url.startsWith('data:'));
    const page = await app.firstWindow();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const launched = app;
    return {
      app: launched,
      page,
      keystorePath: join(home, 'config', 'Keyroom', 'keystore.db'),
      traffic,
      pageErrors,
      screenshot: (step) => saveScreenshot(page, `${spec}-electron`, step),
      assertNoOutsideTraffic: () => assertNoOutsideTraffic(traffic),
      async close() {
        await launched.close();
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await app?.close();
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
}
