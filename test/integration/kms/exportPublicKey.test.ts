/**
 * ExportPublicKey: the PEM GetPublicKey returns, written to a new file (never over one); its
 * Sha256 is the file's and its Fingerprint the SHA-256 of the DER SubjectPublicKeyInfo, both as
 * OpenSSL computes them, for RSA and EC keys. Every refusal leaves the keystore and the disk as
 * they were.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodePath from 'node:path';
import { openHarness, firstVersionOf, type Harness } from '../../support/kmsHarness';
import { openssl } from '../../support/openssl';
import { publicKeyFingerprint } from '../../../src-shared/domain/publicKeyFingerprint';

/** `openssl dgst -sha256 -r` of a file: its hex digest. */
function opensslSha256(input: Uint8Array | string): string {
  const out = typeof input === 'string' ? openssl(['dgst', '-sha256', '-r', input]) : openssl(['dgst', '-sha256', '-r'], input);
  return out.toString('utf8').split(' ')[0]!;
}

function partials(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.partial'));
}

describe('ExportPublicKey', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness();
  });
  after(() => h.close());

  for (const [spec, usage] of [
    ['RSA_2048', 'SIGN/VERIFY'],
    ['EC_P256', 'SIGN/VERIFY'],
    ['EC_SM2', 'ENCRYPT/DECRYPT'],
  ] as const) {
    it(`${spec}: writes GetPublicKey's PEM; Sha256 and Fingerprint are what OpenSSL computes; one audit entry`, async () => {
      const keyId = (await h.call('CreateKey', { KeySpec: spec, KeyUsage: usage })).KeyMetadata.KeyId;
      const keyVersionId = await firstVersionOf(h, keyId);
      const file = nodePath.join(h.dir, `${spec}.pem`);
      const r = await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId, OutputFile: file });
      assert.deepEqual({ ...r, Sha256: undefined, Fingerprint: undefined, RequestId: undefined }, {
        KeyId: keyId,
        KeyVersionId: keyVersionId,
        OutputFile: file,
        Format: 'PEM',
        Sha256: undefined,
        Fingerprint: undefined,
        RequestId: undefined,
      });
      const shown = await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId });
      assert.equal(fs.readFileSync(file, 'utf8'), shown.PublicKey, 'the file is the PEM GetPublicKey shows, byte for byte');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(r.Sha256, opensslSha256(file));
      const der = openssl(['pkey', '-pubin', '-in', file, '-outform', 'DER']);
      assert.match(r.Fingerprint, /^[0-9a-f]{64}$/);
      assert.equal(r.Fingerprint, opensslSha256(der), 'the fingerprint is over the DER SubjectPublicKeyInfo');
      assert.equal(publicKeyFingerprint(shown.PublicKey), r.Fingerprint, 'the renderer computes the same from the PEM it shows');

      const [entry] = (await h.call('ListAuditEvents', { Operation: 'ExportPublicKey', PageSize: 1 })).Events;
      assert.ok(entry);
      assert.equal(entry.RequestId, r.RequestId);
      assert.deepEqual([entry.KeyId, entry.KeyVersionId], [keyId, keyVersionId]);
      assert.deepEqual(entry.Details, { OutputFile: file, Sha256: r.Sha256, Fingerprint: r.Fingerprint, OutputFiles: `${r.Sha256}  ${file}` });
    });
  }

  it('an alias names the key; a relative OutputFile is written relative to the working directory', async () => {
    const keyId = (await h.call('CreateKey', { KeySpec: 'EC_P384', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
    await h.call('CreateAlias', { AliasName: 'alias/export-me', KeyId: keyId });
    const keyVersionId = await firstVersionOf(h, keyId);
    const cwd = process.cwd();
    process.chdir(h.dir);
    try {
      const r = await h.call('ExportPublicKey', { KeyId: 'alias/export-me', KeyVersionId: keyVersionId, OutputFile: 'relative.pem' });
      assert.equal(r.KeyId, keyId);
      assert.equal(fs.readFileSync(nodePath.join(h.dir, 'relative.pem'), 'utf8'), (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId })).PublicKey);
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses an existing file, a missing folder, a symmetric key, an unknown key or version; nothing changes', async () => {
    const rsa = (await h.call('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
    const rsaVersion = await firstVersionOf(h, rsa);
    const aes = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    const existing = nodePath.join(h.dir, 'existing.pem');
    fs.writeFileSync(existing, 'precious\n');
    const mtime = fs.statSync(existing).mtimeMs;
    const filesBefore = fs.readdirSync(h.dir).sort();
    const fresh = nodePath.join(h.dir, 'never-written.pem');

    await h.refuse('ExportPublicKey', { KeyId: rsa, KeyVersionId: rsaVersion, OutputFile: existing }, 'AlreadyExists.File');
    assert.equal(fs.readFileSync(existing, 'utf8'), 'precious\n');
    assert.equal(fs.statSync(existing).mtimeMs, mtime);
    await h.refuse('ExportPublicKey', { KeyId: rsa, KeyVersionId: rsaVersion, OutputFile: nodePath.join(h.dir, 'no-such-folder', 'k.pem') }, 'InvalidParameter.OutputFile');
    await h.refuse('ExportPublicKey', { KeyId: aes, KeyVersionId: await firstVersionOf(h, aes), OutputFile: fresh }, 'Rejected.KeySpec');
    await h.refuse('ExportPublicKey', { KeyId: '00000000-0000-4000-8000-000000000000', KeyVersionId: rsaVersion, OutputFile: fresh }, 'NotFound.Key');
    await h.refuse('ExportPublicKey', { KeyId: 'alias/nobody', KeyVersionId: rsaVersion, OutputFile: fresh }, 'NotFound.Alias');
    await h.refuse('ExportPublicKey', { KeyId: rsa, KeyVersionId: '00000000-0000-4000-8000-000000000000', OutputFile: fresh }, 'NotFound.KeyVersion');
    await h.refuse('ExportPublicKey', { KeyId: rsa, KeyVersionId: rsaVersion, OutputFile: '' }, 'InvalidParameter.OutputFile');
    await h.refuse('ExportPublicKey', { KeyId: rsa, KeyVersionId: rsaVersion }, 'MissingParameter');
    assert.deepEqual(fs.readdirSync(h.dir).sort(), filesBefore, 'no file written, no temporary file left');
    assert.deepEqual(partials(h.dir), []);
  });
});
