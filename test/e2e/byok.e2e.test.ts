/**
 * The BYOK wizard in Chromium against the real handler table and a real SoftHSM token, driven like
 * an operator, in rehearsal mode (Keyroom plays the cloud): Alibaba Cloud AES_256 from material
 * generated in the HSM (RSAES_OAEP_SHA_1: SoftHSM's OAEP wrap takes SHA-1 only), and AWS EC_P256
 * from material generated in the keystore (RSA_AES_KEY_WRAP_SHA_256). Each run ends with the
 * rehearsal check ("Check as the cloud would") saying Matches; then the files on disk are checked
 * here: the folder holds exactly the files listed, each one's SHA-256 (node:crypto) is what the
 * screen and manifest.json say, the manifest names the target, key spec and KCV; and OpenSSL
 * unwraps the output with the stand-in private key (taken from the host's session, Chromium only)
 * and gives the same KCV. A second run into the same folder (the same key, chosen among the
 * existing ones) is refused with AlreadyExists.File and writes and records nothing. Huawei, Google,
 * Azure (KEK id, no token) and Alibaba's unconfirmed SM2PKE (its encoding setting switched to raw
 * C1C3C2) rehearse to Matches too. Refusals at step 2, at the field: an expired token, a private
 * key pasted as the public key (the field is then emptied). Without a logged-in token the HSM
 * choice is off and the Tokens screen is linked. Screenshots: test-results/e2e/byok/.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { OperationName, OperationOutput } from '../../src-shared/contract/operations';
import { Scratch, openssl, pkcs8DerToPem } from '../support/openssl';
import { SHELLS, openUiWorld, createKeystoreViaUi, ensureTokenLogin, type UiWorld, type UiWorldOptions } from './uiSteps';

interface Manifest {
  Rehearsal: boolean;
  Target: string;
  KeySpec: string;
  KeyId: string;
  ProtectionLevel: string;
  WrappingAlgorithm: string;
  WrappingPublicKeyFingerprint: string;
  KeyCheckValue: string;
  CloudKeyId: string | null;
  Files: { File: string; Sha256: string }[];
}

/** What one wizard run left on screen and on disk. */
interface RunOutcome {
  keyId: string;
  rehearsalId: string;
  kcv: string;
  fingerprint: string;
  /** Path and SHA-256 per row of the written-files table. */
  files: { path: string; sha256: string }[];
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

for (const shell of SHELLS) describe(`BYOK wizard (${shell.kind})`, { skip: shell.skip }, () => {
  let w: UiWorld;
  /** Vue reports errors in components on the console, not as page errors. */
  const consoleErrors: string[] = [];
  const outDir = { aliyun: '', aws: '' };
  let aws: RunOutcome | undefined;

  before(async () => {
    const options: UiWorldOptions = { shell: shell.kind, withHsm: true };
    w = await openUiWorld('byok', options);
    w.page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    w.page.setDefaultTimeout(15_000);
    await createKeystoreViaUi(w.page);
    // The wizard makes HSM material only in a token the operator logged in to (Tokens screen).
    await ensureTokenLogin(w, options);
    outDir.aliyun = join(w.dir, 'byok-aliyun');
    outDir.aws = join(w.dir, 'byok-aws');
    mkdirSync(outDir.aliyun);
    mkdirSync(outDir.aws);
  });
  after(async () => {
    await w?.close();
  });

  async function ask<N extends OperationName>(name: N, input: Record<string, unknown>): Promise<OperationOutput<N>> {
    const result = await w.dispatch(name, input);
    if (!result.ok) assert.fail(`${name} was refused: ${result.error.Code}: ${result.error.Message}`);
    return result.value as unknown as OperationOutput<N>;
  }
  /** WrapKeyMaterial entries in the audit log: what left the keystore, wrapped. */
  const wrapsRecorded = async (): Promise<number> => (await ask('ListAuditEvents', { Operation: 'WrapKeyMaterial', PageSize: 100 })).TotalCount;
  const dialog = (page: Page): Locator => page.locator('dialog[open]');
  const shot = (name: string) => w.browser.screenshot(name);
  /** The folder's files, name and SHA-256, sorted. */
  const folderState = (dir: string) => readdirSync(dir).sort().map((f) => [f, sha256(readFileSync(join(dir, f)))]);

  async function openWizard(): Promise<void> {
    const { page } = w;
    await page.getByTestId('nav-wizard-byok').click();
    await page.getByTestId('byok-wizard').waitFor();
    // The wizard keeps its state across screens: start from the first step.
    if (await page.getByTestId('wizard-restart').count()) await page.getByTestId('wizard-restart').click();
    if (await page.getByTestId('byok-start-over').count()) await page.getByTestId('byok-start-over').click();
    await page.locator('[data-testid="byok-wizard"][data-step="target"]').waitFor();
  }

  async function stepTarget(target: string, keySpec: string, shotName?: string): Promise<void> {
    const { page } = w;
    await page.getByTestId(`byok-target-${target}`).check();
    await page.getByTestId('byok-keyspec').selectOption(keySpec);
    if (shotName) await shot(shotName);
    await page.getByTestId('wizard-next').click();
    await page.locator('[data-testid="byok-wizard"][data-step="parameters"]').waitFor();
  }

  /** Step 2 in rehearsal mode: the stand-in fills the fields; Check; returns the RehearsalId. */
  async function stepRehearsalParameters(
    algorithm: string,
    shotName?: string,
    tokenLeft: RegExp | null = /^ · 23 h \d+ min left$/,
  ): Promise<{ rehearsalId: string; fingerprint: string }> {
    const { page } = w;
    await page.getByTestId(`byok-algorithm-${algorithm}`).check();
    await page.getByTestId('byok-rehearsal').check();
    const rehearsalId = ((await page.getByTestId('byok-rehearsal-id').textContent()) ?? '').trim();
    assert.match(rehearsalId, /^[0-9a-f-]{36}$/);
    assert.notEqual(await page.getByTestId('byok-public-key').inputValue(), '', 'the stand-in fills the public key');
    assert.notEqual(await page.getByTestId('byok-cloud-key-id').inputValue(), '');
    assert.match((await page.getByTestId('byok-rehearsal-banner').textContent()) ?? '', /REHEARSAL/);
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true, 'not before the check');
    await page.getByTestId('byok-check').click();
    await page.getByTestId('byok-checked').waitFor();
    const fingerprint = ((await page.getByTestId('byok-fingerprint').textContent()) ?? '').trim();
    assert.match(fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(await page.getByTestId('byok-fingerprint-words').locator('li').count(), 24);
    if (tokenLeft) assert.match((await page.getByTestId('byok-token-left').textContent()) ?? '', tokenLeft);
    else assert.equal(await page.getByTestId('byok-token-left').count(), 0);
    // The fingerprint is the one of the key the field holds (OpenSSL over its DER).
    const shown = await page.getByTestId('byok-public-key').inputValue();
    const der = shown.includes('BEGIN') ? openssl(['pkey', '-pubin', '-outform', 'DER'], Buffer.from(shown)) : Buffer.from(shown.trim(), 'base64');
    assert.equal(sha256(der), fingerprint);
    if (shotName) await shot(shotName);
    await page.getByTestId('wizard-next').click();
    await page.locator('[data-testid="byok-wizard"][data-step="source"]').waitFor();
    return { rehearsalId, fingerprint };
  }

  async function stepGenerate(source: 'hsm' | 'software', usage: string | undefined, shotName?: string): Promise<string> {
    const { page } = w;
    await page.getByTestId(`byok-source-${source}`).check();
    if (usage) await page.getByTestId(`byok-usage-${usage}`).check();
    await page.getByTestId('byok-generate').click();
    await page.getByTestId('byok-key-created').waitFor({ timeout: 30_000 });
    const keyId = ((await page.getByTestId('byok-key-id').textContent()) ?? '').trim();
    assert.match(keyId, /^[0-9a-f-]{36}$/);
    if (shotName) await shot(shotName);
    await page.getByTestId('wizard-next').click();
    await page.locator('[data-testid="byok-wizard"][data-step="review"]').waitFor();
    return keyId;
  }

  /** Step 4; returns the key check value the review showed before anything was written. */
  async function stepReviewAndWrap(dir: string, shotName?: string): Promise<string> {
    const { page } = w;
    await page.getByTestId('byok-review-kcv').filter({ hasText: /^[0-9a-f]{6,64} \(/ }).waitFor();
    const reviewKcv = ((await page.getByTestId('byok-review-kcv').textContent()) ?? '').split(' ')[0]!;
    await page.getByTestId('byok-output-dir').fill(dir);
    if (shotName) await shot(shotName);
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByTestId('confirm-button').waitFor();
    if (shotName) await shot(`${shotName}-confirm`);
    await dialog(page).getByTestId('confirm-button').click();
    return reviewKcv;
  }

  /** Step 5: the rehearsal check says Matches; returns what the screen says was written. */
  async function stepResult(shotName: string): Promise<Omit<RunOutcome, 'keyId' | 'rehearsalId'>> {
    const { page } = w;
    await page.getByTestId('byok-result').or(page.locator('.wizard-body [data-testid="error"]')).first().waitFor({ timeout: 30_000 });
    if (await page.getByTestId('byok-result').count() === 0) assert.fail(`WrapKeyMaterial refused: ${await page.locator('.wizard-body [data-testid="error"]').textContent()}`);
    const kcv = ((await page.getByTestId('byok-kcv').textContent()) ?? '').trim();
    const fingerprint = ((await page.getByTestId('byok-result-fingerprint').textContent()) ?? '').trim();
    const files = await page
      .getByTestId('written-files')
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((r) => ({ path: r.querySelector('code.path')?.textContent ?? '', sha256: r.querySelector('code.hash')?.textContent ?? '' })));
    assert.ok(files.length >= 2, 'the blob and the manifest at least');
    assert.notEqual(((await page.getByTestId('byok-import-command').textContent()) ?? '').trim(), '');
    await shot(shotName);
    await page.getByTestId('byok-rehearsal-check').click();
    await page.getByTestId('byok-verdict').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('byok-verdict-headline').textContent(), 'Matches', (await page.getByTestId('byok-verdict-details').textContent()) ?? '');
    assert.equal(await page.getByTestId('byok-verdict').getAttribute('data-matches'), 'true');
    await shot(`${shotName}-rehearsal-matches`);
    return { kcv, fingerprint, files };
  }

  /** On disk: the files listed exist, hash as shown, and manifest.json agrees with the screen. */
  function checkDisk(dir: string, run: RunOutcome, expect: { target: string; keySpec: string; protection: string }): Manifest {
    const names = readdirSync(dir).sort();
    assert.deepEqual(names, run.files.map((f) => basename(f.path)).sort(), 'the folder holds exactly the files listed');
    for (const f of run.files) {
      assert.ok(existsSync(f.path), f.path);
      assert.equal(sha256(readFileSync(f.path)), f.sha256, `${f.path}: SHA-256 as shown`);
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(manifest.Rehearsal, true);
    assert.equal(manifest.Target, expect.target);
    assert.equal(manifest.KeySpec, expect.keySpec);
    assert.equal(manifest.ProtectionLevel, expect.protection);
    assert.equal(manifest.KeyId, run.keyId);
    assert.equal(manifest.KeyCheckValue, run.kcv);
    assert.equal(manifest.WrappingPublicKeyFingerprint, run.fingerprint);
    const listed = run.files.filter((f) => basename(f.path) !== 'manifest.json');
    assert.deepEqual(
      manifest.Files.map((f) => [f.File, f.Sha256]).sort(),
      listed.map((f) => [basename(f.path), f.sha256]).sort(),
      'the manifest lists the same files with the same SHA-256',
    );
    return manifest;
  }

  /** The stand-in cloud's private key as PEM (Chromium only: the host's session is in this process). */
  function standInPem(rehearsalId: string): string | null {
    if (!w.host) return null;
    const key = w.host.session.rehearsals.get(rehearsalId).privateKey;
    assert.equal(key.kind, 'RSA');
    return key.kind === 'RSA' ? pkcs8DerToPem(key.pkcs8) : null;
  }

  it('ALIYUN AES_256 from the HSM, rehearsed: Matches, files and manifest as shown, OpenSSL unwraps it', async () => {
    const { page } = w;
    await openWizard();
    await shot('01-aliyun-target-empty');
    // Only what Alibaba Cloud takes is offered: no HMAC.
    await page.getByTestId('byok-target-ALIYUN').check();
    const offered = await page.getByTestId('byok-keyspec').locator('option:not([disabled])').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(offered, ['AES_256', 'SM4', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P256K', 'EC_SM2']);
    await stepTarget('ALIYUN', 'AES_256', '02-aliyun-target');
    // The rows for AES_256 at Alibaba, and only those.
    const algorithms = await page.locator('[data-testid^="byok-algorithm-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    assert.deepEqual(algorithms, ['byok-algorithm-RSAES_OAEP_SHA_256', 'byok-algorithm-RSAES_OAEP_SHA_1', 'byok-algorithm-RSAES_PKCS1_V1_5', 'byok-algorithm-SM2PKE']);
    const { rehearsalId } = await stepRehearsalParameters('RSAES_OAEP_SHA_1', '03-aliyun-parameters-checked');
    const keyId = await stepGenerate('hsm', undefined, '04-aliyun-key-hsm');
    const m = (await ask('DescribeKey', { KeyId: keyId })).KeyMetadata;
    assert.equal(m.ProtectionLevel, 'HSM');
    assert.equal(m.Exportable, true);
    assert.equal(m.KeySpec, 'AES_256');
    assert.match(m.Description, /Alibaba Cloud KMS key key-rehearsal-/);

    assert.match((await page.getByTestId('byok-review-target').textContent()) ?? '', /ALIYUN/);
    assert.match((await page.getByTestId('byok-review-key-id').textContent()) ?? '', new RegExp(keyId));
    assert.match((await page.getByTestId('byok-review-mode').textContent()) ?? '', /REHEARSAL/);
    const reviewKcv = await stepReviewAndWrap(outDir.aliyun, '05-aliyun-review');
    const shown = await stepResult('06-aliyun-result');
    const run: RunOutcome = { keyId, rehearsalId, ...shown };
    assert.equal(reviewKcv, run.kcv, 'the KCV the witnesses noted at review is the one the export carries');
    assert.match(run.kcv, /^[0-9a-f]{6}$/);
    const manifest = checkDisk(outDir.aliyun, run, { target: 'ALIYUN', keySpec: 'AES_256', protection: 'HSM' });
    assert.equal(manifest.WrappingAlgorithm, 'RSAES_OAEP_SHA_1');

    // As the cloud would: OAEP-SHA-1 with the stand-in private key gives 32 bytes whose AES KCV is the one shown.
    const pem = standInPem(rehearsalId);
    if (pem) {
      const scratch = new Scratch();
      try {
        const blob = Buffer.from(readFileSync(join(outDir.aliyun, 'EncryptedKeyMaterial.txt'), 'utf8').trim(), 'base64');
        const material = openssl(
          ['pkeyutl', '-decrypt', '-inkey', scratch.file('w.pem', pem), '-in', scratch.file('blob.bin', blob), '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha1', '-pkeyopt', 'rsa_mgf1_md:sha1'],
        );
        assert.equal(material.length, 32);
        const zeroBlock = openssl(['enc', '-aes-256-ecb', '-nopad', '-K', material.toString('hex'), '-in', scratch.file('zero.bin', Buffer.alloc(16))]);
        assert.equal(zeroBlock.subarray(0, 3).toString('hex'), run.kcv);
      } finally {
        scratch.remove();
      }
    }
  });

  it('AWS EC_P256 from the keystore with RSA_AES_KEY_WRAP_SHA_256, rehearsed: Matches, and OpenSSL unwraps the PKCS#8', async () => {
    const { page } = w;
    await openWizard();
    await stepTarget('AWS', 'EC_P256', '09-aws-target');
    const { rehearsalId } = await stepRehearsalParameters('RSA_AES_KEY_WRAP_SHA_256', '10-aws-parameters-checked');
    // Back to step 2: the check is still there, with the row's caution as a warning.
    await page.getByRole('button', { name: 'Back' }).click();
    assert.match((await page.getByTestId('byok-warnings').textContent()) ?? '', /China Regions/);
    await page.getByTestId('wizard-next').click();
    await page.locator('[data-testid="byok-wizard"][data-step="source"]').waitFor();
    const keyId = await stepGenerate('software', 'SIGN/VERIFY', '11-aws-key-software');
    const m = (await ask('DescribeKey', { KeyId: keyId })).KeyMetadata;
    assert.equal(m.ProtectionLevel, 'SOFTWARE');
    assert.equal(m.Exportable, true);
    assert.equal(m.KeySpec, 'EC_P256');
    assert.equal(m.KeyUsage, 'SIGN/VERIFY');
    const reviewKcv = await stepReviewAndWrap(outDir.aws, '12-aws-review');
    const shown = await stepResult('13-aws-result');
    const run: RunOutcome = { keyId, rehearsalId, ...shown };
    assert.equal(reviewKcv, run.kcv, 'the KCV the witnesses noted at review is the one the export carries');
    // For an asymmetric key the KCV is the SHA-256 of its public key: the one GetPublicKey gives.
    const versionId = (await ask('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0]!.KeyVersionId;
    const publicPem = (await ask('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey;
    assert.equal(run.kcv, sha256(openssl(['pkey', '-pubin', '-outform', 'DER'], Buffer.from(publicPem))));
    const manifest = checkDisk(outDir.aws, run, { target: 'AWS', keySpec: 'EC_P256', protection: 'SOFTWARE' });
    assert.equal(manifest.WrappingAlgorithm, 'RSA_AES_KEY_WRAP_SHA_256');
    aws = run;
    assert.match((await page.getByTestId('byok-result-warnings').textContent()) ?? '', /China Regions/);

    const pem = standInPem(rehearsalId);
    if (pem) {
      const scratch = new Scratch();
      try {
        const blob = readFileSync(join(outDir.aws, 'EncryptedKeyMaterial.bin'));
        const k = 256; // the stand-in is RSA_2048
        const aesKey = openssl(
          ['pkeyutl', '-decrypt', '-inkey', scratch.file('w.pem', pem), '-in', scratch.file('k.bin', blob.subarray(0, k)), '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'],
        );
        assert.equal(aesKey.length, 32);
        const pkcs8 = openssl(['enc', '-d', '-id-aes256-wrap-pad', '-iv', 'A65959A6', '-K', aesKey.toString('hex'), '-in', scratch.file('rest.bin', blob.subarray(k))]);
        const spki = openssl(['pkey', '-inform', 'DER', '-pubout', '-outform', 'DER'], pkcs8);
        assert.equal(sha256(spki), run.kcv, 'the unwrapped private key is the one whose public key the screen fingerprinted');
      } finally {
        scratch.remove();
      }
    }
  });

  it('a second run into the same folder (the same EC key, chosen among the existing ones) is refused: AlreadyExists.File, nothing written', async () => {
    const { page } = w;
    assert.ok(aws, 'the AWS run wrote the folder');
    const before = folderState(outDir.aws);
    const wrapsBefore = await wrapsRecorded();
    await openWizard();
    await stepTarget('AWS', 'EC_P256');
    await stepRehearsalParameters('RSA_AES_KEY_WRAP_SHA_256');
    await page.getByTestId('byok-source-existing').check();
    await page.getByTestId('byok-existing').waitFor();
    const row = page.locator(`[data-testid="byok-existing-row"][data-key-id="${aws.keyId}"]`);
    await row.getByTestId('byok-existing-choose').check();
    await shot('14-aws-again-existing-key');
    await page.getByTestId('wizard-next').click();
    await stepReviewAndWrap(outDir.aws);
    const body = page.locator('.wizard-body');
    await body.getByTestId('error-code').filter({ hasText: 'AlreadyExists.File' }).waitFor({ timeout: 30_000 });
    assert.match((await body.getByTestId('error').textContent()) ?? '', /never overwrites/);
    await shot('15-aws-again-refused');
    assert.equal(await page.getByTestId('byok-result').count(), 0);
    assert.deepEqual(folderState(outDir.aws), before, 'nothing new written, nothing changed');
    assert.equal(await wrapsRecorded(), wrapsBefore, 'and nothing recorded as having left');
  });

  it('the other clouds rehearse to Matches too, from new keystore material (Huawei, Google, Azure, Alibaba SM2PKE as raw C1C3C2)', async () => {
    const { page } = w;
    const cases = [
      { target: 'HUAWEI', keySpec: 'AES_256', algorithm: 'RSAES_OAEP_SHA_256', tokenLeft: /^ · 23 h \d+ min left$/, blob: 'encrypted_key_material.txt' },
      { target: 'GCP', keySpec: 'AES_256', algorithm: 'RSA_OAEP_3072_SHA256_AES_256', tokenLeft: /^ · 2 d 23 h left$/, blob: 'wrapped_key.bin' },
      { target: 'AZURE', keySpec: 'RSA_2048', algorithm: 'CKM_RSA_AES_KEY_WRAP', tokenLeft: null, blob: 'KeyMaterial.byok' },
      // An unconfirmed row: said so, with its alternative encoding as a setting (raw C1C3C2 chosen here).
      { target: 'ALIYUN', keySpec: 'SM4', algorithm: 'SM2PKE', tokenLeft: /^ · 23 h \d+ min left$/, blob: 'EncryptedKeyMaterial.txt' },
    ] as const;
    for (const c of cases) {
      const dir = join(w.dir, `byok-${c.target.toLowerCase()}-${c.keySpec.toLowerCase()}`);
      mkdirSync(dir);
      await openWizard();
      await stepTarget(c.target, c.keySpec);
      if (c.target === 'AZURE') {
        // Azure has no token; its key-exchange key id is required, and the stand-in gives one.
        assert.equal(await page.getByTestId('byok-import-token').count(), 0);
        await page.getByTestId(`byok-algorithm-${c.algorithm}`).check();
        await page.getByTestId('byok-rehearsal').check();
        await page.getByTestId('byok-rehearsal-id').waitFor();
        assert.match(await page.getByTestId('byok-kek-id').inputValue(), /^https:\/\/.*\.vault\.azure\.net\/keys\//);
      }
      const { rehearsalId } = await stepRehearsalParameters(c.algorithm, `19-${c.target.toLowerCase()}-${c.keySpec.toLowerCase()}-parameters`, c.tokenLeft);
      if (c.algorithm === 'SM2PKE') {
        await page.getByRole('button', { name: 'Back' }).click();
        await page.getByTestId('byok-unconfirmed').waitFor();
        assert.equal(await page.getByTestId('byok-sm2-encoding').inputValue(), 'DER');
        await page.getByTestId('byok-sm2-encoding').selectOption('C1C3C2');
        await shot('19-aliyun-sm2-unconfirmed');
        await page.getByTestId('wizard-next').click();
      }
      const keyId = await stepGenerate('software', c.keySpec === 'RSA_2048' ? 'ENCRYPT/DECRYPT' : undefined);
      if (c.target === 'AZURE') assert.match((await page.getByTestId('byok-review-kek-id').textContent()) ?? '', /vault\.azure\.net/);
      await stepReviewAndWrap(dir);
      const shown = await stepResult(`20-${c.target.toLowerCase()}-${c.keySpec.toLowerCase()}-result`);
      const manifest = checkDisk(dir, { keyId, rehearsalId, ...shown }, { target: c.target, keySpec: c.keySpec, protection: 'SOFTWARE' });
      assert.equal(manifest.WrappingAlgorithm, c.algorithm);
      if (c.algorithm === 'SM2PKE') {
        assert.equal((manifest as Manifest & { Sm2CiphertextEncoding?: string }).Sm2CiphertextEncoding, 'C1C3C2');
        await page.getByTestId('byok-result-unconfirmed').waitFor();
      }
      assert.ok(existsSync(join(dir, c.blob)), `${c.target} writes ${c.blob}`);
    }
  });

  it('refuses an expired token at step 2, at the field, and a pasted private key at the public key field', async () => {
    const { page } = w;
    const wrapsBefore = await wrapsRecorded();
    await openWizard();
    await stepTarget('ALIYUN', 'AES_256');
    await page.getByTestId('byok-algorithm-RSAES_OAEP_SHA_256').check();
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // From a file, as the connected side's USB stick would bring it (read in the page).
    const scratch = new Scratch();
    try {
      const pubFile = scratch.file('wrapping.pem', pair.publicKey.export({ format: 'pem', type: 'spki' }));
      await page.getByTestId('byok-public-key-file').setInputFiles(pubFile);
      await page.waitForFunction(() => (document.querySelector('[data-testid="byok-public-key"]') as HTMLTextAreaElement | null)?.value.includes('BEGIN PUBLIC KEY') === true);
    } finally {
      scratch.remove();
    }
    await page.getByTestId('byok-import-token').fill('dG9rZW4=');
    await page.getByTestId('byok-token-expiry').fill('2000-01-01T00:00:00Z');
    await page.getByTestId('byok-cloud-key-id').fill('key-expired-test');
    await page.getByTestId('byok-check').click();
    const expiryError = page.getByTestId('byok-token-expiry-error');
    await expiryError.getByTestId('error-code').filter({ hasText: 'Import.TokenExpired' }).waitFor();
    assert.match((await expiryError.getByTestId('error').textContent()) ?? '', /expired/);
    assert.equal(await page.getByTestId('byok-checked').count(), 0);
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true, 'no way on with an expired token');
    await shot('16-expired-token-refused');

    // A private key pasted where the public key goes: refused at that field, and said so.
    await page.getByTestId('byok-token-expiry').fill('');
    await page.getByTestId('byok-public-key').fill(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    await page.getByTestId('byok-check').click();
    const keyError = page.getByTestId('byok-public-key-error');
    await keyError.getByTestId('error-code').filter({ hasText: 'InvalidParameter.PublicKey' }).waitFor();
    assert.match((await keyError.getByTestId('error').textContent()) ?? '', /PRIVATE key/);
    // And the private key does not stay in the page.
    await keyError.getByTestId('byok-private-key-cleared').waitFor();
    assert.equal(await page.getByTestId('byok-public-key').inputValue(), '');
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await shot('17-private-key-refused');
    // Nothing left the keystore: no new WrapKeyMaterial entry in the audit log.
    assert.equal(await wrapsRecorded(), wrapsBefore);
  });

  it('without a logged-in token, HSM material is not offered, and the Tokens screen is pointed at', async () => {
    const { page } = w;
    await page.getByTestId('nav-tokens').click();
    await page.getByTestId('logout').click();
    await page.getByTestId('logout').waitFor({ state: 'detached' });
    await openWizard();
    await stepTarget('ALIYUN', 'AES_256');
    await stepRehearsalParameters('RSAES_OAEP_SHA_256');
    const notice = page.getByTestId('byok-no-token');
    await notice.waitFor();
    assert.equal(await page.getByTestId('byok-source-hsm').isDisabled(), true);
    assert.equal(await notice.getByRole('link', { name: 'Tokens' }).getAttribute('href'), '#/tokens');
    await shot('18-no-token');
  });

  it('made no outside connection and raised no page error', () => {
    w.browser.assertNoOutsideTraffic();
    assert.deepEqual(w.browser.pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
