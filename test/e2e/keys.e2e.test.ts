/**
 * The Keys screens in Chromium against the real handler table, driven like an operator: create a
 * software AES key, an EC_P256 signing key and an HSM AES key (found on the SoftHSM token by
 * pkcs11-tool); filter and search the table; a key's page with its metadata and public key (the
 * fingerprint OpenSSL computes, the saved file the same PEM); alias rules refused on screen,
 * rebinding and deleting; disable/enable; schedule deletion (the date shown is now + N days) and
 * cancel it; a new version; the rotation policy. After every change the keystore itself is asked
 * (DescribeKey and friends through the host's session), so a screen that lies fails.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { KeyMetadata } from '../../src-shared/contract/types';
import type { ErrorCode } from '../../src-shared/errors';
import { openssl } from '../support/openssl';
import { parseListObjects } from '../support/softhsm';
import { SHELLS, openUiWorld, createKeystoreViaUi, ensureTokenLogin, type UiWorld } from './uiSteps';

const DAY_MS = 86_400_000;

for (const shell of SHELLS) describe(`keys screens (${shell.kind})`, { skip: shell.skip }, () => {
  let w: UiWorld;
  /** The three keys the spec creates through the form. */
  const ids = { aes: '', ec: '', hsm: '' };

  /** Vue reports errors in components on the console, not as page errors. */
  const consoleErrors: string[] = [];

  before(async () => {
    const worldOptions = { shell: shell.kind, withHsm: true, hsmPinFromHost: true };
    w = await openUiWorld('keys', worldOptions);
    w.page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    w.page.setDefaultTimeout(10_000);
    await createKeystoreViaUi(w.page);
    await ensureTokenLogin(w, worldOptions);
  });
  after(async () => {
    await w?.close();
  });

  /** Ask the keystore directly, behind the page's back: the truth a screen must match. */
  async function keystore<N extends OperationName>(name: N, input: Record<string, unknown>): Promise<OperationOutput<N>> {
    const result = await w.dispatch(name, input);
    if (!result.ok) assert.fail(`${name} was refused: ${result.error.Code}: ${result.error.Message}`);
    return result.value as unknown as OperationOutput<N>;
  }
  async function keystoreRefuses(name: OperationName, input: Record<string, unknown>, code: ErrorCode): Promise<void> {
    const result = await w.dispatch(name, input);
    assert.equal(result.ok, false, `${name} should be refused`);
    if (!result.ok) assert.equal(result.error.Code, code, result.error.Message);
  }
  const describeKey = async (KeyId: string): Promise<KeyMetadata> => (await keystore('DescribeKey', { KeyId })).KeyMetadata;
  const aliasesOf = async (KeyId: string): Promise<string[]> =>
    (await keystore('ListAliasesByKeyId', { KeyId })).Aliases.Alias.map((a) => a.AliasName).sort();

  /** The dialog that is open now (every ConfirmDialog stays in the DOM, closed). */
  const dialog = (page: Page): Locator => page.locator('dialog[open]');

  async function openKeyPage(keyId: string): Promise<void> {
    await w.page.getByTestId('nav-keys').click();
    await w.page.locator(`[data-testid="key-row"][data-key-id="${keyId}"]`).getByTestId('key-link').click();
    await w.page.getByTestId('detail-key-id').filter({ hasText: keyId }).waitFor();
  }

  /** Fill the create form (the spec, usage and level given), review, confirm; returns the new KeyId. */
  async function createKeyViaUi(opts: { spec: string; usage?: string; hsm?: boolean; description: string; shot?: string }): Promise<string> {
    const { page } = w;
    await page.getByTestId('nav-keys').click();
    await page.getByTestId('create-key-open').click();
    await page.getByTestId('create-spec').selectOption(opts.spec);
    if (opts.usage) await page.getByTestId(`create-usage-${opts.usage}`).check();
    if (opts.hsm) await page.getByTestId('create-protection-HSM').check();
    await page.getByTestId('create-description').fill(opts.description);
    await page.getByTestId('create-review').click();
    const review = dialog(page);
    await review.getByTestId('create-summary').waitFor();
    assert.match((await review.getByTestId('create-summary').textContent()) ?? '', new RegExp(opts.spec));
    if (opts.shot) await w.browser.screenshot(opts.shot);
    await review.getByTestId('confirm-button').click();
    await page.getByTestId('key-created').waitFor({ timeout: 30_000 });
    const keyId = (await page.getByTestId('detail-key-id').textContent()) ?? '';
    assert.match(keyId, /^[0-9a-f-]{36}$/);
    assert.ok(page.url().includes(`/keys/${keyId}`));
    return keyId;
  }

  it('shows an empty keystore, then creates a software AES key through the form', async () => {
    const { page } = w;
    await page.getByTestId('keys-empty').waitFor();
    await w.browser.screenshot('01-keys-empty');
    await page.getByTestId('create-key-open').click();
    await page.getByTestId('create-key-form').waitFor();
    await w.browser.screenshot('02-create-form');
    // The page offers only what the spec allows: AES is ENCRYPT/DECRYPT only.
    assert.equal(await page.getByTestId('create-usage-SIGN/VERIFY').count(), 0);
    await page.getByTestId('create-cancel').click();

    ids.aes = await createKeyViaUi({ spec: 'AES_256', description: 'ceremony data key', shot: '03-create-review' });
    const m = await describeKey(ids.aes);
    assert.equal(m.KeySpec, 'AES_256');
    assert.equal(m.KeyUsage, 'ENCRYPT/DECRYPT');
    assert.equal(m.ProtectionLevel, 'SOFTWARE');
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.Description, 'ceremony data key');
    assert.equal(await page.getByTestId('detail-spec').textContent(), 'AES_256');
    assert.equal(await page.getByTestId('detail-state').textContent(), 'Enabled');
    assert.equal(await page.getByTestId('public-key').count(), 0, 'a symmetric key has no public key to show');
    await w.browser.screenshot('04-aes-key-page');
  });

  it('creates an EC_P256 SIGN/VERIFY key, and an HSM AES key that is really on the token', async () => {
    const { page } = w;
    // ECIES in a token is refused up front: the form does not offer HSM for EC encryption.
    await page.getByTestId('nav-keys').click();
    await page.getByTestId('create-key-open').click();
    await page.getByTestId('create-spec').selectOption('EC_P256');
    await page.getByTestId('create-usage-ENCRYPT/DECRYPT').check();
    assert.equal(await page.getByTestId('create-protection-HSM').isDisabled(), true);
    await page.getByTestId('create-hsm-refusal').waitFor();
    await page.getByTestId('create-cancel').click();

    ids.ec = await createKeyViaUi({ spec: 'EC_P256', usage: 'SIGN/VERIFY', description: 'release signing 2026' });
    const ec = await describeKey(ids.ec);
    assert.equal(ec.KeySpec, 'EC_P256');
    assert.equal(ec.KeyUsage, 'SIGN/VERIFY');
    assert.equal(ec.ProtectionLevel, 'SOFTWARE');

    ids.hsm = await createKeyViaUi({ spec: 'AES_256', hsm: true, description: 'token data key', shot: '05-create-review-hsm' });
    const hsmKey = await describeKey(ids.hsm);
    assert.equal(hsmKey.ProtectionLevel, 'HSM');
    assert.equal(await page.getByTestId('detail-protection').textContent(), 'HSM');
    // OpenSC, asked independently, finds the key's secret object on the token, sensitive.
    const objects = parseListObjects(w.hsm!.pkcs11Tool(['--list-objects', '--type', 'secrkey']));
    const onToken = objects.find((o) => o.label?.startsWith(`keyroom/${ids.hsm}/`));
    assert.ok(onToken, `no token object for ${ids.hsm}: ${JSON.stringify(objects)}`);
    assert.match(onToken.kind, /Secret Key Object; AES/);
    assert.ok(onToken.access.includes('sensitive'), onToken.access.join(','));
    await w.browser.screenshot('06-hsm-key-page');
  });

  it('creates an alias; refuses a bad name and a duplicate on screen; rebinds and deletes with confirmation', async () => {
    const { page } = w;
    await openKeyPage(ids.aes);
    const aliases = page.getByTestId('aliases');
    await aliases.getByTestId('alias-new').fill('alias/ceremony-data');
    await aliases.getByTestId('alias-create').click();
    await aliases.getByTestId('alias-created').waitFor();
    assert.deepEqual(await aliasesOf(ids.aes), ['alias/ceremony-data']);
    assert.equal(await page.getByTestId('key-title').textContent(), 'alias/ceremony-data');

    // Without the prefix, and with characters outside the rules: refused, said on screen, nothing made.
    for (const bad of ['ceremony-data', 'alias/bad name!', 'alias/']) {
      await aliases.getByTestId('alias-new').fill(bad);
      await aliases.getByTestId('alias-create').click();
      await aliases.getByTestId('error-code').filter({ hasText: 'InvalidParameter.AliasName' }).waitFor();
      assert.match((await aliases.getByTestId('error').textContent()) ?? '', /alias name is not allowed/);
      if (bad === 'ceremony-data') await w.browser.screenshot('07-alias-refused');
    }
    assert.deepEqual(await aliasesOf(ids.aes), ['alias/ceremony-data']);

    // Keyboard only: type the name and press Enter in the field.
    await aliases.getByTestId('alias-new').fill('alias/rotating');
    await aliases.getByTestId('alias-new').press('Enter');
    await aliases.locator('[data-testid="alias-row"][data-alias="alias/rotating"]').waitFor();

    // The same alias for another key: refused as a duplicate, shown where it was typed.
    await openKeyPage(ids.ec);
    const ecAliases = page.getByTestId('aliases');
    await ecAliases.getByTestId('alias-new').fill('alias/ceremony-data');
    await ecAliases.getByTestId('alias-create').click();
    await ecAliases.getByTestId('error-code').filter({ hasText: 'AlreadyExists.Alias' }).waitFor();
    assert.match((await ecAliases.getByTestId('error').textContent()) ?? '', /already in use/);
    await w.browser.screenshot('08-alias-duplicate');
    assert.deepEqual(await aliasesOf(ids.ec), []);
    await ecAliases.getByTestId('alias-new').fill('alias/release/signing-2026');
    await ecAliases.getByTestId('alias-create').click();
    await ecAliases.getByTestId('alias-created').waitFor();
    assert.deepEqual(await aliasesOf(ids.ec), ['alias/release/signing-2026']);

    // Point alias/rotating at the HSM key: confirmed, and the keystore agrees.
    await openKeyPage(ids.aes);
    await page.getByTestId('alias-update-alias/rotating').click();
    const rebind = dialog(page);
    await rebind.getByTestId('alias-target').selectOption(ids.hsm);
    await w.browser.screenshot('09-alias-rebind-confirm');
    await rebind.getByTestId('confirm-button').click();
    await page.getByTestId('alias-done').waitFor();
    assert.deepEqual(await aliasesOf(ids.aes), ['alias/ceremony-data']);
    assert.deepEqual(await aliasesOf(ids.hsm), ['alias/rotating']);
    assert.equal(await page.locator('[data-testid="alias-row"][data-alias="alias/rotating"]').count(), 0);

    // Delete it from the HSM key's page: Cancel first changes nothing; then confirmed, it is gone.
    await openKeyPage(ids.hsm);
    await page.getByTestId('alias-delete-alias/rotating').click();
    await dialog(page).getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(await aliasesOf(ids.hsm), ['alias/rotating']);
    await page.getByTestId('alias-delete-alias/rotating').click();
    await w.browser.screenshot('10-alias-delete-confirm');
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('no-aliases').waitFor();
    await keystoreRefuses('DescribeKey', { KeyId: 'alias/rotating' }, 'NotFound.Alias');
    assert.equal((await describeKey(ids.hsm)).KeyState, 'Enabled', 'the key is untouched');
  });

  it('shows the public key, whose fingerprint is the one OpenSSL computes, and saves the same PEM', async () => {
    const { page } = w;
    await openKeyPage(ids.ec);
    assert.equal(await page.getByTestId('detail-spec').textContent(), 'EC_P256');
    assert.equal(await page.getByTestId('detail-usage').textContent(), 'SIGN/VERIFY');
    assert.equal(await page.getByTestId('detail-description').textContent(), 'release signing 2026');
    const versions = (await keystore('ListKeyVersions', { KeyId: ids.ec })).KeyVersions.KeyVersion;
    assert.equal(versions.length, 1);
    const versionId = versions[0]!.KeyVersionId;
    const { PublicKey } = await keystore('GetPublicKey', { KeyId: ids.ec, KeyVersionId: versionId });

    const shownPem = (await page.getByTestId('public-key-pem').textContent()) ?? '';
    assert.equal(shownPem.trim(), PublicKey.trim());
    const der = openssl(['pkey', '-pubin', '-outform', 'DER'], Buffer.from(PublicKey));
    const expected = createHash('sha256').update(der).digest('hex');
    assert.equal((await page.getByTestId('fingerprint').textContent())?.trim(), expected);

    // The path is prefilled next to the keystore, named by the alias and the version.
    const path = page.getByTestId('public-key-path');
    assert.equal(await path.inputValue(), join(w.dir, `release-signing-2026-${versionId.slice(0, 8)}.pub.pem`));
    await page.getByTestId('public-key-save').click();
    await page.getByTestId('written-files').waitFor();
    const target = await path.inputValue();
    const written = readFileSync(target);
    assert.equal(written.toString('utf8').trim(), PublicKey.trim());
    assert.ok(((await page.getByTestId('written-files').textContent()) ?? '').includes(createHash('sha256').update(written).digest('hex')));
    await page.getByTestId('public-key-saved').waitFor();
    await w.browser.screenshot('11-public-key-saved');

    // Saving again never overwrites: refused on screen, the file unchanged.
    await page.getByTestId('public-key-save').click();
    await page.getByTestId('public-key').getByTestId('error-code').filter({ hasText: 'AlreadyExists.File' }).waitFor();
    assert.deepEqual(readFileSync(target), written);

    // Rotation does not apply to an EC key: the page says why instead of offering it.
    await page.getByTestId('rotation-refusal').waitFor();
  });

  it('disables (confirmed) and enables a key; the keystore agrees', async () => {
    const { page } = w;
    await openKeyPage(ids.aes);
    await page.getByTestId('disable-key').click();
    await dialog(page).getByTestId('confirm-button').waitFor();
    await w.browser.screenshot('12-disable-confirm');
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('detail-state').filter({ hasText: 'Disabled' }).waitFor();
    assert.equal((await describeKey(ids.aes)).KeyState, 'Disabled');
    await w.browser.screenshot('13-disabled');
  });

  it('filters the table by spec, usage, state, protection and alias, and finds a key by its alias', async () => {
    const { page } = w;
    await page.getByTestId('nav-keys').click();
    const rows = page.getByTestId('key-row');
    await rows.first().waitFor();
    const shownIds = async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key-id') ?? ''))).sort();
    assert.deepEqual(await shownIds(), [ids.aes, ids.ec, ids.hsm].sort());
    await w.browser.screenshot('14-keys-table');

    await page.getByTestId('filter-spec').selectOption('EC_P256');
    assert.deepEqual(await shownIds(), [ids.ec]);
    await page.getByTestId('filter-spec').selectOption('AES_256');
    assert.deepEqual(await shownIds(), [ids.aes, ids.hsm].sort());
    await page.getByTestId('filter-protection').selectOption('HSM');
    assert.deepEqual(await shownIds(), [ids.hsm]);
    await page.getByTestId('filters-clear').click();

    await page.getByTestId('filter-state').selectOption('Disabled');
    assert.deepEqual(await shownIds(), [ids.aes]);
    await page.getByTestId('filter-state').selectOption('PendingDeletion');
    await page.getByTestId('keys-none-match').waitFor();
    await page.getByTestId('filters-clear').click();

    await page.getByTestId('filter-usage').selectOption('SIGN/VERIFY');
    assert.deepEqual(await shownIds(), [ids.ec]);
    await page.getByTestId('filters-clear').click();
    await page.getByTestId('filter-alias').selectOption('without');
    assert.deepEqual(await shownIds(), [ids.hsm]);
    await page.getByTestId('filters-clear').click();

    await page.getByTestId('keys-search').fill('release/sign');
    assert.deepEqual(await shownIds(), [ids.ec]);
    assert.match((await page.getByTestId('keys-shown').textContent()) ?? '', /Showing 1 of 3/);
    await w.browser.screenshot('15-keys-search-alias');
    await page.getByTestId('keys-search').fill('ceremony-data');
    assert.deepEqual(await shownIds(), [ids.aes]);
    await page.getByTestId('filters-clear').click();
  });

  it('enables the disabled key again', async () => {
    const { page } = w;
    await openKeyPage(ids.aes);
    await page.getByTestId('enable-key').click();
    await page.getByTestId('detail-state').filter({ hasText: 'Enabled' }).waitFor();
    assert.equal((await describeKey(ids.aes)).KeyState, 'Enabled');
  });

  it('schedules a deletion in N days, showing that date, then cancels it', async () => {
    const { page } = w;
    await openKeyPage(ids.hsm);
    await page.getByTestId('schedule-deletion').click();
    const confirm = dialog(page);
    await confirm.getByTestId('deletion-days').selectOption('9');
    const previewIso = (await confirm.getByTestId('deletion-preview-date').getAttribute('datetime')) ?? '';
    assert.ok(Math.abs(Date.parse(previewIso) - (Date.now() + 9 * DAY_MS)) < 2 * 60_000, `preview ${previewIso} is not now + 9 days`);
    assert.equal(await confirm.getByTestId('deletion-preview-date').textContent(), `${previewIso.slice(0, 16).replace('T', ' ')} UTC`);
    // Not until the KeyId's first characters are typed.
    assert.equal(await confirm.getByTestId('confirm-button').isDisabled(), true);
    await confirm.getByTestId('confirm-typed').fill(ids.hsm.slice(0, 8));
    await w.browser.screenshot('16-schedule-deletion-confirm');
    const before = Date.now();
    await confirm.getByTestId('confirm-button').click();
    await page.getByTestId('delete-date').waitFor();

    const m = await describeKey(ids.hsm);
    assert.equal(m.KeyState, 'PendingDeletion');
    assert.ok(m.DeleteDate);
    assert.ok(Math.abs(Date.parse(m.DeleteDate) - (before + 9 * DAY_MS)) < 2 * 60_000, `DeleteDate ${m.DeleteDate} is not now + 9 days`);
    assert.equal(await page.getByTestId('delete-date').getAttribute('datetime'), m.DeleteDate, 'the page shows the keystore\'s date');
    assert.equal(await page.getByTestId('detail-state').textContent(), 'Pending deletion');
    await w.browser.screenshot('17-pending-deletion');

    // The table shows it too.
    await page.getByTestId('nav-keys').click();
    await page.getByTestId('filter-state').selectOption('PendingDeletion');
    assert.equal(await page.getByTestId('key-row').getAttribute('data-key-id'), ids.hsm);

    await openKeyPage(ids.hsm);
    await page.getByTestId('cancel-deletion').click();
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('detail-state').filter({ hasText: 'Enabled' }).waitFor();
    const after = await describeKey(ids.hsm);
    assert.equal(after.KeyState, 'Enabled');
    assert.equal(after.DeleteDate, undefined);
    assert.equal(await page.getByTestId('delete-date').count(), 0);
  });

  it('creates a new version (confirmed) and changes the rotation policy', async () => {
    const { page } = w;
    await openKeyPage(ids.aes);
    const before = await describeKey(ids.aes);
    await page.getByTestId('create-version').click();
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('version-created').waitFor();
    const versions = (await keystore('ListKeyVersions', { KeyId: ids.aes })).KeyVersions.KeyVersion;
    assert.equal(versions.length, 2);
    const after = await describeKey(ids.aes);
    assert.notEqual(after.PrimaryKeyVersion, before.PrimaryKeyVersion);
    assert.equal(await page.getByTestId('version-row').count(), 2);
    assert.equal(
      await page.locator('[data-testid="version-row"]').filter({ has: page.getByTestId('primary-version') }).getAttribute('data-version-id'),
      after.PrimaryKeyVersion,
    );

    await page.getByTestId('rotation-enabled').check();
    await page.getByTestId('rotation-days').fill('90');
    await page.getByTestId('rotation-save').click();
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('rotation-done').waitFor();
    const rotated = await describeKey(ids.aes);
    assert.equal(rotated.AutomaticRotation, 'Enabled');
    assert.equal(rotated.RotationInterval, `${90 * 86400}s`);
    assert.equal(await page.getByTestId('rotation-interval').textContent(), '90 days');
    assert.equal(await page.getByTestId('rotation-next').locator('time').getAttribute('datetime'), rotated.NextRotationDate);
    await w.browser.screenshot('18-versions-rotation');
  });

  it('cancels a software RSA_4096 key from its progress panel: said on screen, nothing written', async () => {
    const { page } = w;
    const keysBefore = (await keystore('ListKeys', {})).TotalCount;
    const entriesBefore = (await keystore('VerifyAuditLog', {})).Entries;

    await page.getByTestId('nav-keys').click();
    await page.getByTestId('create-key-open').click();
    await page.getByTestId('create-spec').selectOption('RSA_4096');
    await page.getByTestId('create-usage-SIGN/VERIFY').check();
    await page.getByTestId('create-protection-SOFTWARE').check();
    await page.getByTestId('create-description').fill('cancelled while generating');
    await page.getByTestId('create-review').click();
    await dialog(page).getByTestId('create-summary').waitFor();

    // Cancel is pressed the moment the progress panel appears, from inside the page. A click sent
    // by Playwright could come too late: software RSA generation is synchronous (it blocks the
    // event loop of the process running the handlers, which for the Chromium shell is this test
    // process, Playwright's client included), so such a click may only go out after generation,
    // racing the commit. Pressed here, CancelOperation leaves right behind CreateKey, and
    // CreateKey checks its signal before generating, after, and inside its transaction just
    // before the commit: wherever the cancel is read, nothing is written.
    const cancelled = await page.evaluateHandle(() => ({
      panel: new Promise<string>((resolve) => {
        const observer = new MutationObserver(() => {
          const button = document.querySelector<HTMLButtonElement>('[data-testid="progress"] [data-testid="cancel-operation"]');
          if (!button) return;
          observer.disconnect();
          const label = document.querySelector('[data-testid="progress"] strong')?.textContent ?? '';
          button.click();
          resolve(label);
        });
        observer.observe(document.body, { childList: true, subtree: true });
      }),
    }));
    await dialog(page).getByTestId('confirm-button').click();
    assert.equal(await cancelled.evaluate((c) => c.panel), 'Creating the key');
    await cancelled.dispose();

    const form = page.getByTestId('create-key-form');
    await form.getByTestId('error-code').filter({ hasText: /^Cancelled$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await form.getByTestId('error').locator('strong').textContent(), 'Cancelled. Nothing was written.');
    await w.browser.screenshot('19-create-cancelled');
    // The form stays, ready for another try; no key page was opened.
    assert.equal(await page.getByTestId('progress').count(), 0);
    assert.equal(await page.getByTestId('create-review').isEnabled(), true);
    assert.equal(await page.getByTestId('key-created').count(), 0);
    assert.ok(!page.url().includes('/keys/'), page.url());

    // The keystore agrees: no new key, and no audit entry.
    assert.equal((await keystore('ListKeys', {})).TotalCount, keysBefore);
    assert.equal((await keystore('VerifyAuditLog', {})).Entries, entriesBefore);
    await page.getByTestId('create-cancel').click();
    await page.getByTestId('keys-table').waitFor();
  });

  it('made no outside connection and raised no page error', () => {
    w.browser.assertNoOutsideTraffic();
    assert.deepEqual(w.browser.pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
