/**
 * The rotation wizard and the due-rotation banner in Chromium against the real handler table,
 * driven like an operator: (a) an AES_256 key behind alias/app with two files each holding a
 * CiphertextBlob made under it; the wizard rotates alias/app (the previous key left enabled) and
 * re-encrypts both files: each <file>.reencrypted decrypts to the original plaintext under the new
 * key, the originals are unchanged, and the alias's history on the key page shows the RotateAlias
 * entry. (b) An EXTERNAL AES key behind alias/ext: the wizard rotates it, and the new key's material
 * is imported in the same sitting (wrapped here by OpenSSL with the public key shown on screen):
 * the new key is Enabled and alias/ext encrypts with it. (c) A key with a 7-day automatic rotation,
 * the host's clock moved past its date: locking and unlocking shows it due, Rotate now makes its
 * second version, and the next unlock shows nothing due.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { OperationName, OperationOutput } from '../../src-shared/contract/operations';
import { openssl, Scratch } from '../support/openssl';
import { SHELLS, openUiWorld, createKeystoreViaUi, unlockViaUi, type UiWorld } from './uiSteps';

const DAY_MS = 86_400_000;

/** Wrap key material for ImportKeyMaterial with RSAES_OAEP_SHA_256, as an operator would with OpenSSL. */
function wrapOaepSha256(publicKeyBase64: string, material: Buffer): string {
  const scratch = new Scratch();
  try {
    const pub = scratch.file('wrapping.der', Buffer.from(publicKeyBase64, 'base64'));
    const mat = scratch.file('material.bin', material);
    const wrapped = openssl([
      'pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', pub, '-in', mat,
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256',
    ]);
    return wrapped.toString('base64');
  } finally {
    scratch.remove();
  }
}

