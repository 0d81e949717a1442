/**
 * Asymmetric keys end to end: GetPublicKey, AsymmetricSign/Verify and AsymmetricEncrypt/Decrypt
 * for every asymmetric spec and every algorithm it allows, each artifact checked by OpenSSL with
 * the commands of kms.md ("Checks that no one here wrote"), and OpenSSL's own artifacts made with
 * the same key (its PKCS#8 read from the keystore) accepted by Keyroom.
 *
 * The algorithm table below is written out here on purpose, from kms.md, rather than taken from
 * src-shared/domain/keySpecs.ts: the test should catch a wrong table, not inherit it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { openHarness, materialOf, firstVersionOf, type Harness } from '../../support/kmsHarness';
import { Scratch, openssl, opensslOk, pkcs8DerToPem } from '../../support/openssl';
import { sm2MessageDigest } from '../../../src-main/crypto/sm2';

type Spec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'EC_P256' | 'EC_P256K' | 'EC_P384' | 'EC_SM2';
type SignAlg = 'RSA_PSS_SHA_256' | 'RSA_PKCS1_SHA_256' | 'ECDSA_SHA_256' | 'ECDSA_SHA_384' | 'SM2DSA';

const ALL_SIGN_ALGS: readonly SignAlg[] = ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'SM2DSA'];

/** kms.md "Algorithms": which signature algorithms each spec takes. */
const SIGNING: Readonly<Record<Spec, readonly SignAlg[]>> = {
  RSA_2048: ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256'],
  RSA_3072: ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256'],
  RSA_4096: ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256'],
  EC_P256: ['ECDSA_SHA_256'],
  EC_P256K: ['ECDSA_SHA_256'],
  EC_P384: ['ECDSA_SHA_384'],
  EC_SM2: ['SM2DSA'],
};

/** The hash each algorithm's Digest is made with, and its length. */
const DIGEST: Readonly<Record<SignAlg, { openssl: string; bytes: number }>> = {
  RSA_PSS_SHA_256: { openssl: '-sha256', bytes: 32 },
  RSA_PKCS1_SHA_256: { openssl: '-sha256', bytes: 32 },
  ECDSA_SHA_256: { openssl: '-sha256', bytes: 32 },
  ECDSA_SHA_384: { openssl: '-sha384', bytes: 48 },
  SM2DSA: { openssl: '-sm3', bytes: 32 },
};

/** Exactly the verification commands of kms.md, "Checks that no one here wrote". */
function opensslVerifyArgs(alg: SignAlg, pub: string, sig: string, file: string): string[] {
  switch (alg) {
    case 'RSA_PSS_SHA_256':
      return ['dgst', '-verify', pub, '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1', '-signature', sig, file];
    case 'RSA_PKCS1_SHA_256':
    case 'ECDSA_SHA_256':
      return ['dgst', '-verify', pub, '-sha256', '-signature', sig, file];
    case 'ECDSA_SHA_384':
      return ['dgst', '-verify', pub, '-sha384', '-signature', sig, file];
    case 'SM2DSA':
      return ['dgst', '-sm3', '-verify', pub, '-sigopt', 'distid:1234567812345678', '-signature', sig, file];
  }
}

/** OpenSSL signing with the same parameters, for the other direction. */
function opensslSignArgs(alg: SignAlg, priv: string, out: string, file: string): string[] {
  switch (alg) {
    case 'RSA_PSS_SHA_256':
      // Salt length -1 = the digest length (32), what kms.md fixes for RSA_PSS_SHA_256.
      return ['dgst', '-sha256', '-sign', priv, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1', '-out', out, file];
    case 'RSA_PKCS1_SHA_256':
    case 'ECDSA_SHA_256':
      return ['dgst', '-sha256', '-sign', priv, '-out', out, file];
    case 'ECDSA_SHA_384':
      return ['dgst', '-sha384', '-sign', priv, '-out', out, file];
    case 'SM2DSA':
      return ['dgst', '-sm3', '-sign', priv, '-sigopt', 'distid:1234567812345678', '-out', out, file];
  }
}

interface KeyUnderTest {
  keyId: string;
  versionId: string;
  pubPem: string;
  privPem: string;
  /** SubjectPublicKeyInfo DER as OpenSSL re-encodes the PEM. */
  spki: Buffer;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at]! ^= 0x01;
  return c;
}

