/**
 * The same checks as shell.e2e.test.ts, through the real Electron app (`_electron.launch` on the
 * built main, preload and renderer) where this machine has an Electron binary. Where it has none
 * (installs with ELECTRON_SKIP_BINARY_DOWNLOAD=1: the binary comes from GitHub), every test here
 * is skipped and says why.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { assertNoOutsideTraffic, saveScreenshot, watchOutsideTraffic, type OutsideTraffic } from '../support/e2eBrowser';
import { checkApiShape, checkKeystoreChain, waitForApp } from './shellChecks';

const ROOT = resolve(import.meta.dirname, '../..');
const SPEC = 'electron';

/** The Electron binary's path, or why there is none (in words for the skip message). */
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

describe('the shell in Electron', () => {
  const binary = electronBinary();
  let home: string;
  let app: ElectronApplication | undefined;
  let page: Page;
  let traffic: OutsideTraffic;

  /** Skip with the reason when there is no Electron to drive; true when the test should run. */
  const electronHere = (t: TestContext): boolean => {
    if ('why' in binary) t.skip(binary.why);
    return 'path' in binary;
  };

  before(async () => {
    if (!('path' in binary)) return;
    home = mkdtempSync(join(tmpdir(), 'keyroom-electron-'));
    app = await _electron.launch({
      executablePath: binary.path,
      // Chromium will not start its sandbox as root (containers, CI); elsewhere the app's own
      // sandbox stays on, as the user gets it.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ROOT],
      cwd: ROOT,
      // A fresh data folder: the app's keystore is <appData>/Keyroom/keystore.db, and appData is
      // $XDG_CONFIG_HOME on Linux.
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config') },
    });
    traffic = await watchOutsideTraffic(app.context(), (url) => url.startsWith('file://') || url.startsWith('data:'));
    page = await app.firstWindow();
  });
  after(async () => {
    await app?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('opens the built renderer from file:// with window.keyroom and nothing of Node', async (t) => {
    if (!electronHere(t)) return;
    assert.match(page.url(), /^file:\/\/.*\/out\/renderer\/index\.html$/);
    await waitForApp(page);
    await checkApiShape(page);
    const leaks = await page.evaluate(() => ({
      process: typeof (window as unknown as { process?: unknown }).process,
      require: typeof (window as unknown as { require?: unknown }).require,
    }));
    assert.deepEqual(leaks, { process: 'undefined', require: 'undefined' });
  });

  it('carries calls to the real keystore: create, key, describe, refusals, lock and unlock', async (t) => {
    if (!electronHere(t)) return;
    await checkKeystoreChain(page, join(home, 'config', 'Keyroom', 'keystore.db'));
  });

  it('shows the window, and the window made no outside connection and broke no policy', async (t) => {
    if (!electronHere(t)) return;
    await saveScreenshot(page, SPEC, '01-placeholder');
    assertNoOutsideTraffic(traffic);
  });
});