for (const shell of SHELLS) describe(`rotation wizard and due rotations (${shell.kind})`, { skip: shell.skip }, () => {
  let w: UiWorld;
  const consoleErrors: string[] = [];

  before(async () => {
    w = await openUiWorld('rotate', { shell: shell.kind });
    w.page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    w.page.setDefaultTimeout(10_000);
    await createKeystoreViaUi(w.page);
  });
  after(async () => {
    await w?.close();
  });

  async function keystore<N extends OperationName>(name: N, input: Record<string, unknown>): Promise<OperationOutput<N>> {
    const result = await w.dispatch(name, input);
    if (!result.ok) assert.fail(`${name} was refused: ${result.error.Code}: ${result.error.Message}`);
    return result.value as unknown as OperationOutput<N>;
  }
  const dialog = (page: Page): Locator => page.locator('dialog[open]');
  const text = async (l: Locator): Promise<string> => ((await l.textContent()) ?? '').trim();
  const step = async (): Promise<string> => (await w.page.getByTestId('rotate-wizard').getAttribute('data-step')) ?? '';

  /** Open the wizard afresh and choose the alias; waits for the key it names. */
  async function openWizardOn(alias: string, keyId: string): Promise<void> {
    const { page } = w;
    await page.getByTestId('nav-wizard-rotate').click();
    await page.getByTestId('rotate-wizard').waitFor();
    if ((await step()) !== 'alias') {
      await page.getByTestId('wizard-restart').click();
    }
    assert.equal(await step(), 'alias');
    await page.getByTestId('rotate-alias').selectOption(alias);
    await page.getByTestId('rotate-current-key-id').filter({ hasText: keyId }).waitFor();
  }

  it('(a) rotates alias/app and re-encrypts two files under the new key; the originals are unchanged', async () => {
    const { page } = w;
    // Set up through the handler table: the key, its alias, and two files of ciphertext under it.
    const previous = (await keystore('CreateKey', { KeySpec: 'AES_256', Description: 'application data key' })).KeyMetadata.KeyId;
    await keystore('CreateAlias', { AliasName: 'alias/app', KeyId: previous });
    const plaintexts = ['first secret: database password', 'second secret: API token ✓'];
    const files = plaintexts.map((_, i) => join(w.dir, `secret-${i + 1}.b64`));
    for (const [i, p] of plaintexts.entries()) {
      const blob = (await keystore('Encrypt', { KeyId: 'alias/app', Plaintext: p })).CiphertextBlob;
      writeFileSync(files[i]!, `${blob}\n`);
    }
    const originals = files.map((f) => readFileSync(f));

    // Step 1: the alias, the key it names, its history.
    await page.getByTestId('nav-wizard-rotate').click();
    await page.getByTestId('rotate-wizard').waitFor();
    assert.equal(await step(), 'alias');
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await page.getByTestId('rotate-alias').selectOption('alias/app');
    await page.getByTestId('rotate-current-key-id').filter({ hasText: previous }).waitFor();
    assert.equal(await text(page.getByTestId('rotate-current-spec')), 'AES_256');
    assert.equal(await text(page.getByTestId('rotate-current-state')), 'Enabled');
    const historyBefore = page.getByTestId('alias-history-row');
    assert.equal(await historyBefore.count(), 1);
    assert.equal(await historyBefore.first().getAttribute('data-operation'), 'CreateAlias');
    await w.browser.screenshot('01-alias');
    await page.getByTestId('wizard-next').click();

    // Step 2: both consequences said; nothing chosen to happen to the previous key.
    assert.equal(await step(), 'options');
    assert.equal(await page.getByTestId('rotate-fate-keep').isChecked(), true);
    assert.match(await text(page.getByTestId('rotate-disable-consequence')), /cannot be decrypted until it is enabled again/);
    assert.match(await text(page.getByTestId('rotate-delete-consequence')), /gone forever/);
    // Deletion asks for 7 to 30 days; out of range holds Next back.
    await page.getByTestId('rotate-fate-delete').check();
    await page.getByTestId('rotate-deletion-days').fill('5');
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await page.getByTestId('rotate-deletion-days').fill('14');
    assert.equal(await page.getByTestId('wizard-next').isEnabled(), true);
    await w.browser.screenshot('02-options-deletion');
    await page.getByTestId('rotate-fate-keep').check();
    await page.getByTestId('rotate-description').fill('application data key, 2026');
    await w.browser.screenshot('03-options');
    await page.getByTestId('wizard-next').click();

    // Step 3: review and confirm (no typing: nothing is to be deleted).
    assert.equal(await step(), 'review');
    assert.equal(await text(page.getByTestId('rotate-review-alias')), 'alias/app');
    assert.match(await text(page.getByTestId('rotate-review-previous')), /Left as it is/);
    await w.browser.screenshot('04-review');
    await page.getByTestId('wizard-commit').click();
    const confirm = dialog(page);
    assert.equal(await confirm.getByTestId('confirm-typed').count(), 0);
    assert.match(await text(confirm.getByTestId('rotate-confirm-previous')), /stays as it is/);
    await w.browser.screenshot('05-confirm');
    await confirm.getByTestId('confirm-button').click();

    // Step 4: previous → new, the new key's metadata.
    await page.getByTestId('rotate-result').waitFor();
    assert.equal(await step(), 'result');
    assert.equal(await text(page.getByTestId('rotate-previous-key-id')), previous);
    const next = await text(page.getByTestId('rotate-new-key-id'));
    assert.match(next, /^[0-9a-f-]{36}$/);
    assert.notEqual(next, previous);
    assert.equal(await page.getByTestId('rotate-new-state').getAttribute('data-state'), 'Enabled');
    assert.equal(await page.getByTestId('rotate-import').count(), 0);
    await w.browser.screenshot('06-result');
    const aliasNow = (await keystore('ListAliases', {})).Aliases.Alias.find((a) => a.AliasName === 'alias/app');
    assert.equal(aliasNow?.KeyId, next);
    assert.equal((await keystore('DescribeKey', { KeyId: previous })).KeyMetadata.KeyState, 'Enabled');
    assert.equal((await keystore('DescribeKey', { KeyId: next })).KeyMetadata.Description, 'application data key, 2026');

    // Step 5: the two files, re-encrypted beside the originals.
    await page.getByTestId('rotate-go-reencrypt').click();
    assert.equal(await step(), 'reencrypt');
    await page.getByTestId('rotate-file').first().fill(files[0]!);
    await page.getByTestId('rotate-add-file').click();
    // A file that is not there: refused where it was asked, and nothing written for the other.
    await page.getByTestId('rotate-file').nth(1).fill(join(w.dir, 'no-such-file.b64'));
    await page.getByTestId('rotate-reencrypt').click();
    const step5 = page.getByTestId('rotate-step-reencrypt');
    await step5.getByTestId('error-code').filter({ hasText: 'InvalidParameter.InputFile' }).waitFor();
    assert.match(await text(step5.getByTestId('error')), /no-such-file\.b64/);
    await w.browser.screenshot('07a-reencrypt-refused');
    assert.equal(existsSync(`${files[0]!}.reencrypted`), false);
    await page.getByTestId('rotate-file').nth(1).fill(files[1]!);
    await w.browser.screenshot('07-reencrypt-files');
    await page.getByTestId('rotate-reencrypt').click();
    await page.getByTestId('rotate-reencrypted').waitFor({ timeout: 30_000 });
    await w.browser.screenshot('08-reencrypted');

    const rows = page.getByTestId('rotate-reencrypted-row');
    assert.equal(await rows.count(), 2);
    for (const [i, file] of files.entries()) {
      const out = `${file}.reencrypted`;
      assert.equal(await text(rows.nth(i).getByTestId('rotate-reencrypted-output')), out);
      assert.ok(existsSync(out), `${out} was not written`);
      const written = readFileSync(out);
      assert.equal(await text(rows.nth(i).getByTestId('rotate-reencrypted-sha256')), createHash('sha256').update(written).digest('hex'));
      assert.equal(await rows.nth(i).getByTestId('rotate-reencrypted-key').getAttribute('data-key-id'), next);
      const decrypted = await keystore('Decrypt', { CiphertextBlob: written.toString('utf8').trim() });
      assert.equal(decrypted.Plaintext, plaintexts[i]);
      assert.equal(decrypted.KeyId, next);
      assert.deepEqual(readFileSync(file), originals[i], `${file} was changed`);
    }

    // The key page: alias/app's history shows the rotation, from the previous key to this one.
    await page.getByTestId('nav-keys').click();
    await page.locator(`[data-testid="key-row"][data-key-id="${next}"]`).getByTestId('key-link').click();
    await page.getByTestId('detail-key-id').filter({ hasText: next }).waitFor();
    await page.getByTestId('alias-history-alias/app').click();
    const panel = page.getByTestId('alias-history-panel-alias/app');
    const rotateRow = panel.locator('[data-testid="alias-history-row"][data-operation="RotateAlias"]');
    await rotateRow.waitFor();
    assert.equal(await text(rotateRow.getByTestId('alias-history-key')), next);
    assert.equal(await text(rotateRow.getByTestId('alias-history-previous')), previous);
    assert.equal(await panel.locator('[data-testid="alias-history-row"][data-operation="CreateAlias"]').count(), 1);
    await w.browser.screenshot('09-key-page-alias-history');
  });

  it('(b) rotates an EXTERNAL key and imports the new key\'s material in the same sitting', async () => {
    const { page } = w;
    // An EXTERNAL AES key with imported material, behind alias/ext.
    const previous = (await keystore('CreateKey', { KeySpec: 'AES_256', Origin: 'EXTERNAL', Description: 'cloud-held key' })).KeyMetadata.KeyId;
    const firstParams = await keystore('GetParametersForImport', { KeyId: previous, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    await keystore('ImportKeyMaterial', {
      KeyId: previous,
      EncryptedKeyMaterial: wrapOaepSha256(firstParams.PublicKey, randomBytes(32)),
      ImportToken: firstParams.ImportToken,
      KeyMaterialExpireUnix: 0,
    });
    assert.equal((await keystore('DescribeKey', { KeyId: previous })).KeyMetadata.KeyState, 'Enabled');
    await keystore('CreateAlias', { AliasName: 'alias/ext', KeyId: previous });

    await openWizardOn('alias/ext', previous);
    assert.equal(await text(page.getByTestId('rotate-current-origin')), 'EXTERNAL');
    await w.browser.screenshot('10-external-alias');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-next').click();
    assert.match(await text(page.getByTestId('rotate-review-new')), /EXTERNAL/);
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('rotate-result').waitFor();
    const next = await text(page.getByTestId('rotate-new-key-id'));
    assert.equal(await page.getByTestId('rotate-new-state').getAttribute('data-state'), 'PendingImport');
    // Not re-encryptable yet: it has no material.
    assert.equal(await page.getByTestId('rotate-go-reencrypt').count(), 0);
    await w.browser.screenshot('11-external-result-pending-import');

    // The import parameters for the new key, on screen.
    assert.equal(await page.getByTestId('rotate-wrapping-algorithm').inputValue(), 'RSAES_OAEP_SHA_256');
    await page.getByTestId('rotate-get-parameters').click();
    await page.getByTestId('rotate-import-public-key').waitFor();
    const publicKey = await text(page.getByTestId('rotate-import-public-key'));
    assert.match(await text(page.getByTestId('rotate-import-token')), /\S/);
    assert.match(await text(page.getByTestId('rotate-import-expiry')), /UTC$/);
    // It is an RSA 2048 public key, as OpenSSL reads it.
    assert.match(openssl(['pkey', '-pubin', '-inform', 'DER', '-noout', '-text'], Buffer.from(publicKey, 'base64')).toString('utf8'), /2048 bit/);
    await w.browser.screenshot('12-import-parameters');

    // Wrapped elsewhere (here: OpenSSL), pasted back.
    await page.getByTestId('rotate-import-material').fill('not base64!');
    assert.equal(await page.getByTestId('rotate-import-submit').isDisabled(), true);
    await page.getByTestId('rotate-import-material').fill(wrapOaepSha256(publicKey, randomBytes(32)));
    assert.equal(await page.getByTestId('rotate-import-expire').inputValue(), '0');
    await w.browser.screenshot('13-import-material');
    await page.getByTestId('rotate-import-submit').click();
    await page.getByTestId('rotate-imported').waitFor();
    assert.equal(await page.getByTestId('rotate-new-state').getAttribute('data-state'), 'Enabled');
    // Now symmetric with material: the re-encryption step is offered.
    await page.getByTestId('rotate-go-reencrypt').waitFor();
    await w.browser.screenshot('14-imported');

    assert.equal((await keystore('DescribeKey', { KeyId: next })).KeyMetadata.KeyState, 'Enabled');
    const encrypted = await keystore('Encrypt', { KeyId: 'alias/ext', Plaintext: 'through the alias' });
    assert.equal(encrypted.KeyId, next);
    assert.equal((await keystore('Decrypt', { CiphertextBlob: encrypted.CiphertextBlob })).Plaintext, 'through the alias');
  });

  it('(b2) scheduling the previous key\'s deletion asks for the alias to be typed', async () => {
    const { page } = w;
    const previous = (await keystore('CreateKey', { KeySpec: 'AES_256', Description: 'to be retired' })).KeyMetadata.KeyId;
    await keystore('CreateAlias', { AliasName: 'alias/retire', KeyId: previous });
    await openWizardOn('alias/retire', previous);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('rotate-fate-delete').check();
    await page.getByTestId('rotate-deletion-days').fill('7');
    await page.getByTestId('wizard-next').click();
    assert.match(await text(page.getByTestId('rotate-review-previous')), /Deletion scheduled in 7 days/);
    await page.getByTestId('wizard-commit').click();
    const confirm = dialog(page);
    assert.equal(await confirm.getByTestId('confirm-button').isDisabled(), true);
    await confirm.getByTestId('confirm-typed').fill('alias/retir');
    assert.equal(await confirm.getByTestId('confirm-button').isDisabled(), true);
    await confirm.getByTestId('confirm-typed').fill('alias/retire');
    await w.browser.screenshot('15-confirm-deletion');
    await confirm.getByTestId('confirm-button').click();
    await page.getByTestId('rotate-result').waitFor();
    assert.match(await text(page.getByTestId('rotate-done')), /to be deleted on/);
    // Re-encryption is offered, with the warning that the previous key no longer decrypts.
    assert.match(await text(page.getByTestId('rotate-previous-unusable')), /pending deletion/);
    const described = (await keystore('DescribeKey', { KeyId: previous })).KeyMetadata;
    assert.equal(described.KeyState, 'PendingDeletion');
    await w.browser.screenshot('16-result-deletion-scheduled');
  });

  it('(c) shows automatic rotations due at unlock; Rotate now makes the second version once', { skip: shell.kind === 'electron' ? "the test cannot move the Electron app's clock" : false }, async () => {
    const { page } = w;
    const host = w.host!;
    const keyId = (
      await keystore('CreateKey', { KeySpec: 'AES_256', Description: 'weekly rotating key', EnableAutomaticRotation: true, RotationInterval: '7d' })
    ).KeyMetadata.KeyId;
    assert.equal((await keystore('ListDueRotations', {})).Keys.length, 0);

    // A week and a day later, the keystore is opened again.
    await page.getByTestId('lock').click();
    await page.getByTestId('unlock').waitFor();
    host.clock.advance(8 * DAY_MS);
    await unlockViaUi(page);
    const banner = page.getByTestId('due-rotations');
    await banner.waitFor();
    const row = banner.locator(`[data-testid="due-row"][data-key-id="${keyId}"]`);
    await row.waitFor();
    assert.equal(await banner.getByTestId('due-row').count(), 1);
    assert.match(await text(row), /weekly rotating key/);
    await w.browser.screenshot('17-due-banner');

    // Rotate now: confirmed; cancelling first changes nothing.
    await banner.getByTestId('due-rotate').click();
    await dialog(page).getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await keystore('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion.length, 1);
    await banner.getByTestId('due-rotate').click();
    await w.browser.screenshot('18-due-confirm');
    await dialog(page).getByTestId('confirm-button').click();
    await banner.getByTestId('due-rotated').waitFor();
    assert.equal(await banner.getByTestId('due-rotated-row').count(), 1);
    assert.equal(await banner.getByTestId('due-rotated-row').getAttribute('data-key-id'), keyId);
    assert.equal(await banner.getByTestId('due-row').count(), 0);
    assert.equal(await banner.getByTestId('due-deferred').count(), 0);
    await w.browser.screenshot('19-due-rotated');
    assert.equal((await keystore('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion.length, 2);

    // The next unlock: nothing due, no banner.
    await page.getByTestId('lock').click();
    await page.getByTestId('unlock').waitFor();
    await unlockViaUi(page);
    await page.locator('[data-testid="due-rotations-slot"][data-checked="yes"]').waitFor({ state: 'attached' });
    assert.equal(await page.getByTestId('due-rotations').count(), 0);
    assert.equal((await keystore('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion.length, 2);
    await w.browser.screenshot('20-nothing-due');
    host.clock.reset();
  });

  it('made no outside connection and raised no page error', () => {
    w.browser.assertNoOutsideTraffic();
    assert.deepEqual(w.browser.pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
