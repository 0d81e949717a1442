/**
 * Inbound BYOK exactly as kms.md steps 1-5, with OpenSSL doing the operator's side (decode the
 * wrapping key, `openssl rand` the material, wrap it, base64 it), and proof that the key then
 * holds the operator's bytes: the stored material equals them, and a CiphertextBlob made by
 * Keyroom decrypts in this test with node's crypto and the documented blob layout, away from the
 * service's own decryption path.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openHarness, materialOf, firstVersionOf, type Harness } from '../../support/kmsHarness';
import { Scratch, openssl } from '../../support/openssl';
import { dispatch } from '../../../src-main/handlers/dispatch';

type WrappingAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256' | 'RSAES_PKCS1_V1_5';
const WRAPPING_ALGORITHMS: readonly WrappingAlgorithm[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSAES_PKCS1_V1_5'];

const START = new Date('2026-01-15T10:00:00Z');
const HOUR = 3_600_000;
const unix = (d: Date) => Math.floor(d.getTime() / 1000);
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

interface ImportParams {
  ImportToken: string;
  PublicKey: string;
  TokenExpireTime: string;
}

let fileCounter = 0;

/** kms.md step 3, the operator's side: decode the base64 DER public key with `openssl enc`. */
function wrappingKeyFile(scratch: Scratch, params: ImportParams): string {
  const der = scratch.file(`wrap-${++fileCounter}.der`);
  openssl(['enc', '-d', '-base64', '-A', '-out', der], Buffer.from(params.PublicKey));
  return der;
}

/** `openssl rand` material of n bytes, as a file and its bytes. */
function operatorMaterial(scratch: Scratch, bytes: number): { file: string; bytes: Buffer } {
  const file = scratch.file(`material-${++fileCounter}.bin`);
  openssl(['rand', '-out', file, String(bytes)]);
  return { file, bytes: readFileSync(file) };
}

/** Wrap a material file with OpenSSL for the algorithm, returning base64 as `openssl enc -e -base64 -A` writes it. */
function operatorWrap(scratch: Scratch, params: ImportParams, algorithm: WrappingAlgorithm, materialFile: string): string {
  const pub = wrappingKeyFile(scratch, params);
  const wrapped = scratch.file(`wrapped-${++fileCounter}.bin`);
  switch (algorithm) {
    case 'RSAES_OAEP_SHA_1':
      // The command kms.md names (deprecated in OpenSSL 3, still there): OAEP with SHA-1 and MGF1-SHA-1.
      openssl(['rsautl', '-encrypt', '-oaep', '-keyform', 'DER', '-pubin', '-inkey', pub, '-in', materialFile, '-out', wrapped]);
      break;
    case 'RSAES_OAEP_SHA_256':
      openssl(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', pub, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256', '-in', materialFile, '-out', wrapped]);
      break;
    case 'RSAES_PKCS1_V1_5':
      openssl(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', pub, '-pkeyopt', 'rsa_padding_mode:pkcs1', '-in', materialFile, '-out', wrapped]);
      break;
  }
  return openssl(['enc', '-e', '-base64', '-A', '-in', wrapped]).toString().trim();
}

/** Canonical EncryptionContext as kms.md defines it (sorted keys, compact JSON), written here independently. */
function canonical(ctx: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(ctx).sort().map((k) => [k, ctx[k]!])));
}

/**
 * Decrypt a Keyroom CiphertextBlob with the operator's key and node's crypto, from the layout in
 * src-main/crypto/ciphertextBlob.ts: version(1) KeyId(16) KeyVersionId(16) alg(1) IV(12) | ct | tag(16),
 * AAD = the 46-byte header || canonical context. AES-256-GCM is checked in full (tag included);
 * for SM4-GCM, OpenSSL 3.0 has no GCM mode, so the body is decrypted as SM4-CTR from
 * inc32(J0) = IV || 00000002 (NIST SP 800-38D): that proves the key, not the tag.
 */
