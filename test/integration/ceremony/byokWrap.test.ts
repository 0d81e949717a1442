/**
 * WrapKeyMaterial for every row of spec/byok.md (every target, wrapping algorithm and key spec it
 * accepts), from SOFTWARE keys in a real keystore. Each output is unwrapped by OpenSSL alone, with
 * a wrapping key pair OpenSSL made (the stand-in cloud), and the recovered material is checked
 * against the manifest's key check value, recomputed by OpenSSL, and for asymmetric keys against
 * the public key the keystore holds. Then the refusals, each of which writes nothing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BYOK_ROWS, type ByokRow, type WrappingKeySpec } from '../../../src-shared/domain/byokTargets';
import { KEY_SPEC_INFO, isAsymmetric, type KeySpec } from '../../../src-shared/domain/keySpecs';
import { sm2CipherRawToDer } from '../../../src-main/crypto/sm2';
import { openHarness, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, openHsmHarnessOn, type SoftHsm } from '../../support/softhsm';
import { openssl, Scratch } from '../../support/openssl';

interface StandIn {
  privatePem: string;
  publicPem: string;
  publicDer: Buffer;
  bytes: number;
}


function standIn(s: Scratch, spec: WrappingKeySpec): StandIn {
  const privatePem = s.file(`w-${spec}.pem`);
  if (spec === 'EC_SM2') openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:SM2`, '-out', privatePem]);
  else openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${spec.slice(4)}`, '-out', privatePem]);
  const publicPem = openssl(['pkey', '-in', privatePem, '-pubout']).toString();
  const publicDer = openssl(['pkey', '-in', privatePem, '-pubout', '-outform', 'DER']);
  return { privatePem, publicPem, publicDer, bytes: spec === 'EC_SM2' ? 0 : Number(spec.slice(4)) / 8 };
}

function oaep(s: Scratch, w: StandIn, hash: string, data: Buffer): Buffer {
  const f = s.file(`oaep-${Math.random().toString(36).slice(2)}.bin`, data);
  return openssl(['pkeyutl', '-decrypt', '-inkey', w.privatePem, '-in', f, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`]);
}

function kwpAes(s: Scratch, key: Buffer, data: Buffer): Buffer {
  const f = s.file(`kwp-${Math.random().toString(36).slice(2)}.bin`, data);
  return openssl(['enc', '-d', '-id-aes256-wrap-pad', '-iv', 'A65959A6', '-K', key.toString('hex'), '-in', f]);
}

function sm2Decrypt(s: Scratch, w: StandIn, der: Buffer): Buffer {
  const f = s.file(`sm2-${Math.random().toString(36).slice(2)}.bin`, der);
  return openssl(['pkeyutl', '-decrypt', '-inkey', w.privatePem, '-in', f]);
}

/** OpenSSL's reading of the wrapped output: the material, or the SM2 scalar for SM2_SM4_ECB. */
function unwrapWithOpenssl(s: Scratch, row: ByokRow, w: StandIn, blob: Buffer, second: Buffer | undefined, sm2Raw: boolean): Buffer {
  const h = row.oaepHash ?? 'sha256';
  switch (row.scheme) {
    case 'OAEP':
      return oaep(s, w, h, blob);
    case 'RSA_PKCS1': {
      const f = s.file('pkcs1.bin', blob);
      return openssl(['pkeyutl', '-decrypt', '-inkey', w.privatePem, '-in', f, '-pkeyopt', 'rsa_padding_mode:pkcs1']);
    }
    case 'OAEP_KWP':
      return kwpAes(s, oaep(s, w, h, blob.subarray(0, w.bytes)), blob.subarray(w.bytes));
    case 'OAEP_KWP_FIELDS':
      assert.ok(second, 'the second field is written');
      return kwpAes(s, oaep(s, w, h, blob), second);
    case 'OAEP_AES_ECB': {
      const esk = oaep(s, w, 'sha256', blob.subarray(0, w.bytes));
      const f = s.file('ecb.bin', blob.subarray(w.bytes));
      return openssl(['enc', '-d', '-aes-256-ecb', '-K', esk.toString('hex'), '-in', f]);
    }
    case 'SM2':
      return sm2Decrypt(s, w, sm2Raw ? sm2CipherRawToDer(blob) : blob);
    case 'SM2_SM4_ECB': {
      assert.ok(sm2Raw, 'Alibaba\'s SM2 envelope is raw C1C3C2 by default');
      const head = blob.subarray(0, 65 + 32 + 16);
      const esk = sm2Decrypt(s, w, sm2CipherRawToDer(head));
      const f = s.file('sm4.bin', blob.subarray(head.length));
      return openssl(['enc', '-d', '-sm4-ecb', '-nopad', '-K', esk.toString('hex'), '-in', f]);
    }
    case 'SM2_SM4_KWP_FIELDS': {
      // OpenSSL 3.0 has no SM4 key wrap: only the SM2 half is checked by OpenSSL here; the SM4
      // key wrap is the RFC 5649 code that the AES rows check against OpenSSL's id-aes256-wrap-pad.
      const esk = sm2Decrypt(s, w, blob);
      assert.equal(esk.length, 16);
      return Buffer.alloc(0);
    }
  }
}

