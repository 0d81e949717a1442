/**
 * The rehearsal's stand-in cloud reads unwrapped PKCS#8 as strictly as a cloud would: exactly one
 * DER PrivateKeyInfo, nothing after it (what a KWP that counted its padding leaves: 1 to 7 zero
 * bytes). Python's `cryptography` is the outside judge where it is installed; OpenSSL is not, as it
 * reads past nothing and accepts the padded form.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { derElementLength, requireExactPkcs8 } from '../../../src-main/crypto/keyEncoding';
import { publicKeyOfMaterial } from '../../../src-main/crypto/keyCheckValue';
import { KmsError } from '../../../src-shared/errors';
import { hasPythonCryptography } from '../../support/strictUnwrap';

function pythonLoads(der: Buffer): boolean {
  const r = spawnSync('python3', ['-c', 'import sys\nfrom cryptography.hazmat.primitives.serialization import load_der_private_key\nload_der_private_key(bytes.fromhex(sys.argv[1]), None)', der.toString('hex')]);
  return r.status === 0;
}

const keys = {
  RSA_2048: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  EC_P256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EC_P384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
} as const;

describe('requireExactPkcs8', () => {
  for (const [spec, pair] of Object.entries(keys) as [keyof typeof keys, (typeof keys)[keyof typeof keys]][]) {
    const der = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });

    it(`${spec}: the exact PKCS#8 passes, and its public key comes out`, () => {
      assert.equal(derElementLength(der), der.length);
      requireExactPkcs8(der);
      assert.deepEqual(publicKeyOfMaterial(spec, der, 'pkcs8'), spki);
      if (hasPythonCryptography()) assert.ok(pythonLoads(der));
    });

    it(`${spec}: 1 to 7 zero bytes after it, or one byte short, are InvalidEncryptedKeyMaterial (Python agrees)`, () => {
      const variants = [1, 2, 3, 4, 5, 6, 7].map((n) => Buffer.concat([der, Buffer.alloc(n)]));
      variants.push(der.subarray(0, der.length - 1));
      for (const bad of variants) {
        assert.throws(() => publicKeyOfMaterial(spec, bad, 'pkcs8'), (e: unknown) => e instanceof KmsError && e.code === 'InvalidEncryptedKeyMaterial' && new RegExp(`${bad.length} bytes`).test(e.message));
        if (hasPythonCryptography()) assert.equal(pythonLoads(bad), false, `Python refuses ${bad.length} bytes`);
      }
    });
  }

  it('not DER at all: refused, saying so', () => {
    assert.throws(() => requireExactPkcs8(Buffer.from('not a key')), (e: unknown) => e instanceof KmsError && /not a DER PKCS#8/.test(e.message));
    assert.throws(() => requireExactPkcs8(Buffer.from([0x30, 0x80, 0, 0])), (e: unknown) => e instanceof KmsError && e.code === 'InvalidEncryptedKeyMaterial');
  });

  it('derElementLength reads short and long forms, and refuses non-minimal ones', () => {
    assert.equal(derElementLength(Buffer.from([0x30, 0x05])), 7);
    assert.equal(derElementLength(Buffer.from([0x30, 0x81, 0x87])), 3 + 0x87);
    assert.equal(derElementLength(Buffer.from([0x30, 0x82, 0x04, 0xbe])), 4 + 0x4be);
    assert.equal(derElementLength(Buffer.from([0x30, 0x81, 0x05])), undefined, 'a long form for a short length is not DER');
    assert.equal(derElementLength(Buffer.from([0x30, 0x82, 0x00, 0x90])), undefined, 'a leading zero length byte is not DER');
    assert.equal(derElementLength(Buffer.from([0x30])), undefined);
  });
});