function independentDecrypt(blobB64: string, key: Buffer, ctx: Record<string, string>): { keyId: string; text: string } {
  const blob = Buffer.from(blobB64, 'base64');
  const header = blob.subarray(0, 46);
  const iv = blob.subarray(34, 46);
  const body = blob.subarray(46, blob.length - 16);
  const tag = blob.subarray(blob.length - 16);
  const keyHex = blob.subarray(1, 17).toString('hex');
  const keyId = `${keyHex.slice(0, 8)}-${keyHex.slice(8, 12)}-${keyHex.slice(12, 16)}-${keyHex.slice(16, 20)}-${keyHex.slice(20)}`;
  assert.equal(blob[0], 0x01, 'format version 1');
  if (blob[33] === 0x01) {
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    d.setAAD(Buffer.concat([header, Buffer.from(canonical(ctx), 'utf8')]));
    d.setAuthTag(tag);
    return { keyId, text: Buffer.concat([d.update(body), d.final()]).toString('utf8') };
  }
  assert.equal(blob[33], 0x02, 'SM4-GCM');
  const d = createDecipheriv('sm4-ctr', key, Buffer.concat([iv, Buffer.from('00000002', 'hex')]));
  return { keyId, text: Buffer.concat([d.update(body), d.final()]).toString('utf8') };
}

async function createExternal(h: Harness, spec: 'AES_256' | 'SM4' = 'AES_256'): Promise<string> {
  const { KeyMetadata: m } = await h.call('CreateKey', { KeySpec: spec, Origin: 'EXTERNAL' });
  assert.equal(m.Origin, 'EXTERNAL');
  assert.equal(m.KeyState, 'PendingImport', 'kms.md step 1: an EXTERNAL key starts PendingImport');
  return m.KeyId;
}

function params(h: Harness, keyId: string, algorithm: WrappingAlgorithm): Promise<ImportParams> {
  return h.call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' });
}

async function state(h: Harness, keyId: string): Promise<string> {
  return (await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState;
}

describe('inbound BYOK (kms.md steps 1-5) with OpenSSL as the operator', () => {
  let h: Harness;
  const scratch = new Scratch();
  before(async () => (h = await openHarness({ start: START })));
  after(async () => {
    await h.close();
    scratch.remove();
  });

  for (const [spec, bytes] of [['AES_256', 32], ['SM4', 16]] as const) {
    for (const algorithm of WRAPPING_ALGORITHMS) {
      it(`${spec}: ${bytes} bytes from openssl rand, wrapped with ${algorithm}, become the key's material`, async () => {
        const keyId = await createExternal(h, spec);
        const p = await params(h, keyId, algorithm);
        assert.equal(p.TokenExpireTime, iso(new Date(START.getTime() + 24 * HOUR)), 'the token lives 24 h');
        // The wrapping key is an RSA-2048 SubjectPublicKeyInfo that OpenSSL reads.
        const text = openssl(['pkey', '-pubin', '-inform', 'DER', '-in', wrappingKeyFile(scratch, p), '-noout', '-text']).toString();
        assert.match(text, /Public-Key: \(2048 bit\)/);

        const material = operatorMaterial(scratch, bytes);
        const wrapped = operatorWrap(scratch, p, algorithm, material.file);
        await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken, KeyMaterialExpireUnix: 0 });
        const m = (await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata;
        assert.equal(m.KeyState, 'Enabled');
        assert.equal(m.MaterialExpireTime, undefined, 'KeyMaterialExpireUnix 0 = never');

        // The key holds exactly the operator's bytes...
        const versionId = await firstVersionOf(h, keyId);
        assert.deepEqual(await materialOf(h, versionId), material.bytes);
        // ...and Keyroom's ciphertext opens with them outside the service code path.
        const ctx = { purpose: 'byok', batch: '7' };
        const enc = await h.call('Encrypt', { KeyId: keyId, Plaintext: `sealed with ${spec}`, EncryptionContext: ctx });
        const opened = independentDecrypt(enc.CiphertextBlob, material.bytes, ctx);
        assert.equal(opened.text, `sealed with ${spec}`);
        assert.equal(opened.keyId, keyId);
        assert.equal((await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx })).Plaintext, `sealed with ${spec}`);
      });
    }
  }
});

