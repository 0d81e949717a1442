/**
 * The shell checks of shell.e2e.test.ts through the real Electron app where this machine has an
 * Electron binary; where it has none, skipped with the reason. (The screen specs run in Electron
 * too: each describes itself once per shell, see uiSteps.ts.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { electronSkipReason, launchElectronApp, type ElectronRun } from '../support/electronApp';
import { checkApiShape, checkKeystoreChain, waitForApp } from './shellChecks';

describe('the shell in Electron', { skip: electronSkipReason() }, () => {
  let run: ElectronRun;
  before(async () => {
    run = await launchElectronApp('shell');
  });
  after(async () => {
    await run?.close();
  });

  it('opens the built renderer from file:// with window.keyroom and nothing of Node', async () => {
    assert.match(run.page.url(), /^file:\/\/.*\/out\/renderer\/index\.html(#.*)?$/);
    await waitForApp(run.page);
    await checkApiShape(run.page);
    const leaks = await run.page.evaluate(() => ({
      process: typeof (window as unknown as { process?: unknown }).process,
      require: typeof (window as unknown as { require?: unknown }).require,
    }));
    assert.deepEqual(leaks, { process: 'undefined', require: 'undefined' });
  });

  it('carries calls to the real keystore: create, key, describe, refusals, lock and unlock', async () => {
    await checkKeystoreChain(run.page, run.keystorePath);
  });

  it('shows the window, and the window made no outside connection and broke no policy', async () => {
    await run.screenshot('01-window');
    run.assertNoOutsideTraffic();
    assert.deepEqual(run.pageErrors, []);
  });
});