function opensslKcv(s: Scratch, spec: KeySpec, material: Buffer): string {
  const info = KEY_SPEC_INFO[spec];
  const zero = s.file('zero.bin', Buffer.alloc(16));
  if (info.family === 'AES') return openssl(['enc', '-aes-256-ecb', '-nopad', '-K', material.toString('hex'), '-in', zero]).subarray(0, 3).toString('hex');
  if (info.family === 'SM4') return openssl(['enc', '-sm4-ecb', '-nopad', '-K', material.toString('hex'), '-in', zero]).subarray(0, 3).toString('hex');
  const md = { HMAC_SHA_256: 'sha256', HMAC_SHA_384: 'sha384', HMAC_SHA_512: 'sha512' }[info.macAlgorithm!];
  return openssl(['dgst', `-${md}`, '-mac', 'HMAC', '-macopt', `hexkey:${material.toString('hex')}`, '-binary', zero]).subarray(0, 3).toString('hex');
}

/** The public key (DER SPKI) of a PKCS#8 key, by OpenSSL. */
function opensslPublicOfPkcs8(s: Scratch, pkcs8: Buffer): Buffer {
  const f = s.file('material.der', pkcs8);
  return openssl(['pkey', '-inform', 'DER', '-in', f, '-pubout', '-outform', 'DER']);
}

/** OpenSSL's "priv:" hex of a PKCS#8 key: the scalar, to compare with SM2_SM4_ECB's bare scalar. */
function opensslPrivateScalar(s: Scratch, pkcs8: Buffer): Buffer {
  const f = s.file('sm2key.der', pkcs8);
  const text = openssl(['pkey', '-inform', 'DER', '-in', f, '-text', '-noout']).toString();
  const hex = /priv:\s*([\s\S]*?)\npub:/.exec(text)![1]!.replace(/[\s:]/g, '');
  return Buffer.from(hex.padStart(64, '0').slice(-64), 'hex');
}

/** An Exportable key of `spec`, with its public key (DER, read back through GetPublicKey) when asymmetric. */
async function exportableKey(h: Harness, spec: KeySpec, extra: Record<string, unknown>): Promise<{ keyId: string; spki?: Buffer }> {
  const { KeyMetadata } = await h.call('CreateKey', { KeySpec: spec, Exportable: true, ...extra });
  if (!isAsymmetric(spec)) return { keyId: KeyMetadata.KeyId };
  const versions = await h.call('ListKeyVersions', { KeyId: KeyMetadata.KeyId });
  const pem = (await h.call('GetPublicKey', { KeyId: KeyMetadata.KeyId, KeyVersionId: versions.KeyVersions.KeyVersion[0]!.KeyVersionId })).PublicKey;
  return { keyId: KeyMetadata.KeyId, spki: openssl(['pkey', '-pubin', '-outform', 'DER'], Buffer.from(pem)) };
}