describe('ImportKeyMaterial and friends refuse, changing nothing', () => {
  let h: Harness;
  const scratch = new Scratch();
  before(async () => (h = await openHarness({ start: START })));
  after(async () => {
    await h.close();
    scratch.remove();
  });

  it('an expired token is Import.TokenExpired; until then it works', async () => {
    const keyId = await createExternal(h);
    const p = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    const wrapped = operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', operatorMaterial(scratch, 32).file);
    try {
      // Time only moves forward: the token works to the last second, then never again.
      h.clock.now = new Date(START.getTime() + 24 * HOUR - 1000);
      await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken });
      assert.equal(await state(h, keyId), 'Enabled');
      await h.call('DeleteKeyMaterial', { KeyId: keyId });
      h.clock.now = new Date(START.getTime() + 24 * HOUR);
      await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken }, 'Import.TokenExpired');
      h.clock.now = new Date(START.getTime() + 25 * HOUR);
      await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken }, 'Import.TokenExpired');
    } finally {
      h.clock.now = START;
    }
  });

  it('a token issued for another key, or no token Keyroom issued, is Import.TokenInvalid', async () => {
    const a = await createExternal(h);
    const b = await createExternal(h);
    const pa = await params(h, a, 'RSAES_OAEP_SHA_256');
    const wrapped = operatorWrap(scratch, pa, 'RSAES_OAEP_SHA_256', operatorMaterial(scratch, 32).file);
    await h.refuse('ImportKeyMaterial', { KeyId: b, EncryptedKeyMaterial: wrapped, ImportToken: pa.ImportToken }, 'Import.TokenInvalid');
    await h.refuse('ImportKeyMaterial', { KeyId: a, EncryptedKeyMaterial: wrapped, ImportToken: randomBytes(32).toString('base64url') }, 'Import.TokenInvalid');
    await h.refuse('ImportKeyMaterial', { KeyId: a, EncryptedKeyMaterial: wrapped, ImportToken: `${pa.ImportToken.slice(0, -1)}${pa.ImportToken.endsWith('A') ? 'B' : 'A'}` }, 'Import.TokenInvalid');
  });

  it('material that does not unwrap with the token\'s key and algorithm is InvalidEncryptedKeyMaterial', async () => {
    const keyId = await createExternal(h);
    const oaep256 = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    const pkcs1 = await params(h, keyId, 'RSAES_PKCS1_V1_5');
    const material = operatorMaterial(scratch, 32).file;
    const refuse = (token: string, wrapped: string) =>
      h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: token }, 'InvalidEncryptedKeyMaterial');
    for (const token of [oaep256.ImportToken, pkcs1.ImportToken]) {
      await refuse(token, randomBytes(256).toString('base64')); // garbage of the right length
      await refuse(token, randomBytes(32).toString('base64')); // garbage of the wrong length
      await refuse(token, 'AAAA');
      await refuse(token, '');
    }
    // The token binds the wrapping pair: material wrapped to another call's public key fails.
    const other = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    await refuse(oaep256.ImportToken, operatorWrap(scratch, other, 'RSAES_OAEP_SHA_256', material));
    // The token binds the algorithm: OAEP-SHA-1 or PKCS#1 v1.5 to a token issued for OAEP-SHA-256 fails.
    await refuse(oaep256.ImportToken, operatorWrap(scratch, oaep256, 'RSAES_OAEP_SHA_1', material));
    await refuse(oaep256.ImportToken, operatorWrap(scratch, oaep256, 'RSAES_PKCS1_V1_5', material));
    await refuse(pkcs1.ImportToken, operatorWrap(scratch, pkcs1, 'RSAES_OAEP_SHA_256', material));
    // A changed byte of good wrapped material.
    const good = Buffer.from(operatorWrap(scratch, oaep256, 'RSAES_OAEP_SHA_256', material), 'base64');
    good[100]! ^= 0x01;
    await refuse(oaep256.ImportToken, good.toString('base64'));
    assert.equal(await state(h, keyId), 'PendingImport');
  });

  it('material of the wrong length for the spec is Import.MaterialLength', async () => {
    const aes = await createExternal(h, 'AES_256');
    const sm4 = await createExternal(h, 'SM4');
    for (const algorithm of ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const) {
      const pa = await params(h, aes, algorithm);
      const ps = await params(h, sm4, algorithm);
      for (const n of [16, 31, 33, 64]) {
        await h.refuse('ImportKeyMaterial', { KeyId: aes, EncryptedKeyMaterial: operatorWrap(scratch, pa, algorithm, operatorMaterial(scratch, n).file), ImportToken: pa.ImportToken }, 'Import.MaterialLength');
      }
      for (const n of [32, 15]) {
        await h.refuse('ImportKeyMaterial', { KeyId: sm4, EncryptedKeyMaterial: operatorWrap(scratch, ps, algorithm, operatorMaterial(scratch, n).file), ImportToken: ps.ImportToken }, 'Import.MaterialLength');
      }
    }
    // With PKCS#1 v1.5 the unwrapping knows the expected length up front (constant-time padding
    // check against the Marvin attack), so a short message cannot be told from bad padding:
    // either refusal is right, as long as it is a refusal that changes nothing.
    const p = await params(h, aes, 'RSAES_PKCS1_V1_5');
    const wrapped16 = operatorWrap(scratch, p, 'RSAES_PKCS1_V1_5', operatorMaterial(scratch, 16).file);
    const before = await h.state();
    const r = await dispatch(h.session, 'ImportKeyMaterial', { KeyId: aes, EncryptedKeyMaterial: wrapped16, ImportToken: p.ImportToken });
    assert.equal(r.ok, false, '16 bytes imported into an AES_256 key');
    if (!r.ok) assert.ok(['Import.MaterialLength', 'InvalidEncryptedKeyMaterial'].includes(r.error.Code), r.error.Code);
    assert.equal(await h.state(), before);
    assert.equal(await state(h, aes), 'PendingImport');
  });

  it('after DeleteKeyMaterial, other material is Import.MaterialMismatch and the same material re-imports', async () => {
    const keyId = await createExternal(h);
    const p = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    const first = operatorMaterial(scratch, 32);
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', first.file), ImportToken: p.ImportToken });
    const enc = await h.call('Encrypt', { KeyId: keyId, Plaintext: 'made before the material was deleted' });

    await h.call('DeleteKeyMaterial', { KeyId: keyId });
    const m = (await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata;
    assert.equal(m.KeyState, 'PendingImport');
    assert.equal(m.Origin, 'EXTERNAL', 'metadata kept');
    await h.refuse('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, 'Rejected.KeyState');
    await h.refuse('DeleteKeyMaterial', { KeyId: keyId }, 'Rejected.KeyState');

    // Other material, by any algorithm, is refused: the key is bound to its first material.
    for (const algorithm of WRAPPING_ALGORITHMS) {
      const pa = await params(h, keyId, algorithm);
      const other = operatorWrap(scratch, pa, algorithm, operatorMaterial(scratch, 32).file);
      await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: other, ImportToken: pa.ImportToken }, 'Import.MaterialMismatch');
    }
    // The same material, wrapped afresh with another algorithm, is accepted, and old ciphertext decrypts again.
    const p1 = await params(h, keyId, 'RSAES_PKCS1_V1_5');
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: operatorWrap(scratch, p1, 'RSAES_PKCS1_V1_5', first.file), ImportToken: p1.ImportToken });
    assert.equal(await state(h, keyId), 'Enabled');
    assert.equal((await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob })).Plaintext, 'made before the material was deleted');
  });

  it('KeyMaterialExpireUnix in the past (or now) is InvalidParameter.KeyMaterialExpireUnix', async () => {
    const keyId = await createExternal(h);
    const p = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    const wrapped = operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', operatorMaterial(scratch, 32).file);
    // -1 is caught by the contract's schema, the others by the service: the same code either way.
    for (const when of [unix(START) - 1, unix(START), 1, -1]) {
      await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken, KeyMaterialExpireUnix: when }, 'InvalidParameter.KeyMaterialExpireUnix');
    }
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken, KeyMaterialExpireUnix: unix(START) + 1 });
    assert.equal((await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata.MaterialExpireTime, iso(new Date(START.getTime() + 1000)));
  });

  it('keys Keyroom generated (Origin Aliyun_KMS) take no imported material', async () => {
    const own = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    await h.refuse('GetParametersForImport', { KeyId: own, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }, 'Rejected.Origin');
    // Even with a genuine token (of an EXTERNAL key) in hand.
    const ext = await createExternal(h);
    const p = await params(h, ext, 'RSAES_OAEP_SHA_256');
    const wrapped = operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', operatorMaterial(scratch, 32).file);
    await h.refuse('ImportKeyMaterial', { KeyId: own, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken }, 'Rejected.Origin');
    await h.refuse('DeleteKeyMaterial', { KeyId: own }, 'Rejected.Origin');
  });

  it('a second import while the key has material is Rejected.KeyState', async () => {
    const keyId = await createExternal(h);
    const p = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    const material = operatorMaterial(scratch, 32).file;
    const wrapped = operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', material);
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken });
    await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken }, 'Rejected.KeyState');
    const other = operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', operatorMaterial(scratch, 32).file);
    await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: other, ImportToken: p.ImportToken }, 'Rejected.KeyState');
    await h.call('DisableKey', { KeyId: keyId });
    await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken }, 'Rejected.KeyState');
    await h.call('EnableKey', { KeyId: keyId });
  });

  it('only AES_256 and SM4 keys can be EXTERNAL', async () => {
    for (const spec of ['RSA_2048', 'EC_P256', 'EC_SM2', 'HMAC_256']) {
      await h.refuse('CreateKey', { KeySpec: spec, Origin: 'EXTERNAL' }, 'InvalidParameter.Origin');
    }
    assert.equal((await h.call('CreateKey', { KeySpec: 'Aliyun_AES_256', Origin: 'EXTERNAL' })).KeyMetadata.KeyState, 'PendingImport');
  });

  it('a PendingImport key encrypts and generates nothing, and cannot be enabled', async () => {
    const keyId = await createExternal(h);
    await h.refuse('Encrypt', { KeyId: keyId, Plaintext: 'x' }, 'Rejected.KeyState');
    await h.refuse('GenerateDataKey', { KeyId: keyId }, 'Rejected.KeyState');
    await h.refuse('GenerateDataKeyWithoutPlaintext', { KeyId: keyId }, 'Rejected.KeyState');
    await h.refuse('EnableKey', { KeyId: keyId }, 'Rejected.KeyState');
    await h.refuse('DeleteKeyMaterial', { KeyId: keyId }, 'Rejected.KeyState');
  });
});

