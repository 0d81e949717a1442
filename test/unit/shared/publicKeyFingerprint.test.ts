/**
 * The fingerprint the renderer shows beside a public key: SHA-256 over the DER inside the PEM,
 * computed without Node (the same function runs in the browser). Node's own crypto is the judge.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { publicKeyFingerprint, spkiFromPem } from '../../../src-shared/domain/publicKeyFingerprint';
import { KmsError } from '../../../src-shared/errors';

describe('publicKeyFingerprint', () => {
  it('is the SHA-256 of the DER SubjectPublicKeyInfo, plain lowercase hex, for RSA and EC keys', () => {
    for (const [type, opts] of [
      ['rsa', { modulusLength: 2048 }],
      ['ec', { namedCurve: 'prime256v1' }],
    ] as const) {
      const { publicKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const der = publicKey.export({ type: 'spki', format: 'der' });
      assert.deepEqual(Buffer.from(spkiFromPem(pem)), der, type);
      const fp = publicKeyFingerprint(pem);
      assert.equal(fp, createHash('sha256').update(der).digest('hex'), type);
      assert.match(fp, /^[0-9a-f]{64}$/);
      // Line endings and surrounding text do not change it.
      assert.equal(publicKeyFingerprint(`label\r\n${pem.replace(/\n/g, '\r\n')}trailer`), fp, `${type}: CRLF`);
    }
  });

  it('refuses what is not a PEM public key', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const bad of [
      '',
      'not a key',
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      pem.replace('KEY-----\n', 'KEY-----\n!'),
      pem.replace(/\n-----END/, 'A\n-----END'),
      '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
    ]) {
      assert.throws(() => publicKeyFingerprint(bad), (e: unknown) => e instanceof KmsError && e.code === 'InvalidParameter', JSON.stringify(bad.slice(0, 40)));
    }
  });
});
