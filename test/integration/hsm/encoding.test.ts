/**
 * The DER the PKCS#11 backend builds and reads (SPKI from token attributes, CKA_EC_PARAMS, ECDSA
 * r||s -> DER, DigestInfo) and its OAEP decoding, each against Node's OpenSSL or noble. No token
 * needed: the token-side checks of the same functions are in backend.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { KmsError } from '../../../src-shared/errors';
import { ecdsaRawToDer, ecParamsDer, ecPointFromAttribute, ecSpki, rsaSpki, sha256DigestInfo } from '../../../src-main/backends/pkcs11/encoding';
import { emeOaepDecode } from '../../../src-main/backends/pkcs11/oaep';

describe('SubjectPublicKeyInfo from token attributes', () => {
  it('RSA: equals what OpenSSL exports for the same modulus and exponent', () => {
    for (const bits of [2048, 3072]) {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const jwk = publicKey.export({ format: 'jwk' });
      const n = Buffer.from(jwk.n!, 'base64url');
      const e = Buffer.from(jwk.e!, 'base64url');
      assert.deepEqual(rsaSpki(n, e), publicKey.export({ format: 'der', type: 'spki' }));
      // A token that pads the modulus with a zero byte gives the same SPKI.
      assert.deepEqual(rsaSpki(Buffer.concat([Buffer.alloc(1), n]), Buffer.concat([Buffer.alloc(2), e])), publicKey.export({ format: 'der', type: 'spki' }));
    }
  });

  it('EC: equals what OpenSSL exports, from a DER-wrapped CKA_EC_POINT (SoftHSM) or a bare one', () => {
    for (const [curve, oidDer] of [['prime256v1', '06082a8648ce3d030107'], ['secp256k1', '06052b8104000a'], ['secp384r1', '06052b81040022']] as const) {
      assert.equal(ecParamsDer(curve).toString('hex'), oidDer);
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const spki = publicKey.export({ format: 'der', type: 'spki' });
      const bytes = curve === 'secp384r1' ? 97 : 65;
      const point = spki.subarray(spki.length - bytes);
      const wrapped = Buffer.concat([Buffer.from([0x04, bytes]), point]);
      assert.deepEqual(ecSpki(curve, ecPointFromAttribute(wrapped, curve)), spki, curve);
      assert.deepEqual(ecSpki(curve, ecPointFromAttribute(point, curve)), spki, curve);
      assert.throws(() => ecPointFromAttribute(point.subarray(1), curve), (e: unknown) => e instanceof KmsError && e.code === 'Hsm.DeviceError');
    }
  });
});

describe('ECDSA r||s to DER', () => {
  it('gives minimal INTEGERs, as noble and OpenSSL write them, for high-bit and leading-zero values', () => {
    const cases: [string, typeof p256, number][] = [['P-256', p256, 32], ['secp256k1', secp256k1, 32], ['P-384', p384, 48]];
    for (const [name, curve, size] of cases) {
      const specials = [
        Buffer.concat([Buffer.from([0x80]), randomBytes(size - 1)]), // top bit set: needs a 0x00
        Buffer.concat([Buffer.alloc(2), Buffer.from([0x7f]), randomBytes(size - 3)]), // leading zero bytes: dropped
        Buffer.concat([Buffer.alloc(size - 1), Buffer.from([1])]), // 1
      ];
      for (const r of specials) {
        for (const s of specials) {
          const raw = Buffer.concat([r, s]);
          const ours = ecdsaRawToDer(raw, size);
          const noble = Buffer.from(curve.Signature.fromBytes(raw, 'compact').toBytes('der'));
          assert.deepEqual(ours, noble, name);
        }
      }
      // A real signature checks out against the digest.
      const { secretKey, publicKey } = curve.keygen();
      const digest = createHash(size === 48 ? 'sha384' : 'sha256').update('m').digest();
      const raw = curve.sign(digest, secretKey, { prehash: false, format: 'compact' });
      assert.ok(curve.verify(ecdsaRawToDer(raw, size), digest, publicKey, { prehash: false, format: 'der', lowS: false }), name);
      assert.throws(() => ecdsaRawToDer(raw.subarray(1), size), (e: unknown) => e instanceof KmsError);
    }
  });
});

describe('DigestInfo for CKM_RSA_PKCS', () => {
  it('is the RFC 8017 SHA-256 prefix followed by the digest', () => {
    const d = createHash('sha256').update('x').digest();
    assert.equal(sha256DigestInfo(d).toString('hex'), `3031300d060960864801650304020105000420${d.toString('hex')}`);
  });
});

describe('EME-OAEP decoding after raw RSA', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const raw = (ct: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ct);

  it('recovers what OpenSSL encrypted with OAEP SHA-256 / SHA-1, every length', () => {
    for (const hash of ['sha256', 'sha1'] as const) {
      for (const size of [0, 1, 31, 100, hash === 'sha256' ? 190 : 214]) {
        const m = randomBytes(size);
        const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, m);
        assert.deepEqual(emeOaepDecode(raw(ct), hash), m, `${hash} ${size}`);
      }
    }
  });

  it('refuses the other hash, a label, a changed block and a too-short block with one and the same error', () => {
    const m = Buffer.from('secret');
    const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, m);
    const em = raw(ct);
    const messages = new Set<string>();
    const refuse = (block: Buffer, hash: 'sha1' | 'sha256') =>
      assert.throws(
        () => emeOaepDecode(block, hash),
        (e: unknown) => e instanceof KmsError && e.code === 'InvalidCiphertext' && (messages.add(e.message), true),
      );
    refuse(em, 'sha1');
    const labelled = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('L') }, m);
    refuse(raw(labelled), 'sha256');
    for (const i of [0, 1, 40, 100, 255]) {
      const bad = Buffer.from(em);
      bad[i]! ^= 1;
      refuse(bad, 'sha256');
    }
    refuse(em.subarray(0, 60), 'sha256');
    assert.equal(messages.size, 1, 'every failure looks the same');
  });
});