async function createAsymmetric(h: Harness, scratch: Scratch, spec: Spec, usage: 'SIGN/VERIFY' | 'ENCRYPT/DECRYPT'): Promise<KeyUnderTest> {
  const created = await h.call('CreateKey', { KeySpec: spec, KeyUsage: usage });
  assert.equal(created.KeyMetadata.KeySpec, spec);
  assert.equal(created.KeyMetadata.KeyUsage, usage);
  const keyId = created.KeyMetadata.KeyId;
  const versionId = await firstVersionOf(h, keyId);
  const tag = `${spec}-${usage.replace('/', '')}`;
  const pubPem = scratch.file(`${tag}.pub.pem`, (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey);
  const privPem = scratch.file(`${tag}.key.pem`, pkcs8DerToPem(await materialOf(h, versionId)));
  return { keyId, versionId, pubPem, privPem, spki: openssl(['pkey', '-pubin', '-in', pubPem, '-outform', 'DER']) };
}

/** The uncompressed point 04||x||y at the end of an EC/SM2 SPKI (its BIT STRING content). */
function ecPoint(spki: Buffer, fieldBytes: number): Buffer {
  const point = spki.subarray(spki.length - (1 + 2 * fieldBytes));
  assert.equal(point[0], 0x04, 'uncompressed point');
  return point;
}

/** The private scalar as OpenSSL prints it (`openssl pkey -text`), left-padded to the field size. */
function opensslPrivateScalar(privPem: string, fieldBytes: number): Buffer {
  const text = openssl(['pkey', '-in', privPem, '-noout', '-text']).toString();
  const m = /priv:\s*([0-9a-f:\s]+?)\s*pub:/i.exec(text);
  assert.ok(m?.[1], `no priv: in openssl pkey -text output:\n${text}`);
  const raw = Buffer.from(m[1].replace(/[^0-9a-f]/gi, ''), 'hex');
  const d = raw.subarray(Math.max(0, raw.length - fieldBytes));
  return Buffer.concat([Buffer.alloc(fieldBytes - d.length), d]);
}

describe('AsymmetricSign and AsymmetricVerify, every spec and algorithm, judged by OpenSSL', () => {
  let h: Harness;
  const scratch = new Scratch();
  const keys = new Map<Spec, KeyUnderTest>();
  before(async () => {
    h = await openHarness();
    for (const spec of Object.keys(SIGNING) as Spec[]) keys.set(spec, await createAsymmetric(h, scratch, spec, 'SIGN/VERIFY'));
  });
  after(async () => {
    await h.close();
    scratch.remove();
  });

  it('GetPublicKey gives a PEM SubjectPublicKeyInfo that OpenSSL parses and that belongs to the stored private key', () => {
    for (const [spec, k] of keys) {
      assert.ok(opensslOk(['pkey', '-pubin', '-in', k.pubPem, '-noout']).ok, `${spec}: openssl cannot parse the PEM`);
      const fromPrivate = openssl(['pkey', '-in', k.privPem, '-pubout', '-outform', 'DER']);
      assert.deepEqual(k.spki, fromPrivate, `${spec}: the published public key is not the private key's`);
      const text = openssl(['pkey', '-pubin', '-in', k.pubPem, '-noout', '-text']).toString();
      const expected = { RSA_2048: /2048 bit/, RSA_3072: /3072 bit/, RSA_4096: /4096 bit/, EC_P256: /prime256v1/, EC_P256K: /secp256k1/, EC_P384: /secp384r1/, EC_SM2: /SM2/ }[spec];
      assert.match(text, expected, `${spec}: ${text.split('\n')[0]}`);
    }
  });

  for (const [spec, algs] of Object.entries(SIGNING) as [Spec, readonly SignAlg[]][]) {
    for (const alg of algs) {
      it(`${spec} ${alg}: Keyroom's signature verifies with OpenSSL, OpenSSL's verifies with Keyroom, tampering is caught`, async () => {
        const k = keys.get(spec)!;
        const tag = `${spec}-${alg}`;
        const message = scratch.file(`${tag}.msg`, randomBytes(1000));
        const otherMessage = scratch.file(`${tag}.other.msg`, randomBytes(1000));
        // The caller's digest: OpenSSL's hash of the file; for SM2DSA e = SM3(Z_A || M) with the default ID,
        // which only OpenSSL's own Z_A computation (in the verify below) can confirm.
        const digest =
          alg === 'SM2DSA'
            ? sm2MessageDigest(ecPoint(k.spki, 32), scratch.read(`${tag}.msg`))
            : openssl(['dgst', DIGEST[alg].openssl, '-binary', message]);
        assert.equal(digest.length, DIGEST[alg].bytes);

        const signed = await h.call('AsymmetricSign', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Digest: b64(digest) });
        assert.equal(signed.KeyId, k.keyId);
        assert.equal(signed.KeyVersionId, k.versionId);
        assert.equal(signed.Algorithm, alg);
        const sig = Buffer.from(signed.Value, 'base64');
        const sigFile = scratch.file(`${tag}.sig`, sig);

        const verdict = opensslVerify(alg, k.pubPem, sigFile, message);
        assert.ok(verdict.ok && /Verified OK/.test(verdict.output), `${tag}: OpenSSL rejects Keyroom's signature: ${verdict.output}`);
        // The judge is not a rubber stamp: the same signature over another file fails.
        assert.equal(opensslVerify(alg, k.pubPem, sigFile, otherMessage).ok, false, `${tag}: OpenSSL accepted a signature over another file`);

        const verify = (d: Buffer, v: Buffer) =>
          h.call('AsymmetricVerify', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Digest: b64(d), Value: b64(v) });
        assert.equal((await verify(digest, sig)).Value, true, `${tag}: Keyroom rejects its own signature`);

        // OpenSSL signs the same file with the same key (PKCS#8 from the keystore); Keyroom accepts it.
        const osslSigFile = scratch.file(`${tag}.openssl.sig`);
        openssl(opensslSignArgs(alg, k.privPem, osslSigFile, message));
        const osslSig = scratch.read(`${tag}.openssl.sig`);
        assert.equal((await verify(digest, osslSig)).Value, true, `${tag}: Keyroom rejects OpenSSL's signature`);

        // Tampering: another digest, a changed signature byte (first, middle, last), a trailing byte.
        assert.equal((await verify(flip(digest, 0), sig)).Value, false, `${tag}: accepted a changed digest`);
        assert.equal((await verify(flip(digest, digest.length - 1), osslSig)).Value, false, `${tag}: accepted a changed digest`);
        for (const at of [0, sig.length >> 1, sig.length - 1]) {
          assert.equal((await verify(digest, flip(sig, at))).Value, false, `${tag}: accepted a signature changed at byte ${at}`);
        }
        assert.equal((await verify(digest, Buffer.concat([sig, Buffer.of(0)]))).Value, false, `${tag}: accepted a trailing byte`);
        assert.equal((await verify(digest, Buffer.concat([osslSig, Buffer.of(0x42)]))).Value, false, `${tag}: accepted a trailing byte`);
        assert.equal((await verify(digest, sig.subarray(0, sig.length - 1))).Value, false, `${tag}: accepted a truncated signature`);
        assert.equal((await verify(digest, Buffer.alloc(0))).Value, false, `${tag}: accepted an empty signature`);

        if (alg === 'SM2DSA') {
          // Without distid OpenSSL 3.0 signs with an empty ID (shared/vectors/README.md): not the
          // standard default, so Keyroom (ID 1234567812345678) must say no.
          const noIdFile = scratch.file(`${tag}.noid.sig`);
          openssl(['dgst', '-sm3', '-sign', k.privPem, '-out', noIdFile, message]);
          assert.equal((await verify(digest, scratch.read(`${tag}.noid.sig`))).Value, false, 'an empty-ID SM2 signature passed as default-ID');
        }
      });
    }
  }

  it('every algorithm a spec does not allow is Rejected.Algorithm (with a digest of that algorithm\'s length)', async () => {
    for (const [spec, k] of keys) {
      for (const alg of ALL_SIGN_ALGS.filter((a) => !SIGNING[spec].includes(a))) {
        const digest = b64(randomBytes(DIGEST[alg].bytes));
        await h.refuse('AsymmetricSign', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Digest: digest }, 'Rejected.Algorithm');
        const value = b64(randomBytes(64));
        await h.refuse('AsymmetricVerify', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Digest: digest, Value: value }, 'Rejected.Algorithm');
      }
    }
  });

  it('a digest of the wrong length is InvalidParameter.Digest, for sign and verify', async () => {
    const p256 = keys.get('EC_P256')!;
    const p384 = keys.get('EC_P384')!;
    const rsa = keys.get('RSA_2048')!;
    const sm2 = keys.get('EC_SM2')!;
    const cases: [KeyUnderTest, SignAlg, number][] = [
      [p256, 'ECDSA_SHA_256', 48], // a SHA-384 digest for ECDSA_SHA_256 (kms.md: never)
      [p256, 'ECDSA_SHA_256', 20],
      [p384, 'ECDSA_SHA_384', 32],
      [rsa, 'RSA_PSS_SHA_256', 48],
      [rsa, 'RSA_PKCS1_SHA_256', 31],
      [sm2, 'SM2DSA', 33],
      [sm2, 'SM2DSA', 0],
    ];
    for (const [k, alg, bytes] of cases) {
      const digest = b64(randomBytes(bytes));
      await h.refuse('AsymmetricSign', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Digest: digest }, 'InvalidParameter.Digest');
      await h.refuse('AsymmetricVerify', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Digest: digest, Value: b64(randomBytes(64)) }, 'InvalidParameter.Digest');
    }
    // ECDSA_SHA_384 with its own (48-byte) digest on a P-256 key is the wrong algorithm, not the wrong digest.
    await h.refuse('AsymmetricSign', { KeyId: p256.keyId, KeyVersionId: p256.versionId, Algorithm: 'ECDSA_SHA_384', Digest: b64(randomBytes(48)) }, 'Rejected.Algorithm');
  });

  it('refuses keys that cannot sign: wrong usage, wrong state, unknown version, symmetric key', async () => {
    const digest = b64(randomBytes(32));
    const sign = (keyId: string, versionId: string, alg: SignAlg = 'RSA_PSS_SHA_256') => ({ KeyId: keyId, KeyVersionId: versionId, Algorithm: alg, Digest: digest });

    // An ENCRYPT/DECRYPT key signs and verifies nothing.
    for (const spec of ['RSA_2048', 'EC_P256', 'EC_SM2'] as const) {
      const enc = await h.call('CreateKey', { KeySpec: spec, KeyUsage: 'ENCRYPT/DECRYPT' });
      const v = await firstVersionOf(h, enc.KeyMetadata.KeyId);
      const alg = SIGNING[spec][0]!;
      await h.refuse('AsymmetricSign', sign(enc.KeyMetadata.KeyId, v, alg), 'Rejected.KeyUsage');
      await h.refuse('AsymmetricVerify', { ...sign(enc.KeyMetadata.KeyId, v, alg), Value: b64(randomBytes(64)) }, 'Rejected.KeyUsage');
    }

    // A SIGN/VERIFY key encrypts and decrypts nothing.
    const rsa = keys.get('RSA_2048')!;
    await h.refuse('AsymmetricEncrypt', { KeyId: rsa.keyId, KeyVersionId: rsa.versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64(Buffer.from('x')) }, 'Rejected.KeyUsage');
    await h.refuse('AsymmetricDecrypt', { KeyId: rsa.keyId, KeyVersionId: rsa.versionId, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: b64(randomBytes(256)) }, 'Rejected.KeyUsage');

    // Disabled and PendingDeletion keys sign and verify nothing; enabled again, they do.
    const ec = keys.get('EC_P256')!;
    const ecSign = sign(ec.keyId, ec.versionId, 'ECDSA_SHA_256');
    const good = await h.call('AsymmetricSign', ecSign);
    await h.call('DisableKey', { KeyId: ec.keyId });
    await h.refuse('AsymmetricSign', ecSign, 'Rejected.KeyState');
    await h.refuse('AsymmetricVerify', { ...ecSign, Value: good.Value }, 'Rejected.KeyState');
    await h.call('EnableKey', { KeyId: ec.keyId });
    await h.call('ScheduleKeyDeletion', { KeyId: ec.keyId, PendingWindowInDays: 7 });
    await h.refuse('AsymmetricSign', ecSign, 'Rejected.KeyState');
    await h.call('CancelKeyDeletion', { KeyId: ec.keyId });
    assert.equal((await h.call('AsymmetricVerify', { ...ecSign, Value: good.Value })).Value, true);

    // Unknown version, and a version of another key.
    await h.refuse('AsymmetricSign', sign(rsa.keyId, randomUUID()), 'NotFound.KeyVersion');
    await h.refuse('AsymmetricSign', sign(rsa.keyId, keys.get('RSA_3072')!.versionId), 'NotFound.KeyVersion');
    await h.refuse('GetPublicKey', { KeyId: rsa.keyId, KeyVersionId: randomUUID() }, 'NotFound.KeyVersion');
    await h.refuse('AsymmetricSign', sign(randomUUID(), rsa.versionId), 'NotFound.Key');

    // A symmetric key is not an asymmetric key at all.
    const aes = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    const aesVersion = await firstVersionOf(h, aes);
    await h.refuse('AsymmetricSign', sign(aes, aesVersion), 'Rejected.KeySpec');
    await h.refuse('GetPublicKey', { KeyId: aes, KeyVersionId: aesVersion }, 'Rejected.KeySpec');
    await h.refuse('AsymmetricEncrypt', { KeyId: aes, KeyVersionId: aesVersion, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64(Buffer.from('x')) }, 'Rejected.KeySpec');
  });

  it('CreateKey refuses usages a spec does not have', async () => {
    await h.refuse('CreateKey', { KeySpec: 'EC_P384', KeyUsage: 'ENCRYPT/DECRYPT' }, 'InvalidParameter.KeyUsage');
    await h.refuse('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'GENERATE/VERIFY_MAC' }, 'InvalidParameter.KeyUsage');
    await h.refuse('CreateKey', { KeySpec: 'EC_SM2', KeyUsage: 'GENERATE/VERIFY_MAC' }, 'InvalidParameter.KeyUsage');
  });

  it('a new asymmetric key version is an independent key pair whose signatures OpenSSL checks with its own public key', async () => {
    const k = keys.get('EC_P256K')!;
    const v2 = (await h.call('CreateKeyVersion', { KeyId: k.keyId })).KeyVersion.KeyVersionId;
    assert.notEqual(v2, k.versionId);
    const pub2 = scratch.file('p256k-v2.pub.pem', (await h.call('GetPublicKey', { KeyId: k.keyId, KeyVersionId: v2 })).PublicKey);
    assert.notDeepEqual(openssl(['pkey', '-pubin', '-in', pub2, '-outform', 'DER']), k.spki);
    const msg = scratch.file('p256k-v2.msg', 'version two');
    const digest = openssl(['dgst', '-sha256', '-binary', msg]);
    const sig = (await h.call('AsymmetricSign', { KeyId: k.keyId, KeyVersionId: v2, Algorithm: 'ECDSA_SHA_256', Digest: b64(digest) })).Value;
    const sigFile = scratch.file('p256k-v2.sig', Buffer.from(sig, 'base64'));
    assert.ok(opensslVerify('ECDSA_SHA_256', pub2, sigFile, msg).ok);
    assert.equal(opensslVerify('ECDSA_SHA_256', k.pubPem, sigFile, msg).ok, false, 'version 1 must not verify version 2\'s signature');
    const v1Verify = await h.call('AsymmetricVerify', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(digest), Value: sig });
    assert.equal(v1Verify.Value, false);
  });
});

