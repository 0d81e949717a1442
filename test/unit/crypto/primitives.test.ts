/** Blob layout, EMSA-PSS and the fixed-length PKCS#1 v1.5 unwrap, against OpenSSL where it can judge. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { assembleBlob, encodeHeader, parseBlob, HEADER_BYTES } from '../../../src-main/crypto/ciphertextBlob';
import { emsaPssEncode, emsaPssVerify, rsaPkcs1DecryptFixedLength, rsaSignDigest, rsaVerifyDigest } from '../../../src-main/crypto/rsa';
import { KmsError } from '../../../src-shared/errors';
import { Scratch, opensslOk } from '../../support/openssl';

describe('CiphertextBlob layout', () => {
  it('round-trips the header fields at the documented offsets', () => {
    const keyId = randomUUID();
    const keyVersionId = randomUUID();
    const iv = randomBytes(12);
    const header = encodeHeader({ keyId, keyVersionId, algorithm: 'SM4_GCM', iv });
    assert.equal(header.length, HEADER_BYTES);
    assert.equal(header[0], 1);
    assert.equal(header[33], 2);
    const blob = assembleBlob(header, Buffer.from('ct'), Buffer.alloc(16, 7));
    const p = parseBlob(blob);
    assert.equal(p.keyId, keyId);
    assert.equal(p.keyVersionId, keyVersionId);
    assert.equal(p.algorithm, 'SM4_GCM');
    assert.deepEqual(p.iv, iv);
    assert.equal(p.ciphertext.toString(), 'ct');
    assert.throws(() => parseBlob(blob.subarray(0, 61)), (e: KmsError) => e.code === 'InvalidCiphertext');
    const v2 = Buffer.from(blob);
    v2[0] = 2;
    assert.throws(() => parseBlob(v2), (e: KmsError) => e.code === 'InvalidCiphertext');
  });
});

describe('RSA over a digest', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const message = Buffer.from('artifact');
  const digest = createHash('sha256').update(message).digest();

  it('EMSA-PSS encoding verifies its own output and rejects a changed digest', () => {
    const em = emsaPssEncode(digest, 2048);
    assert.equal(em.length, 256);
    assert.equal(em[255], 0xbc);
    assert.ok(emsaPssVerify(digest, em, 2048));
    assert.ok(!emsaPssVerify(createHash('sha256').update('other').digest(), em, 2048));
  });

  it('PSS and PKCS#1 v1.5 signatures verify with openssl dgst, and strictly here', () => {
    const s = new Scratch();
    try {
      const pub = s.file('pub.pem', publicKey.export({ type: 'spki', format: 'pem' }));
      const msg = s.file('msg', message);
      for (const scheme of ['PSS', 'PKCS1'] as const) {
        const sig = rsaSignDigest(pkcs8, scheme, digest);
        const sigFile = s.file(`sig-${scheme}`, sig);
        const pss = scheme === 'PSS' ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1'] : [];
        const r = opensslOk(['dgst', '-sha256', '-verify', pub, ...pss, '-signature', sigFile, msg]);
        assert.ok(r.ok, r.output);
        assert.ok(rsaVerifyDigest(publicKey, scheme, digest, sig));
        assert.ok(!rsaVerifyDigest(publicKey, scheme, digest, Buffer.concat([sig, Buffer.from([0])])), 'trailing byte refused');
        const bad = Buffer.from(sig);
        bad[10]! ^= 1;
        assert.ok(!rsaVerifyDigest(publicKey, scheme, digest, bad));
      }
    } finally {
      s.remove();
    }
  });

  it('unwraps PKCS#1 v1.5 only at the expected length, with one error for every failure', () => {
    const material = randomBytes(32);
    const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, material);
    assert.deepEqual(rsaPkcs1DecryptFixedLength(pkcs8, wrapped, 32), material);
    assert.throws(() => rsaPkcs1DecryptFixedLength(pkcs8, wrapped, 16), (e: KmsError) => e.code === 'InvalidEncryptedKeyMaterial');
    const bad = Buffer.from(wrapped);
    bad[5]! ^= 1;
    assert.throws(() => rsaPkcs1DecryptFixedLength(pkcs8, bad, 32), (e: KmsError) => e.code === 'InvalidEncryptedKeyMaterial');
    assert.throws(() => rsaPkcs1DecryptFixedLength(pkcs8, wrapped.subarray(1), 32), (e: KmsError) => e.code === 'InvalidEncryptedKeyMaterial');
  });
});
