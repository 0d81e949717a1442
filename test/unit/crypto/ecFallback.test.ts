/**
 * The @noble/curves paths that replace OpenSSL's EC where Electron's BoringSSL lacks the curve
 * (secp256k1, SM2): ECIES's ECDH and key generation, forced with provider 'noble' and judged by
 * OpenSSL (Node's crypto in this process, and the `openssl` command).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { ECDH_PROVIDERS, eciesDecrypt, eciesEncrypt, type EciesCurve } from '../../../src-main/crypto/ecies';
import { EC_KEYGEN_PROVIDERS, generateEcKeyPair } from '../../../src-main/crypto/ecKeys';
import { ecdsaSignDigest, ecdsaVerifyDigest } from '../../../src-main/crypto/ecdsa';
import {
  ecPkcs8FromScalar,
  ecPointFromSpki,
  ecScalarFromPkcs8,
  ecSpkiFromPoint,
  spkiToPem,
  type EcCurve,
} from '../../../src-main/crypto/keyEncoding';
import { sm2SignDigest, sm2MessageDigest } from '../../../src-main/crypto/sm2';
import { isKmsError } from '../../../src-shared/errors';
import { Scratch, opensslOk, pkcs8DerToPem } from '../../support/openssl';

const EC_CURVES: readonly EcCurve[] = ['prime256v1', 'secp256k1', 'secp384r1', 'SM2'];
const ECIES_CURVES: readonly EciesCurve[] = ['prime256v1', 'secp256k1'];
const SCALAR_BYTES: Readonly<Record<EcCurve, number>> = { prime256v1: 32, secp256k1: 32, secp384r1: 48, SM2: 32 };

function opensslKeyPair(curve: EcCurve): { d: Buffer; point: Buffer; pkcs8: Buffer; spki: Buffer } {
  const pair = generateKeyPairSync('ec', { namedCurve: curve });
  const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
  return { d: ecScalarFromPkcs8(pkcs8, SCALAR_BYTES[curve]), point: ecPointFromSpki(spki), pkcs8, spki };
}

describe('EC provider selection', () => {
  it('uses OpenSSL for every curve in plain Node', () => {
    assert.deepEqual(ECDH_PROVIDERS, { prime256v1: 'openssl', secp256k1: 'openssl' });
    assert.deepEqual(EC_KEYGEN_PROVIDERS, { prime256v1: 'openssl', secp256k1: 'openssl', secp384r1: 'openssl', SM2: 'openssl' });
  });
});

describe('ECIES across ECDH providers', () => {
  for (const curve of ECIES_CURVES) {
    it(`${curve}: noble encrypts, OpenSSL decrypts, and the other way round`, () => {
      const key = opensslKeyPair(curve);
      for (const length of [0, 1, 19, 20, 21, 100, 4096]) {
        const message = randomBytes(length);
        const byNoble = eciesEncrypt(curve, key.point, message, 'noble');
        assert.deepEqual(eciesDecrypt(curve, key.d, byNoble, 'openssl'), message, `length ${length}`);
        const byOpenssl = eciesEncrypt(curve, key.point, message, 'openssl');
        assert.deepEqual(eciesDecrypt(curve, key.d, byOpenssl, 'noble'), message, `length ${length}`);
        assert.deepEqual(eciesDecrypt(curve, key.d, byNoble, 'noble'), message, `length ${length}`);
      }
    });

    it(`${curve}: noble rejects what OpenSSL rejects`, () => {
      const key = opensslKeyPair(curve);
      const ciphertext = eciesEncrypt(curve, key.point, randomBytes(32), 'noble');
      const offCurve = Buffer.from(key.point);
      offCurve[64] = offCurve[64]! ^ 1;
      for (const provider of ['noble', 'openssl'] as const) {
        assert.throws(
          () => eciesEncrypt(curve, offCurve, randomBytes(8), provider),
          (e: unknown) => isKmsError(e) && e.code === 'InvalidParameter',
          provider,
        );
        const badPoint = Buffer.from(ciphertext);
        badPoint[64] = badPoint[64]! ^ 1;
        const badTag = Buffer.from(ciphertext);
        badTag[badTag.length - 1] = badTag[badTag.length - 1]! ^ 1;
        for (const bad of [badPoint, badTag]) {
          assert.throws(
            () => eciesDecrypt(curve, key.d, bad, provider),
            (e: unknown) => isKmsError(e) && e.code === 'InvalidCiphertext',
            provider,
          );
        }
      }
    });
  }
});

describe('EC key generation and encoding without OpenSSL', () => {
  it('writes an OpenSSL key back byte for byte (PKCS#8 and SPKI)', () => {
    for (const curve of EC_CURVES) {
      const key = opensslKeyPair(curve);
      assert.deepEqual(ecPkcs8FromScalar(curve, key.d, key.point), key.pkcs8, curve);
      assert.deepEqual(ecSpkiFromPoint(curve, key.point), key.spki, curve);
    }
  });

  for (const curve of EC_CURVES) {
    it(`${curve}: noble-generated keys are what OpenSSL would have written, and OpenSSL accepts them`, () => {
      const { pkcs8, spki } = generateEcKeyPair(curve, 'noble');
      const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      // OpenSSL re-exports exactly the same bytes and derives the same public key.
      assert.deepEqual(privateKey.export({ format: 'der', type: 'pkcs8' }), pkcs8);
      assert.deepEqual(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), spki);
      // Read back as OpenSSL reads its own keys of this curve (an SM2 PKCS#8 becomes an 'sm2' key).
      const reference = createPrivateKey({ key: opensslKeyPair(curve).pkcs8, format: 'der', type: 'pkcs8' });
      assert.equal(privateKey.asymmetricKeyType, reference.asymmetricKeyType);
      assert.deepEqual(privateKey.asymmetricKeyDetails, reference.asymmetricKeyDetails);
      // And the command line's own consistency check of the private key and its public point.
      const scratch = new Scratch();
      try {
        const check = opensslOk(['ec', '-check', '-noout', '-in', scratch.file('key.pem', pkcs8DerToPem(pkcs8))]);
        assert.ok(check.ok, check.output);
      } finally {
        scratch.remove();
      }
    });
  }

  it('noble-generated ECDSA keys sign what OpenSSL verifies', () => {
    for (const curve of ['prime256v1', 'secp256k1', 'secp384r1'] as const) {
      const { pkcs8, spki } = generateEcKeyPair(curve, 'noble');
      const message = randomBytes(100);
      const digest = createHash('sha256').update(message).digest();
      const signature = ecdsaSignDigest(curve, pkcs8, digest);
      assert.ok(verify('sha256', message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature), curve);
      const theirs = sign('sha256', message, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
      assert.ok(ecdsaVerifyDigest(curve, spki, digest, theirs), curve);
    }
  });

  it('noble-generated SM2 keys sign what `openssl dgst -sm3 -sigopt distid:...` verifies', () => {
    const { pkcs8, spki } = generateEcKeyPair('SM2', 'noble');
    const message = randomBytes(100);
    const point = ecPointFromSpki(spki);
    const signature = sm2SignDigest(ecScalarFromPkcs8(pkcs8, 32), sm2MessageDigest(point, message));
    const scratch = new Scratch();
    try {
      const ok = opensslOk([
        'dgst', '-sm3', '-verify', scratch.file('pub.pem', spkiToPem(spki)), '-sigopt', 'distid:1234567812345678',
        '-signature', scratch.file('sig.der', signature), scratch.file('msg.bin', message),
      ]);
      assert.ok(ok.ok, ok.output);
    } finally {
      scratch.remove();
    }
  });

  it('each noble key is fresh', () => {
    for (const curve of EC_CURVES) {
      assert.notDeepEqual(generateEcKeyPair(curve, 'noble').spki, generateEcKeyPair(curve, 'noble').spki, curve);
    }
  });
});

describe('spkiToPem', () => {
  it('armours exactly as OpenSSL exports, for every curve and RSA', () => {
    const keys = [
      ...EC_CURVES.map((curve) => generateKeyPairSync('ec', { namedCurve: curve }).publicKey),
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
    ];
    for (const key of keys) {
      const der = key.export({ format: 'der', type: 'spki' });
      assert.equal(spkiToPem(der), key.export({ format: 'pem', type: 'spki' }).toString());
    }
  });
});