function opensslVerify(alg: SignAlg, pub: string, sig: string, file: string): { ok: boolean; output: string } {
  return opensslOk(opensslVerifyArgs(alg, pub, sig, file));
}

// ---------------------------------------------------------------------------------------------

/** OAEP options for `openssl pkeyutl`, per kms.md (MGF1 with the same hash, empty label). */
function oaepOpts(hash: 'sha256' | 'sha1'): string[] {
  return ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`];
}

describe('RSA AsymmetricEncrypt and AsymmetricDecrypt (RSAES-OAEP), judged by OpenSSL', () => {
  let h: Harness;
  const scratch = new Scratch();
  const keys = new Map<'RSA_2048' | 'RSA_3072', KeyUnderTest>();
  before(async () => {
    h = await openHarness();
    for (const spec of ['RSA_2048', 'RSA_3072'] as const) keys.set(spec, await createAsymmetric(h, scratch, spec, 'ENCRYPT/DECRYPT'));
  });
  after(async () => {
    await h.close();
    scratch.remove();
  });

  for (const [alg, hash] of [['RSAES_OAEP_SHA_256', 'sha256'], ['RSAES_OAEP_SHA_1', 'sha1']] as const) {
    it(`${alg}: OpenSSL encrypts, Keyroom decrypts; Keyroom encrypts, OpenSSL decrypts`, async () => {
      for (const [spec, k] of keys) {
        const plaintext = randomBytes(48);
        const ptFile = scratch.file(`${spec}-${hash}.pt`, plaintext);
        const ct = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', k.pubPem, ...oaepOpts(hash), '-in', ptFile]);
        const dec = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, CiphertextBlob: b64(ct) });
        assert.deepEqual(Buffer.from(dec.Plaintext, 'base64'), plaintext, `${spec} ${alg}`);
        assert.equal(dec.KeyVersionId, k.versionId);

        const enc = await h.call('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Plaintext: b64(plaintext) });
        const ctFile = scratch.file(`${spec}-${hash}.ct`, Buffer.from(enc.CiphertextBlob, 'base64'));
        const back = openssl(['pkeyutl', '-decrypt', '-inkey', k.privPem, ...oaepOpts(hash), '-in', ctFile]);
        assert.deepEqual(back, plaintext, `${spec} ${alg}: OpenSSL cannot decrypt Keyroom's ciphertext`);

        // The other OAEP hash does not decrypt it: the algorithm is really part of the padding.
        const other = alg === 'RSAES_OAEP_SHA_256' ? 'RSAES_OAEP_SHA_1' : 'RSAES_OAEP_SHA_256';
        await h.refuse('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: other, CiphertextBlob: b64(ct) }, 'InvalidCiphertext');
      }
    });
  }

  it('the longest plaintext OAEP allows (k - 2·hLen - 2) is accepted, one byte more refused, as OpenSSL does', async () => {
    for (const [spec, k] of keys) {
      const kBytes = spec === 'RSA_2048' ? 256 : 384;
      for (const [alg, hash, hLen] of [['RSAES_OAEP_SHA_256', 'sha256', 32], ['RSAES_OAEP_SHA_1', 'sha1', 20]] as const) {
        const max = kBytes - 2 * hLen - 2;
        const longest = randomBytes(max);
        const enc = await h.call('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Plaintext: b64(longest) });
        const dec = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, CiphertextBlob: enc.CiphertextBlob });
        assert.deepEqual(Buffer.from(dec.Plaintext, 'base64'), longest);
        const tooLong = randomBytes(max + 1);
        await h.refuse('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Plaintext: b64(tooLong) }, 'InvalidParameter');
        // OpenSSL draws the same line.
        const f = scratch.file(`${spec}-${hash}-toolong.pt`, tooLong);
        assert.equal(opensslOk(['pkeyutl', '-encrypt', '-pubin', '-inkey', k.pubPem, ...oaepOpts(hash), '-in', f]).ok, false);
      }
    }
  });

  it('a ciphertext of the wrong length, garbled, or empty is InvalidCiphertext', async () => {
    const k = keys.get('RSA_2048')!;
    const plaintext = scratch.file('garble.pt', 'garble me');
    const ct = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', k.pubPem, ...oaepOpts('sha256'), '-in', plaintext]);
    const dec = (c: Buffer) => ({ KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: b64(c) });
    await h.refuse('AsymmetricDecrypt', dec(ct.subarray(1)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(Buffer.concat([ct, Buffer.of(0)])), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(Buffer.concat([Buffer.of(0), ct])), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(Buffer.alloc(0)), 'InvalidCiphertext');
    for (const at of [0, 100, 255]) await h.refuse('AsymmetricDecrypt', dec(flip(ct, at)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(Buffer.alloc(256, 0xff)), 'InvalidCiphertext'); // >= n
    await h.refuse('AsymmetricDecrypt', dec(randomBytes(256)), 'InvalidCiphertext');
    // The 3072-bit key does not take a 2048-bit ciphertext.
    const k3 = keys.get('RSA_3072')!;
    await h.refuse('AsymmetricDecrypt', { ...dec(ct), KeyId: k3.keyId, KeyVersionId: k3.versionId }, 'InvalidCiphertext');
  });

  it('RSA keys take only the OAEP algorithms', async () => {
    const k = keys.get('RSA_2048')!;
    for (const alg of ['ECIES_DH_SHA_1_XOR_HMAC', 'SM2PKE']) {
      await h.refuse('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Plaintext: b64(Buffer.from('x')) }, 'Rejected.Algorithm');
      await h.refuse('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, CiphertextBlob: b64(randomBytes(256)) }, 'Rejected.Algorithm');
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** Minimal DER reader for SM2Cipher, independent of src-main's ASN.1 code. */
function readTlv(buf: Buffer, off: number): { tag: number; start: number; end: number } {
  const tag = buf[off]!;
  let len = buf[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | buf[start + i]!;
    start += n;
  }
  return { tag, start, end: start + len };
}

/** DER SM2Cipher { x, y, hash, ciphertext } -> raw C1 || C3 || C2 (GB/T 32918.4). */
function sm2DerToRaw(der: Buffer): Buffer {
  const seq = readTlv(der, 0);
  assert.equal(seq.tag, 0x30);
  assert.equal(seq.end, der.length, 'no trailing bytes after SM2Cipher');
  const parts: Buffer[] = [];
  for (let off = seq.start; off < seq.end; ) {
    const t = readTlv(der, off);
    parts.push(der.subarray(t.start, t.end));
    off = t.end;
  }
  assert.equal(parts.length, 4, 'SM2Cipher has four fields');
  const coord = (b: Buffer) => {
    const v = b.subarray(Math.max(0, b.length - 32));
    return Buffer.concat([Buffer.alloc(32 - v.length), v]);
  };
  const [x, y, hash, c2] = parts as [Buffer, Buffer, Buffer, Buffer];
  assert.equal(hash.length, 32, 'C3 is an SM3 hash');
  return Buffer.concat([Buffer.of(0x04), coord(x), coord(y), hash, c2]);
}

describe('SM2PKE with EC_SM2 ENCRYPT/DECRYPT keys, judged by OpenSSL', () => {
  let h: Harness;
  const scratch = new Scratch();
  let k: KeyUnderTest;
  before(async () => {
    h = await openHarness();
    k = await createAsymmetric(h, scratch, 'EC_SM2', 'ENCRYPT/DECRYPT');
  });
  after(async () => {
    await h.close();
    scratch.remove();
  });

  // OpenSSL 3.0 reads Keyroom's id-ecPublicKey / SM2-curve PEM and PKCS#8 as SM2 keys directly:
  // plain `pkeyutl -encrypt -pubin -inkey pub.pem` and `pkeyutl -decrypt -inkey key.pem` need no
  // conversion and no -pkeyopt, and read and write DER SM2Cipher.
  it('OpenSSL encrypts to the public key, AsymmetricDecrypt SM2PKE gives the plaintext back (DER and raw C1C3C2)', async () => {
    for (const size of [1, 32, 100, 1000]) {
      const plaintext = randomBytes(size);
      const ptFile = scratch.file(`sm2-${size}.pt`, plaintext);
      const der = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', k.pubPem, '-in', ptFile]);
      assert.equal(der[0], 0x30, 'OpenSSL writes DER SM2Cipher');
      const dec = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'SM2PKE', CiphertextBlob: b64(der) });
      assert.deepEqual(Buffer.from(dec.Plaintext, 'base64'), plaintext, `${size} bytes, DER`);
      // kms.md: raw C1C3C2 is accepted on input as well.
      const raw = sm2DerToRaw(der);
      const decRaw = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'SM2PKE', CiphertextBlob: b64(raw) });
      assert.deepEqual(Buffer.from(decRaw.Plaintext, 'base64'), plaintext, `${size} bytes, raw C1C3C2`);
    }
  });

  it('AsymmetricEncrypt SM2PKE writes DER SM2Cipher that OpenSSL decrypts with the PKCS#8 key', async () => {
    for (const size of [1, 32, 4096]) {
      const plaintext = randomBytes(size);
      const enc = await h.call('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'SM2PKE', Plaintext: b64(plaintext) });
      const der = Buffer.from(enc.CiphertextBlob, 'base64');
      const raw = sm2DerToRaw(der); // also checks the DER shape independently
      assert.equal(raw.length, 65 + 32 + size);
      const ctFile = scratch.file(`sm2-k-${size}.ct`, der);
      assert.deepEqual(openssl(['pkeyutl', '-decrypt', '-inkey', k.privPem, '-in', ctFile]), plaintext, `${size} bytes`);
    }
    await h.refuse('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'SM2PKE', Plaintext: b64(randomBytes(4097)) }, 'InvalidParameter');
  });

  it('a changed, truncated or extended SM2 ciphertext is InvalidCiphertext', async () => {
    const ptFile = scratch.file('sm2-tamper.pt', 'tamper with me');
    const der = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', k.pubPem, '-in', ptFile]);
    const raw = sm2DerToRaw(der);
    const dec = (c: Buffer) => ({ KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'SM2PKE', CiphertextBlob: b64(c) });
    for (const at of [0, 1, 5, 40, der.length - 40, der.length - 1]) await h.refuse('AsymmetricDecrypt', dec(flip(der, at)), 'InvalidCiphertext');
    for (const at of [1, 40, 70, 100, raw.length - 1]) await h.refuse('AsymmetricDecrypt', dec(flip(raw, at)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(der.subarray(0, der.length - 1)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(Buffer.concat([der, Buffer.of(0)])), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(raw.subarray(0, 97)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(Buffer.alloc(0)), 'InvalidCiphertext');
  });

  it('EC_SM2 keys take only SM2PKE', async () => {
    for (const alg of ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'ECIES_DH_SHA_1_XOR_HMAC']) {
      await h.refuse('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Plaintext: b64(Buffer.from('x')) }, 'Rejected.Algorithm');
    }
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * ECIES_DH_SHA_1_XOR_HMAC as kms.md describes it, written here without src-main/crypto/ecies.ts:
 * V = ephemeral point (uncompressed), Z = ECDH x, K = KDF2-SHA1(V || Z) of 16 + len(M) bytes,
 * MAC key = K[0..16), pad = K[16..), C = M xor pad, T = HMAC-SHA1(MAC key, C || L2), V || C || T.
 * L2 is Bouncy Castle IESEngine's 64-bit length tag of the (empty) encoding parameter: 8 zero
 * bytes (kms.md writes "00000000").
 */
const ECIES_L2 = Buffer.alloc(8);

function kdf2Sha1(secret: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 1; blocks.length * 20 < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash('sha1').update(secret).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((x, i) => x ^ b[i]!));
}

function eciesReferenceDecrypt(curve: string, d: Buffer, ct: Buffer): Buffer {
  const V = ct.subarray(0, 65);
  const C = ct.subarray(65, ct.length - 20);
  const T = ct.subarray(ct.length - 20);
  const ecdh = createECDH(curve);
  ecdh.setPrivateKey(d);
  const Z = ecdh.computeSecret(V);
  assert.equal(Z.length, 32);
  const K = kdf2Sha1(Buffer.concat([V, Z]), 16 + C.length);
  const expectedTag = createHmac('sha1', K.subarray(0, 16)).update(C).update(ECIES_L2).digest();
  assert.ok(timingSafeEqual(expectedTag, T), 'HMAC-SHA1 tag over C || L2 matches');
  return xor(C, K.subarray(16));
}

function eciesReferenceEncrypt(curve: string, publicPoint: Buffer, M: Buffer): Buffer {
  const eph = createECDH(curve);
  const V = eph.generateKeys();
  const Z = eph.computeSecret(publicPoint);
  const K = kdf2Sha1(Buffer.concat([V, Z]), 16 + M.length);
  const C = xor(M, K.subarray(16));
  const T = createHmac('sha1', K.subarray(0, 16)).update(C).update(ECIES_L2).digest();
  return Buffer.concat([V, C, T]);
}

describe('ECIES_DH_SHA_1_XOR_HMAC with EC_P256 and EC_P256K, checked by an independent re-computation', () => {
  let h: Harness;
  const scratch = new Scratch();
  const keys = new Map<'EC_P256' | 'EC_P256K', KeyUnderTest & { curve: string; d: Buffer }>();
  before(async () => {
    h = await openHarness();
    for (const [spec, curve] of [['EC_P256', 'prime256v1'], ['EC_P256K', 'secp256k1']] as const) {
      const k = await createAsymmetric(h, scratch, spec, 'ENCRYPT/DECRYPT');
      // The private scalar as OpenSSL reads it out of the stored PKCS#8 (not via src-main's ASN.1 code).
      keys.set(spec, { ...k, curve, d: opensslPrivateScalar(k.privPem, 32) });
    }
  });
  after(async () => {
    await h.close();
    scratch.remove();
  });

  it('Keyroom\'s ciphertext is V || C || T as kms.md lays it out, and round-trips', async () => {
    for (const [spec, k] of keys) {
      for (const size of [1, 19, 20, 21, 100, 4096]) {
        const M = randomBytes(size);
        const enc = await h.call('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', Plaintext: b64(M) });
        const ct = Buffer.from(enc.CiphertextBlob, 'base64');
        assert.equal(ct.length, 65 + size + 20, `${spec}: V (65) || C (${size}) || T (20)`);
        assert.equal(ct[0], 0x04, 'V is an uncompressed point');
        assert.deepEqual(eciesReferenceDecrypt(k.curve, k.d, ct), M, `${spec} ${size} bytes: independent decryption`);
        const dec = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', CiphertextBlob: enc.CiphertextBlob });
        assert.deepEqual(Buffer.from(dec.Plaintext, 'base64'), M, `${spec} ${size} bytes: round trip`);
      }
      // Fresh ephemeral key each time.
      const a = await h.call('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', Plaintext: b64(Buffer.from('same')) });
      const b = await h.call('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', Plaintext: b64(Buffer.from('same')) });
      assert.notEqual(a.CiphertextBlob, b.CiphertextBlob);
    }
  });

  it('a ciphertext built by the independent code decrypts through AsymmetricDecrypt', async () => {
    for (const [spec, k] of keys) {
      const M = Buffer.from(`made outside Keyroom for ${spec}`);
      const ct = eciesReferenceEncrypt(k.curve, ecPoint(k.spki, 32), M);
      const dec = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', CiphertextBlob: b64(ct) });
      assert.deepEqual(Buffer.from(dec.Plaintext, 'base64'), M);
    }
  });

  it('a flipped byte in V, C or T, a truncated ciphertext, or another key\'s ciphertext is InvalidCiphertext', async () => {
    const [p256, k1] = [keys.get('EC_P256')!, keys.get('EC_P256K')!];
    const M = Buffer.from('flip a bit');
    const ct = eciesReferenceEncrypt(p256.curve, ecPoint(p256.spki, 32), M);
    const dec = (k: KeyUnderTest, c: Buffer) => ({ KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', CiphertextBlob: b64(c) });
    for (const at of [0, 1, 33, 64, 65, 65 + M.length - 1, 65 + M.length, ct.length - 1]) {
      await h.refuse('AsymmetricDecrypt', dec(p256, flip(ct, at)), 'InvalidCiphertext');
    }
    await h.refuse('AsymmetricDecrypt', dec(p256, ct.subarray(0, ct.length - 1)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(p256, ct.subarray(0, 65 + 19)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(p256, Buffer.alloc(0)), 'InvalidCiphertext');
    await h.refuse('AsymmetricDecrypt', dec(p256, Buffer.concat([ct, Buffer.of(0)])), 'InvalidCiphertext');
    // A P-256 point is (almost surely) not on secp256k1; either way the tag cannot match.
    await h.refuse('AsymmetricDecrypt', dec(k1, ct), 'InvalidCiphertext');
  });

  it('EC_P256 keys take only ECIES; EC_P384 and EC_SM2 never take it', async () => {
    const k = keys.get('EC_P256')!;
    for (const alg of ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'SM2PKE']) {
      await h.refuse('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: alg, Plaintext: b64(Buffer.from('x')) }, 'Rejected.Algorithm');
    }
    const sm2 = await h.call('CreateKey', { KeySpec: 'EC_SM2', KeyUsage: 'ENCRYPT/DECRYPT' });
    const sm2Version = await firstVersionOf(h, sm2.KeyMetadata.KeyId);
    await h.refuse('AsymmetricEncrypt', { KeyId: sm2.KeyMetadata.KeyId, KeyVersionId: sm2Version, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', Plaintext: b64(Buffer.from('x')) }, 'Rejected.Algorithm');
    await h.refuse('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'ECIES_DH_SHA_1_XOR_HMAC', Plaintext: b64(randomBytes(4097)) }, 'InvalidParameter');
  });
});
