/**
 * Rehearsal: Keyroom plays the cloud (PrepareRehearsal), the ceremony runs as on the day
 * (WrapKeyMaterial with what the stand-in handed out, in the cloud's own formats), and Keyroom
 * unwraps the files as the cloud would (CheckRehearsal). For every row of byok.md, once; then a
 * tampered file, a foreign folder and a lock each make the check fail or refuse.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BYOK_ROWS } from '../../../src-shared/domain/byokTargets';
import type { KeySpec } from '../../../src-shared/domain/keySpecs';
import { openHarness, PASSPHRASE, type Harness } from '../../support/kmsHarness';

describe('BYOK rehearsal: Keyroom plays the cloud', () => {
  let h: Harness;
  const keys = new Map<KeySpec, string>();
  let n = 0;

  before(async () => {
    h = await openHarness({ start: new Date('2026-11-23T04:00:00Z') });
  });
  after(() => h.close());

  async function keyFor(spec: KeySpec): Promise<string> {
    if (!keys.has(spec)) keys.set(spec, (await h.call('CreateKey', { KeySpec: spec, Exportable: true })).KeyMetadata.KeyId);
    return keys.get(spec)!;
  }

  async function rehearse(target: string, algorithm: string, spec: KeySpec, extra: Record<string, unknown> = {}) {
    const p = await h.call('PrepareRehearsal', { Target: target, WrappingAlgorithm: algorithm, KeySpec: spec });
    const out = join(h.dir, `rehearsal-${++n}`);
    mkdirSync(out);
    const w = await h.call('WrapKeyMaterial', {
      KeyId: await keyFor(spec),
      Target: target,
      WrappingAlgorithm: algorithm,
      PublicKey: p.PublicKey,
      CloudKeyId: p.CloudKeyId,
      ...(p.ImportToken ? { ImportToken: p.ImportToken } : {}),
      ...(p.TokenExpireTime ? { TokenExpireTime: p.TokenExpireTime } : {}),
      ...(p.KeyEncryptionKeyId ? { KeyEncryptionKeyId: p.KeyEncryptionKeyId } : {}),
      OutputDir: out,
      ...extra,
    });
    return { p, w, out };
  }

  for (const row of BYOK_ROWS) {
    const spec = row.keySpecs[0]!;
    it(`${row.target} ${row.algorithm} ${spec}: the stand-in unwraps it and the KCV matches`, async () => {
      const { p, w, out } = await rehearse(row.target, row.algorithm, spec);
      assert.equal(p.WrappingKeySpec, row.wrappingKeySpecs[0]);
      const manifest = JSON.parse(readFileSync(w.Manifest, 'utf8'));
      assert.equal(manifest.Rehearsal, true, 'the manifest says it was a rehearsal');
      const v = await h.call('CheckRehearsal', { RehearsalId: p.RehearsalId, OutputDir: out });
      assert.equal(v.Matches, true, v.Details.join('\n'));
      assert.equal(v.KeyCheckValue, w.KeyCheckValue);
      assert.equal(v.FilesChecked, w.Files.length - 1);
    });
  }

  it('the alternative SM2 encoding still round-trips (the manifest names it)', async () => {
    const { p, out } = await rehearse('ALIYUN', 'SM2PKE', 'SM4', { Sm2CiphertextEncoding: 'C1C3C2' });
    assert.equal((await h.call('CheckRehearsal', { RehearsalId: p.RehearsalId, OutputDir: out })).Matches, true);
  });

  it('a tampered file fails the check, naming it', async () => {
    const { p, out } = await rehearse('AWS', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_2048');
    const file = join(out, 'EncryptedKeyMaterial.bin');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(file, bytes);
    const v = await h.call('CheckRehearsal', { RehearsalId: p.RehearsalId, OutputDir: out });
    assert.equal(v.Matches, false);
    assert.ok(v.Details.some((d) => /EncryptedKeyMaterial\.bin: SHA-256 does not match/.test(d)), v.Details.join('\n'));
    assert.ok(v.Details.some((d) => /Unwrapping failed/.test(d)), v.Details.join('\n'));
  });

  it('another rehearsal\'s output does not pass as this one\'s', async () => {
    const a = await rehearse('ALIYUN', 'RSAES_OAEP_SHA_256', 'AES_256');
    const b = await h.call('PrepareRehearsal', { Target: 'ALIYUN', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', KeySpec: 'AES_256' });
    const v = await h.call('CheckRehearsal', { RehearsalId: b.RehearsalId, OutputDir: a.out });
    assert.equal(v.Matches, false);
    assert.ok(v.Details.some((d) => /another wrapping key/.test(d)));
  });

  it('a real (non-rehearsal) wrapping key leaves Rehearsal false in the manifest', async () => {
    const p = await h.call('PrepareRehearsal', { Target: 'AWS', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', KeySpec: 'AES_256' });
    await h.call('LockKeystore', {});
    await h.call('UnlockKeystore', { Passphrase: PASSPHRASE });
    // The stand-in is gone with the lock: its key is now just a key from outside.
    await h.refuse('CheckRehearsal', { RehearsalId: p.RehearsalId, OutputDir: h.dir }, 'NotFound.Rehearsal');
    const out = join(h.dir, 'not-rehearsal');
    mkdirSync(out);
    const w = await h.call('WrapKeyMaterial', { KeyId: await keyFor('AES_256'), Target: 'AWS', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', PublicKey: p.PublicKey, OutputDir: out });
    assert.equal(JSON.parse(readFileSync(w.Manifest, 'utf8')).Rehearsal, false);
  });

  it('refuses a pair the target does not take', async () => {
    await h.refuse('PrepareRehearsal', { Target: 'HUAWEI', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', KeySpec: 'HMAC_256' }, 'Rejected.KeySpec');
    await h.refuse('PrepareRehearsal', { Target: 'GCP', WrappingAlgorithm: 'RSA_OAEP_3072_SHA256', KeySpec: 'AES_256', WrappingKeySpec: 'RSA_4096' }, 'InvalidParameter.WrappingKeySpec');
  });
});
