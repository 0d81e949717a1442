/**
 * Detached unencoded JWS from every key spec JWS takes, checked by the test's own RFC 7515/7797
 * verifier on Node's WebCrypto (test/support/jwsVerifier.ts), with the `.jwk.json` as written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSigningInputHash, jwsSigningInput, signDetached } from '../../../src-main/formats/jws/detached';
import { publicJwkJson } from '../../../src-main/formats/jws/jwk';
import type { FormatKeySpec, Signer } from '../../../src-main/formats/keySpec';
import { testKey, type TestKey } from '../../support/formatKeys';
import { verifyDetachedJws } from '../../support/jwsVerifier';

/** Signs `file` as SignFile would: streams it in chunks into the prefixed hash (EdDSA: whole). */
async function sign(key: TestKey, file: Buffer, signer?: Signer): Promise<string> {
  const signingInput = jwsSigningInput(key.spki, key.spec);
  const sign = signer ?? (key.spec.startsWith('RSA_') ? key.signPss! : key.sign);
  if (signingInput.digest === 'message') return signDetached({ keySpec: key.spec, spki: key.spki, signingInput, payload: { bytes: file }, sign });
  const hash = createSigningInputHash(signingInput);
  for (let at = 0; at < file.length; at += 65536) hash.update(file.subarray(at, at + 65536));
  return signDetached({ keySpec: key.spec, spki: key.spki, signingInput, payload: { hash }, sign });
}

const SPECS: FormatKeySpec[] = ['RSA_2048', 'RSA_3072', 'EC_P256', 'EC_P384', 'ED25519'];

describe('JWS verified by WebCrypto against the written JWK', () => {
  for (const spec of SPECS) {
    it(`${spec}: verifies, and a changed byte of the file does not`, async () => {
      const key = testKey(spec);
      const file = randomBytes(300_000);
      const token = await sign(key, file);
      const jwk = JSON.parse(publicJwkJson(key.spki, spec)) as { kty: string };
      assert.equal(await verifyDetachedJws(token, jwk, file), true);
      file[123_456]! ^= 0x80;
      assert.equal(await verifyDetachedJws(token, jwk, file), false);
    });
  }

  it('ES256: r||s keeps its fixed 64 octets when r has a leading zero octet (DER would have 31)', async () => {
    const key = testKey('EC_P256');
    const jwk = JSON.parse(publicJwkJson(key.spki, 'EC_P256')) as { kty: string };
    for (let i = 0; i < 3000; i++) {
      const file = Buffer.from(`artifact ${i}`);
      let der: Buffer = Buffer.alloc(0);
      const token = await sign(key, file, async (d) => (der = await key.sign(d)));
      if (der[3] !== 31) continue; // 30 len 02 <rlen>: r is 31 octets without a sign octet
      const sig = Buffer.from(token.split('.')[2]!, 'base64url');
      assert.equal(sig.length, 64);
      assert.equal(sig[0], 0);
      assert.equal(await verifyDetachedJws(token, jwk, file), true);
      return;
    }
    assert.fail('no r with a leading zero octet in 3000 signatures');
  });

  it('a JWK of another key of the same spec refuses the token', async () => {
    const file = randomBytes(1000);
    const token = await sign(testKey('EC_P384'), file);
    const other = JSON.parse(publicJwkJson(testKey('EC_P384').spki, 'EC_P384')) as { kty: string };
    assert.equal(await verifyDetachedJws(token, other, file), false);
  });
});