describe('WrapKeyMaterial: every byok.md row, SOFTWARE keys, unwrapped by OpenSSL', () => {
  let h: Harness;
  const s = new Scratch();
  const keys = new Map<KeySpec, { keyId: string; spki?: Buffer }>();
  const wrapping = new Map<WrappingKeySpec, StandIn>();
  let outCount = 0;

  before(async () => {
    h = await openHarness({ start: new Date('2026-11-23T04:00:00Z') });
    for (const spec of new Set(BYOK_ROWS.flatMap((r) => r.keySpecs))) keys.set(spec, await exportableKey(h, spec, { Description: `byok ${spec}` }));
    for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_SM2'] as const) wrapping.set(spec, standIn(s, spec));
  });
  after(async () => {
    await h.close();
    s.remove();
  });

  async function storedMaterial(keyId: string): Promise<Buffer> {
    return h.raw(async (db) => (await db.get<{ material: Buffer }>('SELECT material FROM key_versions WHERE key_id = ?', [keyId]))!.material);
  }

  for (const row of BYOK_ROWS) {
    for (const spec of row.keySpecs) {
      const wspec = row.wrappingKeySpecs[row.wrappingKeySpecs.length - 1]!;
      it(`${row.target} ${row.algorithm} ${spec} (${wspec})`, async () => {
        const w = wrapping.get(wspec)!;
        const key = keys.get(spec)!;
        const out = join(h.dir, `out-${++outCount}`);
        mkdirSync(out);
        // PEM for Google and Azure (their consoles give PEM), base64 DER for the others.
        const publicKey = row.target === 'GCP' || row.target === 'AZURE' ? w.publicPem : w.publicDer.toString('base64');
        const r = await h.call('WrapKeyMaterial', {
          KeyId: key.keyId,
          Target: row.target,
          WrappingAlgorithm: row.algorithm,
          PublicKey: publicKey,
          // Each cloud's own token form (byokTargets.ts): Google's is the ImportJob's name; Azure has none.
          ...(row.target === 'AZURE'
            ? {}
            : { ImportToken: row.target === 'GCP' ? `projects/p/locations/global/keyRings/r/importJobs/job-${outCount}` : Buffer.from(`token for ${outCount}`).toString('base64') }),
          TokenExpireTime: '2026-11-24T04:00:00Z',
          CloudKeyId: row.target === 'GCP' ? 'projects/p/locations/global/keyRings/r/cryptoKeys/k' : `cloud-key-${outCount}`,
          ...(row.target === 'AZURE' ? { KeyEncryptionKeyId: 'https://v1.vault.azure.net/keys/kek/0123456789abcdef0123456789abcdef' } : {}),
          OutputDir: out,
        });
        assert.equal(r.WrappingKeySpec, wspec);
        assert.equal(r.PublicKeyFingerprint, createHash('sha256').update(w.publicDer).digest('hex'));

        // Every file listed exists with the SHA-256 given, and the manifest says the same.
        const manifest = JSON.parse(readFileSync(r.Manifest, 'utf8'));
        for (const f of r.Files) assert.equal(createHash('sha256').update(readFileSync(f.File)).digest('hex'), f.Sha256, f.File);
        assert.deepEqual(new Set(readdirSync(out)), new Set(r.Files.map((f) => f.File.slice(out.length + 1))));
        assert.equal(manifest.KeyCheckValue, r.KeyCheckValue);
        assert.equal(manifest.KeySpec, spec);
        assert.equal(manifest.Target, row.target);
        assert.equal(manifest.WrappingAlgorithm, row.algorithm);

        // Read the blob back as the cloud's CLI would take it from the files.
        let blob: Buffer;
        let second: Buffer | undefined;
        const read = (name: string) => readFileSync(join(out, name));
        switch (row.target) {
          case 'ALIYUN':
            blob = Buffer.from(read('EncryptedKeyMaterial.txt').toString().trim(), 'base64');
            break;
          case 'HUAWEI':
            blob = Buffer.from(read('encrypted_key_material.txt').toString().trim(), 'base64');
            if (r.EncryptedPrivateKey) second = Buffer.from(read('encrypted_privatekey.txt').toString().trim(), 'base64');
            break;
          case 'AWS':
            blob = read('EncryptedKeyMaterial.bin');
            assert.equal(read('ImportToken.bin').toString(), `token for ${outCount}`);
            assert.ok(r.ImportCommand.includes('fileb://EncryptedKeyMaterial.bin'));
            break;
          case 'GCP':
            blob = read('wrapped_key.bin');
            assert.ok(r.ImportCommand.includes('--wrapped-key-file wrapped_key.bin'));
            assert.ok(r.ImportCommand.includes(`--import-job projects/p/locations/global/keyRings/r/importJobs/job-${outCount}`));
            break;
          case 'AZURE': {
            const byok = JSON.parse(read('KeyMaterial.byok').toString());
            assert.deepEqual(byok.header, { kid: 'https://v1.vault.azure.net/keys/kek/0123456789abcdef0123456789abcdef', alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP' });
            assert.equal(byok.schema_version, '1.0.0');
            assert.match(byok.ciphertext, /^[A-Za-z0-9_-]+$/, 'base64url without padding');
            blob = Buffer.from(byok.ciphertext, 'base64url');
            assert.ok(r.ImportCommand.includes('--byok-file KeyMaterial.byok') && r.ImportCommand.includes('--vault-name v1'));
            break;
          }
        }
        assert.equal(blob.toString('base64'), r.EncryptedKeyMaterial);

        const recovered = unwrapWithOpenssl(s, row, w, blob, second, row.sm2Encoding === 'C1C3C2');
        if (row.scheme === 'SM2_SM4_KWP_FIELDS') {
          assert.equal(r.KeyCheckValue, createHash('sha256').update(key.spki!).digest('hex'));
          return;
        }
        if (row.sm2Scalar) {
          assert.deepEqual(recovered, opensslPrivateScalar(s, await storedMaterial(key.keyId)));
          assert.equal(r.KeyCheckValue, createHash('sha256').update(key.spki!).digest('hex'));
        } else if (isAsymmetric(spec)) {
          const spki = opensslPublicOfPkcs8(s, recovered);
          assert.deepEqual(spki, key.spki, 'the unwrapped PKCS#8 carries the key\'s public key');
          assert.equal(r.KeyCheckValue, createHash('sha256').update(spki).digest('hex'));
        } else {
          assert.equal(recovered.length, KEY_SPEC_INFO[spec].secretBytes);
          assert.equal(r.KeyCheckValue, opensslKcv(s, spec, recovered), 'KCV recomputed by OpenSSL from what it unwrapped');
        }
      });
    }
  }

  it('GetKeyCheckValue gives, before any export, the KCV the exports carried', async () => {
    for (const spec of ['AES_256', 'SM4', 'HMAC_512', 'RSA_3072', 'EC_SM2'] as const) {
      const key = keys.get(spec)!;
      const r = await h.call('GetKeyCheckValue', { KeyId: key.keyId });
      const events = await h.call('ListAuditEvents', { Operation: 'WrapKeyMaterial', KeyId: key.keyId });
      const exported = events.Events[0];
      assert.ok(exported, spec);
      assert.equal(r.KeyCheckValue, exported.Details.KeyCheckValue, spec);
      assert.match(r.Kind, isAsymmetric(spec) ? /SHA-256/ : /first 3 bytes/);
    }
  });

  it('takes the alternative SM2 encoding as a setting (raw C1C3C2 for SM2PKE)', async () => {
    const w = wrapping.get('EC_SM2')!;
    const out = join(h.dir, 'sm2-raw');
    mkdirSync(out);
    const r = await h.call('WrapKeyMaterial', {
      KeyId: keys.get('AES_256')!.keyId, Target: 'ALIYUN', WrappingAlgorithm: 'SM2PKE', PublicKey: w.publicPem, OutputDir: out, Sm2CiphertextEncoding: 'C1C3C2',
    });
    const blob = Buffer.from(r.EncryptedKeyMaterial, 'base64');
    assert.equal(blob[0], 0x04, 'raw C1C3C2 starts with the uncompressed point');
    assert.equal(blob.length, 65 + 32 + 32);
    assert.equal(r.KeyCheckValue, opensslKcv(s, 'AES_256', sm2Decrypt(s, w, sm2CipherRawToDer(blob))));
    assert.ok(r.Unconfirmed && /could not be checked/.test(r.Unconfirmed));
    assert.equal(JSON.parse(readFileSync(r.Manifest, 'utf8')).Sm2CiphertextEncoding, 'C1C3C2');
  });

  it('pads Azure\'s base64url when asked (the unconfirmed alternative)', async () => {
    const out = join(h.dir, 'azure-padded');
    mkdirSync(out);
    await h.call('WrapKeyMaterial', {
      KeyId: keys.get('EC_P256')!.keyId, Target: 'AZURE', WrappingAlgorithm: 'CKM_RSA_AES_KEY_WRAP', PublicKey: wrapping.get('RSA_2048')!.publicPem,
      KeyEncryptionKeyId: 'https://kv.vault.azure.net/keys/kek/1', OutputDir: out, Base64UrlPadding: true,
    });
    const c = JSON.parse(readFileSync(join(out, 'KeyMaterial.byok'), 'utf8')).ciphertext as string;
    assert.equal(c.length % 4, 0);
  });

  it('records the export in the audit log, with file hashes and KCV but never the material', async () => {
    const events = await h.call('ListAuditEvents', { Operation: 'WrapKeyMaterial', PageSize: 100 });
    assert.ok(events.TotalCount >= outCount);
    const material = await storedMaterial(keys.get('AES_256')!.keyId);
    const all = JSON.stringify(events);
    assert.ok(!all.includes(material.toString('hex')) && !all.includes(material.toString('base64')));
    assert.ok(all.includes('KeyCheckValue'));
  });

  describe('refusals: each writes nothing', () => {
    const rsa = () => wrapping.get('RSA_2048')!;
    async function refuse(input: Record<string, unknown>, code: string): Promise<string> {
      const out = join(h.dir, `refused-${++outCount}`);
      mkdirSync(out);
      const e = await h.refuse('WrapKeyMaterial', { OutputDir: out, ...input }, code);
      assert.deepEqual(readdirSync(out), [], 'nothing written');
      return e.Message;
    }
    const base = () => ({ KeyId: keys.get('AES_256')!.keyId, Target: 'ALIYUN', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', PublicKey: rsa().publicDer.toString('base64') });

    it('an expired token', async () => {
      assert.match(await refuse({ ...base(), TokenExpireTime: '2026-11-23T03:59:59Z' }, 'Import.TokenExpired'), /expired/);
      assert.match(await refuse({ ...base(), TokenExpireTime: String(Date.parse('2026-11-01T00:00:00Z') / 1000) }, 'Import.TokenExpired'), /expired/);
      await refuse({ ...base(), TokenExpireTime: 'tomorrow' }, 'InvalidParameter.TokenExpireTime');
    });
    it('warns (but goes on) with less than an hour left', async () => {
      const r = await h.call('CheckImportParameters', { Target: 'ALIYUN', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', PublicKey: rsa().publicPem, TokenExpireTime: '2026-11-23T04:30:00Z' });
      assert.equal(r.TokenSecondsLeft, 1800);
      assert.ok(r.Warnings.some((w) => /30 minutes/.test(w)), r.Warnings.join());
      assert.equal(r.PublicKeyFingerprintWords.length, 24);
    });
    it('a wrapping key of the wrong size for the algorithm', async () => {
      assert.match(await refuse({ ...base(), PublicKey: wrapping.get('RSA_3072')!.publicPem }, 'InvalidParameter.WrappingKeySpec'), /RSA_2048/);
      await refuse({ ...base(), PublicKey: rsa().publicPem, WrappingKeySpec: 'RSA_4096' }, 'InvalidParameter.WrappingKeySpec');
      const gcp = { KeyId: keys.get('AES_256')!.keyId, Target: 'GCP', WrappingAlgorithm: 'RSA_OAEP_4096_SHA256_AES_256', PublicKey: wrapping.get('RSA_3072')!.publicPem };
      await refuse(gcp, 'InvalidParameter.WrappingKeySpec');
      const small = s.file('rsa1024.pem');
      openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', small]);
      assert.match(await refuse({ ...base(), PublicKey: openssl(['pkey', '-in', small, '-pubout']).toString() }, 'InvalidParameter.PublicKey'), /1024/);
    });
    it('a PEM private key pasted where the public key belongs', async () => {
      const pem = readFileSync(rsa().privatePem, 'utf8');
      assert.match(await refuse({ ...base(), PublicKey: pem }, 'InvalidParameter.PublicKey'), /PRIVATE key/);
      // The same private key as bare base64 DER (PKCS#8) is no public key either.
      const der = openssl(['pkey', '-in', rsa().privatePem, '-outform', 'DER']);
      await refuse({ ...base(), PublicKey: der.toString('base64') }, 'InvalidParameter.PublicKey');
      await refuse({ ...base(), PublicKey: 'not a key at all' }, 'InvalidParameter.PublicKey');
    });
    it('a spec the target does not take, and an algorithm it does not name', async () => {
      assert.match(await refuse({ ...base(), KeyId: keys.get('HMAC_256')!.keyId }, 'Rejected.KeySpec'), /does not import HMAC_256/);
      assert.match(await refuse({ ...base(), KeyId: keys.get('RSA_2048')!.keyId }, 'Rejected.KeySpec'), /RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD/);
      assert.match(await refuse({ ...base(), WrappingAlgorithm: 'RSAES_PKCS1_V1_5', Target: 'AWS' }, 'InvalidParameter.WrappingAlgorithm'), /AWS KMS has no wrapping algorithm/);
    });
    it('a key not created Exportable, and one not Enabled', async () => {
      const { KeyMetadata } = await h.call('CreateKey', { KeySpec: 'AES_256' });
      assert.match(await refuse({ ...base(), KeyId: KeyMetadata.KeyId }, 'Rejected.NotExportable'), /Exportable/);
      const { KeyMetadata: k2 } = await h.call('CreateKey', { KeySpec: 'AES_256', Exportable: true });
      await h.call('DisableKey', { KeyId: k2.KeyId });
      await refuse({ ...base(), KeyId: k2.KeyId }, 'Rejected.KeyState');
    });
    it('Azure without the KEK id', async () => {
      await refuse({ KeyId: keys.get('EC_P256')!.keyId, Target: 'AZURE', WrappingAlgorithm: 'CKM_RSA_AES_KEY_WRAP', PublicKey: rsa().publicPem }, 'MissingParameter');
    });
    it('a folder that does not exist, and a file already there (never overwritten)', async () => {
      await h.refuse('WrapKeyMaterial', { ...base(), OutputDir: join(h.dir, 'no-such-folder') }, 'InvalidParameter.OutputDir');
      const out = join(h.dir, `occupied-${++outCount}`);
      mkdirSync(out);
      writeFileSync(join(out, 'manifest.json'), 'mine');
      await h.refuse('WrapKeyMaterial', { ...base(), OutputDir: out }, 'AlreadyExists.File');
      assert.deepEqual(readdirSync(out), ['manifest.json']);
      assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), 'mine');
    });
  });
});

describe('WrapKeyMaterial from HSM keys on SoftHSM: C_WrapKey inside the token, unwrapped by OpenSSL', () => {
  const HSM_SPECS: readonly KeySpec[] = ['AES_256', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'RSA_2048', 'RSA_3072', 'EC_P256', 'EC_P256K', 'EC_P384'];
  let hsm: SoftHsm;
  let h: Harness;
  const s = new Scratch();
  const keys = new Map<KeySpec, { keyId: string; spki?: Buffer }>();
  const wrapping = new Map<WrappingKeySpec, StandIn>();
  let n = 0;

  before(async () => {
    hsm = makeSoftHsm('byok-service');
    h = await openHsmHarnessOn(hsm);
    for (const spec of HSM_SPECS) keys.set(spec, await exportableKey(h, spec, { ProtectionLevel: 'HSM', ...(isAsymmetric(spec) ? { KeyUsage: 'SIGN/VERIFY' } : {}) }));
    for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_SM2'] as const) wrapping.set(spec, standIn(s, spec));
  });
  after(async () => {
    await h.close();
    hsm.cleanup();
    s.remove();
  });

  for (const row of BYOK_ROWS) {
    for (const spec of row.keySpecs.filter((x) => HSM_SPECS.includes(x))) {
      const wspec = row.wrappingKeySpecs[0]!;
      // SoftHSM 2.6's OAEP takes SHA-1 only; the layouts no PKCS#11 mechanism makes are refused; and
      // its KWP counts its zero padding, so a private key's PKCS#8 cannot leave it exactly (kwpProbe.ts).
      const refused =
        row.oaepHash === 'sha256' || row.scheme === 'OAEP_AES_ECB' || row.scheme.startsWith('SM2') || isAsymmetric(spec);
      it(`${row.target} ${row.algorithm} ${spec}: ${refused ? 'refused, nothing written' : 'unwrapped by OpenSSL'}`, async () => {
        const w = wrapping.get(wspec)!;
        const key = keys.get(spec)!;
        const out = join(h.dir, `hsm-out-${++n}`);
        mkdirSync(out);
        const input = {
          KeyId: key.keyId, Target: row.target, WrappingAlgorithm: row.algorithm, PublicKey: w.publicPem, OutputDir: out,
          ...(row.target === 'AZURE' ? { KeyEncryptionKeyId: 'https://v1.vault.azure.net/keys/kek/1' } : {}),
        };
        if (refused) {
          await h.refuse('WrapKeyMaterial', input, 'Hsm.MechanismUnsupported');
          assert.deepEqual(readdirSync(out), []);
          return;
        }
        const r = await h.call('WrapKeyMaterial', input);
        const blob = Buffer.from(r.EncryptedKeyMaterial, 'base64');
        const second = r.EncryptedPrivateKey ? Buffer.from(r.EncryptedPrivateKey, 'base64') : undefined;
        const recovered = unwrapWithOpenssl(s, row, w, blob, second, false);
        if (isAsymmetric(spec)) {
          assert.deepEqual(opensslPublicOfPkcs8(s, recovered), key.spki);
          assert.equal(r.KeyCheckValue, createHash('sha256').update(key.spki!).digest('hex'));
        } else {
          assert.equal(recovered.length, KEY_SPEC_INFO[spec].secretBytes);
          assert.equal(r.KeyCheckValue, opensslKcv(s, spec, recovered), 'the token\'s KCV is OpenSSL\'s over what it unwrapped');
        }
      });
    }
  }

  it('the exported keys stay sensitive on the token (pkcs11-tool)', () => {
    const listed = hsm.pkcs11Tool(['--list-objects', '--type', 'secrkey']);
    const blocks = listed.split(/\n(?=Secret Key Object)/).filter((b) => b.startsWith('Secret Key Object'));
    assert.ok(blocks.length >= 4, listed);
    for (const b of blocks) assert.match(b, /Access:\s+.*\bsensitive\b/, b);
  });
});
