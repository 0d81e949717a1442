/**
 * Rotation: RotateAlias for SOFTWARE, HSM (SoftHSM) and EXTERNAL keys; the alias encrypts with the
 * new key while old ciphertext still decrypts; ReEncrypt and ReEncryptFiles move it; automatic
 * rotations happen once and only once after their date (the test moves the clock); the alias's
 * history comes back from the audit log; and nothing is half-done when a step fails.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SoftwareBackend } from '../../../src-main/backends/software/softwareBackend';
import { openHarness, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, openHsmHarnessOn, type SoftHsm } from '../../support/softhsm';
import { Scratch, openssl } from '../../support/openssl';


async function encryptVia(h: Harness, keyId: string, text: string): Promise<string> {
  return (await h.call('Encrypt', { KeyId: keyId, Plaintext: text })).CiphertextBlob;
}

describe('RotateAlias, SOFTWARE keys', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness({ start: new Date('2026-11-23T04:00:00Z') });
  });
  after(() => h.close());

  it('moves the alias to a new key of the same kind in one transaction and one audit entry; old ciphertext still decrypts', async () => {
    const a = (await h.call('CreateKey', { KeySpec: 'AES_256', Exportable: true, EnableAutomaticRotation: true, RotationInterval: '30d', Description: 'payments' })).KeyMetadata;
    await h.call('CreateAlias', { KeyId: a.KeyId, AliasName: 'alias/payments' });
    const old = await encryptVia(h, 'alias/payments', 'card 4111');
    const before = (await h.call('VerifyAuditLog', {})).Entries;

    const r = await h.call('RotateAlias', { AliasName: 'alias/payments' });
    assert.equal(r.AliasName, 'alias/payments');
    assert.equal(r.PreviousKeyId, a.KeyId);
    assert.notEqual(r.KeyId, a.KeyId);
    assert.equal((await h.call('VerifyAuditLog', {})).Entries, before + 1, 'one audit entry');
    const b = (await h.call('DescribeKey', { KeyId: r.KeyId })).KeyMetadata;
    for (const f of ['KeySpec', 'KeyUsage', 'ProtectionLevel', 'Origin', 'Exportable', 'AutomaticRotation', 'RotationInterval'] as const) assert.deepEqual(b[f], a[f], f);
    assert.match(b.Description, new RegExp(`Rotated from ${a.KeyId} for alias/payments`));
    assert.equal((await h.call('DescribeKey', { KeyId: a.KeyId })).KeyMetadata.KeyState, 'Enabled', 'the previous key is untouched by default');

    // The alias now encrypts with B; A's ciphertext decrypts (no KeyId needed) and ReEncrypt moves it.
    const fresh = await h.call('Encrypt', { KeyId: 'alias/payments', Plaintext: 'card 5500' });
    assert.equal(fresh.KeyId, r.KeyId);
    assert.equal((await h.call('Decrypt', { CiphertextBlob: old })).Plaintext, 'card 4111');
    const moved = await h.call('ReEncrypt', { CiphertextBlob: old, DestinationKeyId: 'alias/payments' });
    assert.equal(moved.KeyId, r.KeyId);
    assert.equal(moved.SourceKeyId, a.KeyId);
    const opened = await h.call('Decrypt', { CiphertextBlob: moved.CiphertextBlob });
    assert.equal(opened.Plaintext, 'card 4111');
    assert.equal(opened.KeyId, r.KeyId);
  });

  it('disables the previous key, or schedules its deletion (7-30 days), in the same transaction', async () => {
    const k = (await h.call('CreateKey', { KeySpec: 'SM4' })).KeyMetadata;
    await h.call('CreateAlias', { KeyId: k.KeyId, AliasName: 'alias/sm4' });
    const r1 = await h.call('RotateAlias', { AliasName: 'alias/sm4', DisablePrevious: true });
    assert.equal(r1.PreviousKeyState, 'Disabled');
    assert.equal((await h.call('DescribeKey', { KeyId: k.KeyId })).KeyMetadata.KeyState, 'Disabled');
    const r2 = await h.call('RotateAlias', { AliasName: 'alias/sm4', SchedulePreviousDeletionInDays: 7 });
    const prev = (await h.call('DescribeKey', { KeyId: r1.KeyId })).KeyMetadata;
    assert.equal(prev.KeyState, 'PendingDeletion');
    assert.equal(prev.DeleteDate, '2026-11-30T04:00:00Z');
    assert.equal(r2.PreviousDeleteDate, prev.DeleteDate);
    await h.refuse('RotateAlias', { AliasName: 'alias/sm4', DisablePrevious: true, SchedulePreviousDeletionInDays: 7 }, 'InvalidParameter');
    await h.refuse('RotateAlias', { AliasName: 'alias/sm4', SchedulePreviousDeletionInDays: 5 }, 'InvalidParameter');
    await h.refuse('RotateAlias', { AliasName: 'alias/none' }, 'NotFound.Alias');
  });

  it('rotates asymmetric keys too (a new pair, same spec and usage)', async () => {
    const k = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata;
    await h.call('CreateAlias', { KeyId: k.KeyId, AliasName: 'alias/release' });
    const r = await h.call('RotateAlias', { AliasName: 'alias/release' });
    assert.equal(r.KeyMetadata.KeySpec, 'EC_P256');
    assert.equal(r.KeyMetadata.KeyUsage, 'SIGN/VERIFY');
    const versions = await h.call('ListKeyVersions', { KeyId: r.KeyId });
    assert.equal(versions.TotalCount, 1);
  });

  it('shows the alias\'s history from the audit log: created, moved by hand, rotated', async () => {
    const a = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    const b = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    await h.call('CreateAlias', { KeyId: a, AliasName: 'alias/hist' });
    h.clock.now = new Date(h.clock.now.getTime() + 60_000);
    await h.call('UpdateAlias', { KeyId: b, AliasName: 'alias/hist' });
    h.clock.now = new Date(h.clock.now.getTime() + 60_000);
    const r = await h.call('RotateAlias', { AliasName: 'alias/hist' });
    const history = (await h.call('GetAliasHistory', { AliasName: 'alias/hist' })).History;
    assert.deepEqual(history.map((e) => [e.Operation, e.KeyId, e.PreviousKeyId]), [
      ['CreateAlias', a, undefined],
      ['UpdateAlias', b, a],
      ['RotateAlias', r.KeyId, b],
    ]);
    assert.ok(history[0]!.Time < history[1]!.Time && history[1]!.Time < history[2]!.Time);
    assert.deepEqual((await h.call('GetAliasHistory', { AliasName: 'alias/never' })).History, []);
  });

  it('ReEncryptFiles writes <file>.reencrypted beside each blob file, never over one, all or nothing', async () => {
    const a = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    await h.call('CreateAlias', { KeyId: a, AliasName: 'alias/files' });
    const dir = join(h.dir, 'blobs');
    mkdirSync(dir);
    const files = [join(dir, 'one.b64'), join(dir, 'two.b64')];
    writeFileSync(files[0]!, `${await encryptVia(h, 'alias/files', 'first secret')}\n`);
    writeFileSync(files[1]!, await encryptVia(h, 'alias/files', 'second secret'));
    const r = await h.call('RotateAlias', { AliasName: 'alias/files' });
    const out = await h.call('ReEncryptFiles', { File: files, DestinationKeyId: 'alias/files' });
    assert.deepEqual(out.Files.map((f) => f.OutputFile), files.map((f) => `${f}.reencrypted`));
    for (const [i, f] of out.Files.entries()) {
      assert.equal(f.SourceKeyId, a);
      assert.equal(f.KeyId, r.KeyId);
      const d = await h.call('Decrypt', { CiphertextBlob: readFileSync(f.OutputFile, 'utf8').trim() });
      assert.equal(d.KeyId, r.KeyId);
      assert.equal(d.Plaintext, i === 0 ? 'first secret' : 'second secret');
    }
    // Again: the outputs exist, so nothing is done; a file that is no blob stops the batch before anything is written.
    await h.refuse('ReEncryptFiles', { File: files, DestinationKeyId: 'alias/files' }, 'AlreadyExists.File');
    const three = join(dir, 'three.b64');
    writeFileSync(three, 'not base64 at all!');
    const listing = readdirSync(dir).sort();
    await h.refuse('ReEncryptFiles', { File: [files[0]!.replace('one', 'one-copy'), three], DestinationKeyId: 'alias/files' }, 'InvalidParameter.InputFile');
    writeFileSync(join(dir, 'four.b64'), readFileSync(files[0]!));
    await h.refuse('ReEncryptFiles', { File: [join(dir, 'four.b64'), three], DestinationKeyId: 'alias/files' }, 'InvalidParameter.InputFile');
    assert.deepEqual(readdirSync(dir).sort(), [...listing, 'four.b64'].sort());
  });

  it('CreateKeyVersion is refused on an EXTERNAL key and on a disabled one', async () => {
    const ext = (await h.call('CreateKey', { KeySpec: 'AES_256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    await h.refuse('CreateKeyVersion', { KeyId: ext }, 'Rejected.Origin');
    const off = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    await h.call('DisableKey', { KeyId: off });
    await h.refuse('CreateKeyVersion', { KeyId: off }, 'Rejected.KeyState');
  });
});

describe('RotateAlias for an EXTERNAL key: the successor is EXTERNAL and PendingImport, then imported', () => {
  let h: Harness;
  const s = new Scratch();
  before(async () => {
    h = await openHarness();
  });
  after(async () => {
    await h.close();
    s.remove();
  });

  async function importInto(keyId: string, material: Buffer): Promise<void> {
    const p = await h.call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    const pub = s.file(`pub-${keyId}.der`, Buffer.from(p.PublicKey, 'base64'));
    const wrapped = openssl(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', pub, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'], material);
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped.toString('base64'), ImportToken: p.ImportToken, KeyMaterialExpireUnix: 0 });
  }

  it('rotates, imports the new material, and the alias then encrypts with it', async () => {
    const a = (await h.call('CreateKey', { KeySpec: 'AES_256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    await importInto(a, randomBytes(32));
    await h.call('CreateAlias', { KeyId: a, AliasName: 'alias/byok' });
    const old = await encryptVia(h, 'alias/byok', 'from the cloud era');

    const r = await h.call('RotateAlias', { AliasName: 'alias/byok' });
    assert.equal(r.KeyMetadata.Origin, 'EXTERNAL');
    assert.equal(r.KeyMetadata.KeyState, 'PendingImport');
    // Until the material is imported, the alias cannot encrypt; old ciphertext still decrypts.
    await h.refuse('Encrypt', { KeyId: 'alias/byok', Plaintext: 'x' }, 'Rejected.KeyState');
    assert.equal((await h.call('Decrypt', { CiphertextBlob: old })).Plaintext, 'from the cloud era');

    await importInto(r.KeyId, randomBytes(32));
    assert.equal((await h.call('DescribeKey', { KeyId: r.KeyId })).KeyMetadata.KeyState, 'Enabled');
    assert.equal((await h.call('Encrypt', { KeyId: 'alias/byok', Plaintext: 'y' })).KeyId, r.KeyId);
    const moved = await h.call('ReEncrypt', { CiphertextBlob: old, DestinationKeyId: 'alias/byok' });
    assert.equal((await h.call('Decrypt', { CiphertextBlob: moved.CiphertextBlob })).Plaintext, 'from the cloud era');
  });
});

describe('RotateAlias for HSM keys: the successor is made on the same token', () => {
  let hsm: SoftHsm;
  let h: Harness;
  before(async () => {
    hsm = makeSoftHsm('rotate-test');
    h = await openHsmHarnessOn(hsm);
  });
  after(async () => {
    await h.close();
    hsm.cleanup();
  });

  it('AES_256 in the token: new key on the token, alias moved, old ciphertext decrypts', async () => {
    const a = (await h.call('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' })).KeyMetadata.KeyId;
    await h.call('CreateAlias', { KeyId: a, AliasName: 'alias/hsm' });
    const old = await encryptVia(h, 'alias/hsm', 'token secret');
    const r = await h.call('RotateAlias', { AliasName: 'alias/hsm', DisablePrevious: true });
    assert.equal(r.KeyMetadata.ProtectionLevel, 'HSM');
    const serials = await h.raw((db) => db.all<{ key_id: string; token_serial: string }>('SELECT key_id, token_serial FROM keys WHERE key_id IN (?, ?)', [a, r.KeyId]));
    assert.equal(serials.length, 2);
    assert.equal(serials[0]!.token_serial, serials[1]!.token_serial, 'same token');
    assert.ok(hsm.pkcs11Tool(['--list-objects', '--type', 'secrkey']).includes(`keyroom/${r.KeyId}/`), 'the new key is on the token');
    // The previous key is disabled; its ciphertext cannot be decrypted until it is enabled again, then it can.
    await h.refuse('Decrypt', { CiphertextBlob: old }, 'Rejected.KeyState');
    await h.call('EnableKey', { KeyId: a });
    assert.equal((await h.call('Decrypt', { CiphertextBlob: old })).Plaintext, 'token secret');
    assert.equal((await h.call('ReEncrypt', { CiphertextBlob: old, DestinationKeyId: 'alias/hsm' })).KeyId, r.KeyId);
  });
});

describe('Nothing half-done: a rotation that fails after the key was generated leaves no key and no moved alias', () => {
  it('the alias moves meanwhile: refused, the generated key discarded, the keystore as the mover left it', async () => {
    let h!: Harness;
    const real = new SoftwareBackend();
    let moveAlias: (() => Promise<void>) | undefined;
    const racing = Object.assign(Object.create(real) as SoftwareBackend, {
      generate: async (...args: Parameters<SoftwareBackend['generate']>) => {
        const made = await real.generate(...args);
        await moveAlias?.();
        return made;
      },
    });
    h = await openHarness({ backends: { SOFTWARE: racing } });
    try {
      const a = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
      const b = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
      await h.call('CreateAlias', { KeyId: a, AliasName: 'alias/race' });
      moveAlias = async () => {
        moveAlias = undefined;
        await h.call('UpdateAlias', { KeyId: b, AliasName: 'alias/race' });
      };
      const keysBefore = (await h.call('ListKeys', {})).TotalCount;
      const r = await (await import('../../../src-main/handlers/dispatch')).dispatch(h.session, 'RotateAlias', { AliasName: 'alias/race' });
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.Code, 'Rejected.KeyState');
      assert.equal((await h.call('ListKeys', {})).TotalCount, keysBefore, 'no new key');
      assert.equal((await h.call('DescribeKey', { KeyId: 'alias/race' })).KeyMetadata.KeyId, b, 'the alias is where the mover put it');
      // No rotation is recorded, only the refusal itself (refusals.ts), under the caller's RequestId.
      const events = (await h.call('ListAuditEvents', { Operation: 'RotateAlias' })).Events;
      assert.deepEqual(events.map((e) => [e.Result, e.RequestId]), [['Rejected.KeyState', r.ok ? '' : r.error.RequestId]]);
    } finally {
      await h.close();
    }
  });
});

describe('Automatic rotation on an offline machine: once and only once after the date', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness({ start: new Date('2026-01-01T00:00:00Z') });
  });
  after(() => h.close());

  it('is listed when due, carried out on request, never twice, and suspended for a disabled key', async () => {
    const k = (await h.call('CreateKey', { KeySpec: 'AES_256', EnableAutomaticRotation: true, RotationInterval: '7d' })).KeyMetadata.KeyId;
    const off = (await h.call('CreateKey', { KeySpec: 'AES_256', EnableAutomaticRotation: true, RotationInterval: '7d' })).KeyMetadata.KeyId;
    await h.call('DisableKey', { KeyId: off });
    assert.equal((await h.call('DescribeKey', { KeyId: off })).KeyMetadata.AutomaticRotation, 'Suspended');
    const before = (await h.call('DescribeKey', { KeyId: k })).KeyMetadata.PrimaryKeyVersion;

    h.clock.now = new Date('2026-01-07T23:59:59Z');
    assert.deepEqual((await h.call('ListDueRotations', {})).Keys, []);
    assert.deepEqual((await h.call('RotateDueKeys', {})).Rotated, []);

    h.clock.now = new Date('2026-01-08T00:00:00Z');
    const due = (await h.call('ListDueRotations', {})).Keys;
    assert.deepEqual(due.map((d) => [d.KeyId, d.NextRotationDate]), [[k, '2026-01-08T00:00:00Z']]);
    const old = await encryptVia(h, k, 'before rotation');
    const r = await h.call('RotateDueKeys', {});
    assert.equal(r.Rotated.length, 1);
    assert.equal(r.Rotated[0]!.KeyId, k);
    const meta = (await h.call('DescribeKey', { KeyId: k })).KeyMetadata;
    assert.notEqual(meta.PrimaryKeyVersion, before);
    assert.equal(meta.PrimaryKeyVersion, r.Rotated[0]!.KeyVersionId);
    assert.equal(meta.NextRotationDate, '2026-01-15T00:00:00Z');
    assert.equal((await h.call('Decrypt', { CiphertextBlob: old })).Plaintext, 'before rotation');

    // Asked again (the app and a script, or twice): nothing more.
    assert.deepEqual((await h.call('RotateDueKeys', {})).Rotated, []);
    assert.equal((await h.call('ListKeyVersions', { KeyId: k })).TotalCount, 2);
    assert.equal((await h.call('ListAuditEvents', { Operation: 'RotateKey' })).TotalCount, 1);

    h.clock.now = new Date('2026-01-20T00:00:00Z');
    assert.equal((await h.call('RotateDueKeys', {})).Rotated.length, 1, 'due again after the next interval');
    assert.equal((await h.call('ListKeyVersions', { KeyId: off })).TotalCount, 1, 'the disabled key never rotated');
  });
});

