/**
 * The keystore screens in Chromium against the real handler table: create (passphrase twice,
 * strength advice), lock, a wrong passphrase refused on screen, unlock, the main process's
 * auto-lock after inactivity (the host's manual clock for its countdown, Playwright's for the
 * window's activity reports: no sleep), backup (the file opens with the passphrase and its
 * SHA-256 is the one shown), and change passphrase (the old one then refused).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Keystore } from '../../src-main/keystore/keystore';
import type { Page } from 'playwright-core';
import { SHELLS, openUiWorld, createKeystoreViaUi, unlockViaUi, UI_PASSPHRASE, type UiWorld } from './uiSteps';
import { callKeyroom } from './shellChecks';

const NEW_PASSPHRASE = 'quartz meadow ferry compass 77';
const SECOND = 1000;

/**
 * Let the window send what it holds back (its last activity report waits up to 15 s on
 * Playwright's clock), then make one call through the same connection: the host handles calls in
 * the order sent, so every report has reached the main process's countdown when it answers.
 */
async function windowSettled(page: Page): Promise<void> {
  await page.clock.fastForward('00:20');
  await callKeyroom(page, 'GetKeystoreStatus', {});
}

for (const shell of SHELLS) describe(`keystore screens (${shell.kind})`, { skip: shell.skip }, () => {
  let w: UiWorld;
  before(async () => {
    w = await openUiWorld('keystore', { shell: shell.kind });
  });
  after(async () => {
    await w?.close();
  });

  it('offers to create a keystore at the session path, and asks for a strong passphrase twice', async () => {
    const { page } = w;
    assert.equal(await page.getByTestId('keystore-path').textContent(), w.keystorePath);
    await w.browser.screenshot('01-create-empty');
    await page.getByTestId('passphrase').fill('password1');
    await page.getByTestId('passphrase-repeat').fill('password1');
    assert.match((await page.getByTestId('strength').textContent()) ?? '', /weak/i);
    assert.equal(await page.getByTestId('create').isDisabled(), true, 'a weak passphrase must not create a keystore');
    await w.browser.screenshot('02-create-weak');
    await page.getByTestId('passphrase').fill(UI_PASSPHRASE);
    await page.getByTestId('passphrase-repeat').fill(`${UI_PASSPHRASE}x`);
    assert.match((await page.getByTestId('create-problem').textContent()) ?? '', /differ/);
    assert.equal(await page.getByTestId('create').isDisabled(), true);
    assert.equal(existsSync(w.keystorePath), false, 'nothing written before Create');
    await createKeystoreViaUi(page);
    assert.equal(statSync(w.keystorePath).mode & 0o777, 0o600);
    assert.equal((await w.keystoreIsOpen()), true);
    // The passphrase does not linger in the DOM once the keystore is open.
    assert.equal(await page.locator('input[type=password]').count(), 0);
    await w.browser.screenshot('03-unlocked');
  });

  it('locks on request, refuses a wrong passphrase on screen, and unlocks with the right one', async () => {
    const { page } = w;
    await page.getByTestId('lock').click();
    await page.getByTestId('unlock').waitFor();
    assert.equal((await w.keystoreIsOpen()), false);
    assert.match((await page.getByTestId('locked-because').textContent()) ?? '', /Locked at/);
    await page.getByTestId('passphrase').fill('not the passphrase at all');
    await page.getByTestId('unlock').click();
    await page.getByTestId('error').waitFor();
    assert.equal(await page.getByTestId('error-code').textContent(), 'IncorrectPassphrase');
    assert.match((await page.getByTestId('error').textContent()) ?? '', /does not open this keystore/);
    assert.equal(await page.getByTestId('passphrase').inputValue(), '', 'the refused passphrase is cleared');
    assert.equal((await w.keystoreIsOpen()), false);
    await w.browser.screenshot('04-wrong-passphrase');
    await unlockViaUi(page);
    assert.equal((await w.keystoreIsOpen()), true);
  });

  it('locks itself after the configured inactivity, in the main process, and says why', async (t) => {
    const { page, host } = w;
    if (!host) {
      t.skip("the countdown runs in the app's main process, whose clock a test cannot move; the Chromium run covers it");
      return;
    }
    const { lock, timers } = host.autoLock;
    await page.clock.install();
    await page.reload();
    // The keystore stayed open in the main process: a reloaded window finds it unlocked.
    await page.getByTestId('nav-keys').waitFor();
    await page.getByTestId('nav-keystore').click();
    await page.getByTestId('auto-lock').selectOption('2');
    await windowSettled(page);
    assert.equal(lock.autoLockMinutes, 2, 'the main process took the delay chosen on screen');
    timers.advance(90 * SECOND);
    assert.equal(await w.keystoreIsOpen(), true, 'still open before the delay');
    await page.getByTestId('auto-lock').focus();
    await page.keyboard.press('Shift'); // activity in the window restarts main's countdown
    await windowSettled(page);
    timers.advance(90 * SECOND);
    assert.equal(await w.keystoreIsOpen(), true, 'activity restarted the delay');
    // The window's own clock moving on does nothing: only main's countdown locks.
    await page.clock.fastForward('05:00');
    assert.equal(await w.keystoreIsOpen(), true, 'the window holds no timer of its own');
    timers.advance(35 * SECOND);
    await page.getByTestId('unlock').waitFor();
    assert.equal(await w.keystoreIsOpen(), false);
    assert.match((await page.getByTestId('locked-because').textContent()) ?? '', /after 2 minutes without activity/);
    await w.browser.screenshot('05-auto-locked');
    await unlockViaUi(page);
  });

  it('writes a backup that opens with the passphrase, and shows its SHA-256', async () => {
    const { page } = w;
    await page.getByTestId('nav-keystore').click();
    const key = await w.dispatch('CreateKey', { KeySpec: 'AES_256' });
    assert.ok(key.ok);
    const target = join(w.dir, 'backup-1.db');
    await page.getByTestId('backup-path').fill(target);
    await page.getByTestId('backup').click();
    await page.getByTestId('written-files').waitFor();
    const shown = (await page.getByTestId('written-files').textContent()) ?? '';
    assert.ok(shown.includes(createHash('sha256').update(readFileSync(target)).digest('hex')), 'the shown SHA-256 is the file\'s');
    const copy = await Keystore.open(target, Buffer.from(UI_PASSPHRASE));
    await copy.close();
    await w.browser.screenshot('06-backup-written');
    // A second backup to the same path is refused, and the first file is untouched.
    const before = readFileSync(target);
    await page.getByTestId('backup').click();
    const form = page.getByTestId('backup-form');
    await form.getByTestId('error').waitFor();
    assert.equal(await form.getByTestId('error-code').textContent(), 'AlreadyExists.File');
    assert.deepEqual(readFileSync(target), before);
  });

  it('changes the passphrase after confirmation; the old one is then refused', async () => {
    const { page } = w;
    // A wrong current passphrase is refused on screen, and changes nothing.
    await page.getByTestId('current-passphrase').fill('not the current passphrase');
    await page.getByTestId('new-passphrase').fill(NEW_PASSPHRASE);
    await page.getByTestId('new-passphrase-repeat').fill(NEW_PASSPHRASE);
    await page.getByTestId('change-passphrase').click();
    await page.getByTestId('confirm-button').click();
    const form = page.getByTestId('change-passphrase-form');
    await form.getByTestId('error').waitFor();
    assert.equal(await form.getByTestId('error-code').textContent(), 'IncorrectPassphrase');
    await page.getByTestId('current-passphrase').fill(UI_PASSPHRASE);
    await page.getByTestId('new-passphrase').fill(NEW_PASSPHRASE);
    await page.getByTestId('new-passphrase-repeat').fill(NEW_PASSPHRASE);
    await page.getByTestId('change-passphrase').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await w.browser.screenshot('07-change-passphrase-confirm');
    await page.getByTestId('confirm-button').click();
    await page.getByText('The passphrase has been changed').waitFor();
    assert.equal(await page.getByTestId('new-passphrase').inputValue(), '');
    await page.getByTestId('lock').click();
    await page.getByTestId('passphrase').fill(UI_PASSPHRASE);
    await page.getByTestId('unlock').click();
    await page.getByTestId('error').waitFor();
    assert.equal(await page.getByTestId('error-code').textContent(), 'IncorrectPassphrase');
    await unlockViaUi(page, NEW_PASSPHRASE);
    assert.equal((await w.keystoreIsOpen()), true);
  });

  it('works from the keyboard alone: lock and unlock with Enter, Tab through the navigation, Escape leaves a confirmation', async () => {
    const { page } = w;
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? null);
    await page.getByTestId('lock').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('unlock').waitFor();
    // The cursor is in the passphrase field, without a click.
    assert.equal(await focused(), 'passphrase');
    await page.keyboard.type('a wrong passphrase');
    await page.keyboard.press('Enter');
    await page.getByTestId('error').waitFor();
    assert.equal(await focused(), 'passphrase', 'after a refusal the cursor is back in the field');
    await page.keyboard.type(NEW_PASSPHRASE);
    await page.keyboard.press('Enter');
    await page.getByTestId('nav-keys').waitFor();

    // Tab walks the navigation in reading order, and Enter follows a link.
    await page.getByTestId('nav-keys').focus();
    const order: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    assert.deepEqual(order, ['nav-tokens', 'nav-audit', 'nav-wizard-byok']);
    await page.getByTestId('nav-keystore').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('change-passphrase-form').waitFor();

    // A confirmation opens with Enter and Escape leaves it, having done nothing.
    await page.getByTestId('current-passphrase').fill(NEW_PASSPHRASE);
    await page.getByTestId('new-passphrase').fill(UI_PASSPHRASE);
    await page.getByTestId('new-passphrase-repeat').fill(UI_PASSPHRASE);
    await page.getByTestId('change-passphrase').focus();
    await page.keyboard.press('Enter');
    await page.locator('dialog[open]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('dialog[open]').waitFor({ state: 'detached' }).catch(() => undefined);
    assert.equal(await page.locator('dialog[open]').count(), 0);
    await page.getByTestId('lock').click();
    await unlockViaUi(page, NEW_PASSPHRASE); // unchanged: the new passphrase of the step before still opens it
  });

  it('leaves nothing open when the window dies: the main process locks one delay after its last report', async (t) => {
    const { page, host } = w;
    if (!host) {
      t.skip("the countdown runs in the app's main process, whose clock a test cannot move; the Chromium run covers it");
      return;
    }
    const { lock, timers } = host.autoLock;
    assert.equal(await w.keystoreIsOpen(), true);
    // The renderer process crashes (Chromium's own crash, through the DevTools protocol).
    const crashed = new Promise<void>((resolve) => page.once('crash', () => resolve()));
    const cdp = await page.context().newCDPSession(page);
    void cdp.send('Page.crash').catch(() => undefined); // never answered: the renderer is gone
    await crashed;
    const left = timers.msToNext;
    assert.ok(left !== undefined && left <= lock.autoLockMinutes * 60 * SECOND, 'the countdown runs on without the window');
    timers.advance(left - 1);
    assert.equal(await w.keystoreIsOpen(), true, 'not before the delay');
    timers.advance(1);
    assert.equal(await w.keystoreIsOpen(), false, 'locked, with no window left to ask for it');
  });

  it('made no outside connection and raised no page error', () => {
    w.browser.assertNoOutsideTraffic();
    assert.deepEqual(w.browser.pageErrors, []);
  });
});