describe('material expiry and import token reuse', () => {
  let h: Harness;
  const scratch = new Scratch();
  before(async () => (h = await openHarness({ start: START })));
  after(async () => {
    await h.close();
    scratch.remove();
  });

  it('expired material is deleted when the keystore opens: PendingImport, and the deletion is in the audit log', async () => {
    const keyId = await createExternal(h);
    const p = await params(h, keyId, 'RSAES_OAEP_SHA_1');
    const material = operatorMaterial(scratch, 32);
    const expires = new Date(START.getTime() + HOUR);
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: operatorWrap(scratch, p, 'RSAES_OAEP_SHA_1', material.file), ImportToken: p.ImportToken, KeyMaterialExpireUnix: unix(expires) });
    assert.equal((await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata.MaterialExpireTime, iso(expires));
    const enc = await h.call('Encrypt', { KeyId: keyId, Plaintext: 'before expiry' });

    // Not yet due: reopening changes nothing.
    h.clock.now = new Date(START.getTime() + HOUR / 2);
    await h.reopen();
    assert.equal(await state(h, keyId), 'Enabled');

    h.clock.now = new Date(START.getTime() + 2 * HOUR);
    await h.reopen();
    const m = (await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata;
    assert.equal(m.KeyState, 'PendingImport');
    assert.equal(m.MaterialExpireTime, undefined);
    const versionId = await firstVersionOf(h, keyId);
    const row = await h.raw((db) => db.get<{ material: Buffer | null }>('SELECT material FROM key_versions WHERE key_version_id = ?', [versionId]));
    assert.equal(row?.material, null, 'the material is gone from the keystore');
    await h.refuse('Encrypt', { KeyId: keyId, Plaintext: 'x' }, 'Rejected.KeyState');
    await h.refuse('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, 'Rejected.KeyState');

    const out = `${scratch.dir}/audit.jsonl`;
    await h.call('ExportAuditLog', { OutputFile: out });
    const entries = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { operation: string; key_id: string | null; time: string; details: Record<string, unknown> });
    const deletion = entries.find((e) => e.operation === 'DeleteKeyMaterial' && e.key_id === keyId);
    assert.ok(deletion, 'the automatic deletion is in the audit log');
    assert.equal(deletion.details.Reason, 'MaterialExpired');
    assert.equal(deletion.time, iso(h.clock.now));
    assert.equal((await h.call('VerifyAuditLog', {})).Valid, true);

    // The same token (issued 2 h ago, valid 24 h) brings the same material back.
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: operatorWrap(scratch, p, 'RSAES_OAEP_SHA_1', material.file), ImportToken: p.ImportToken });
    assert.equal((await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob })).Plaintext, 'before expiry');
    h.clock.now = START;
  });

  // kms.md: "Expired material is deleted automatically (checked whenever the keystore is open)".
  // Read as "at any moment while it is open", material past its expiry must not be used even if
  // the keystore has not been reopened since (a ceremony session can outlast a short expiry).
  it('expired material is not used while the keystore stays open', async () => {
    const keyId = await createExternal(h);
    const p = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', operatorMaterial(scratch, 32).file), ImportToken: p.ImportToken, KeyMaterialExpireUnix: unix(START) + 3600 });
    try {
      h.clock.now = new Date(START.getTime() + 2 * HOUR);
      const r = await dispatch(h.session, 'Encrypt', { KeyId: keyId, Plaintext: 'after expiry' });
      assert.equal(r.ok, false, 'Encrypt used material an hour past its MaterialExpireTime');
    } finally {
      h.clock.now = START;
    }
  });

  it('one token serves many imports within its 24 hours, then expires', async () => {
    const keyId = await createExternal(h, 'SM4');
    const p = await params(h, keyId, 'RSAES_OAEP_SHA_256');
    const material = operatorMaterial(scratch, 16);
    const wrapped = operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', material.file);
    try {
      for (const hours of [0, 1, 6, 12, 23.99]) {
        h.clock.now = new Date(START.getTime() + hours * HOUR);
        // A fresh wrap each time too: the wrapping pair behind the token stays the same.
        const again = hours === 0 ? wrapped : operatorWrap(scratch, p, 'RSAES_OAEP_SHA_256', material.file);
        await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: again, ImportToken: p.ImportToken });
        assert.equal(await state(h, keyId), 'Enabled', `import at +${hours} h`);
        await h.call('DeleteKeyMaterial', { KeyId: keyId });
      }
      h.clock.now = new Date(START.getTime() + 24 * HOUR + 1000);
      await h.refuse('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken }, 'Import.TokenExpired');
      // Expired import parameters lose their wrapping private key; the token stays known as expired.
      await h.reopen();
      const left = await h.raw((db) => db.get<{ n: number }>('SELECT COUNT(*) AS n FROM import_parameters WHERE key_id = ? AND length(private_key) > 0', [keyId]));
      assert.equal(left?.n, 0, 'the expired wrapping key is gone');
      const refusal = await dispatch(h.session, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped, ImportToken: p.ImportToken });
      assert.equal(refusal.ok, false);
      if (!refusal.ok) assert.ok(['Import.TokenExpired', 'Import.TokenInvalid'].includes(refusal.error.Code), refusal.error.Code);
      // A new token works, and the key is still bound to the same material.
      const fresh = await params(h, keyId, 'RSAES_PKCS1_V1_5');
      await h.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: operatorWrap(scratch, fresh, 'RSAES_PKCS1_V1_5', material.file), ImportToken: fresh.ImportToken });
      assert.deepEqual(await materialOf(h, await firstVersionOf(h, keyId)), material.bytes);
    } finally {
      h.clock.now = START;
    }
  });
});
