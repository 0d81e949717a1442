/** JWS pieces against RFC 7797 §4, RFC 7638 §3.1 and RFC 7515 Appendix A.3. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { encodeProtectedHeader, signingInputPrefix, jwsSigningInput, signDetached, JWS_EDDSA_MAX_PAYLOAD_BYTES } from '../../../src-main/formats/jws/detached';
import { jwkThumbprint, publicJwk } from '../../../src-main/formats/jws/jwk';
import { ecdsaDerToP1363 } from '../../../src-main/formats/ecdsaSignature';
import { KmsError } from '../../../src-shared/errors';
import { ed25519TestKey, testKey } from '../../support/formatKeys';
import { verifyDetachedJws } from '../../support/jwsVerifier';

/** DER SEQUENCE{r, s} of IEEE P1363 r||s (test-side, to feed the converter). */
function p1363ToDer(rs: Buffer): Buffer {
  const int = (v: Buffer): Buffer => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const m = v.subarray(i);
    const body = m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m;
    return Buffer.concat([Buffer.from([2, body.length]), body]);
  };
  const half = rs.length / 2;
  const seq = Buffer.concat([int(rs.subarray(0, half)), int(rs.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

describe('JWS vectors', () => {
  it('RFC 7797 §4.2: the unencoded detached example, header encoding and signing input', () => {
    const header = encodeProtectedHeader({ alg: 'HS256', b64: false, crit: ['b64'] });
    assert.equal(header, 'eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19');
    // RFC 7515 Appendix A.1's HMAC key, as RFC 7797 §4 uses it.
    const key = Buffer.from('AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow', 'base64url');
    const mac = createHmac('sha256', key).update(Buffer.concat([signingInputPrefix(header), Buffer.from('$.02')])).digest('base64url');
    assert.equal(`${header}..${mac}`, 'eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY');
  });

  it('RFC 7638 §3.1: the thumbprint of the example RSA key', () => {
    const n = '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    assert.equal(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB' }), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('RFC 7515 A.3: the ES256 example verifies in the test verifier, and DER -> r||s gives its 64 octets back', async () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
    const sig = 'DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q';
    const rs = Buffer.from(sig, 'base64url');
    assert.deepEqual(ecdsaDerToP1363(p1363ToDer(rs), 32), rs);
    // A.3 is an attached, encoded JWS; its signing input is header.payload, checked with WebCrypto directly.
    const { webcrypto } = await import('node:crypto');
    const key = await webcrypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const input = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ');
    assert.equal(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, rs, input), true);
    assert.equal(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, p1363ToDer(rs), input), false);
  });
});

describe('ECDSA DER to fixed-length r||s', () => {
  it('left-pads an r and an s that lost leading zero octets (31 and 30 octets) to 32', () => {
    const r = Buffer.concat([Buffer.from([0]), Buffer.alloc(31, 0x11)]);
    const s = Buffer.concat([Buffer.from([0, 0]), Buffer.alloc(30, 0x92)]);
    const der = p1363ToDer(Buffer.concat([r, s]));
    assert.equal(der.length, 2 + 2 + 31 + 2 + 31); // s: 30 octets with its high bit set -> sign octet
    assert.deepEqual(ecdsaDerToP1363(der, 32), Buffer.concat([r, s]));
  });

  it('refuses non-minimal, negative, trailing or oversized integers', () => {
    const good = p1363ToDer(Buffer.concat([Buffer.alloc(32, 0x22), Buffer.alloc(32, 0x33)]));
    assert.throws(() => ecdsaDerToP1363(Buffer.concat([good, Buffer.from([0])]), 32), KmsError);
    assert.throws(() => ecdsaDerToP1363(Buffer.from('3008020200010202000a', 'hex'), 32), KmsError); // 00 01: non-minimal
    assert.throws(() => ecdsaDerToP1363(Buffer.from('30060201800201 01'.replace(' ', ''), 'hex'), 32), KmsError); // 0x80: negative
    assert.throws(() => ecdsaDerToP1363(good, 31), KmsError);
  });
});

describe('JWK and header', () => {
  it('writes RSA, EC and OKP members with kid = thumbprint, and refuses secp256k1', () => {
    const ec = publicJwk(testKey('EC_P384').spki, 'EC_P384');
    assert.equal(ec.kty, 'EC');
    assert.equal(ec.kty === 'EC' && ec.crv, 'P-384');
    assert.equal(ec.kid, jwkThumbprint(ec));
    assert.equal(ec.alg, 'ES384');
    const ed = publicJwk(ed25519TestKey().spki, 'ED25519');
    assert.deepEqual(Object.keys(ed).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.throws(() => publicJwk(testKey('EC_P256K').spki, 'EC_P256K'), (e: unknown) => e instanceof KmsError && e.code === 'Rejected.KeySpec');
  });

  it('the header is {alg, kid, b64:false, crit:[b64]}', () => {
    const key = testKey('EC_P256');
    const input = jwsSigningInput(key.spki, 'EC_P256');
    const header = JSON.parse(Buffer.from(input.encodedHeader, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(header, { alg: 'ES256', kid: publicJwk(key.spki, 'EC_P256').kid, b64: false, crit: ['b64'] });
    assert.equal(input.digest, 'sha256');
  });
});

describe('EdDSA JWS', () => {
  it('signs prefix || payload itself, and refuses a payload over 64 MiB before signing', async () => {
    const key = ed25519TestKey();
    const signingInput = jwsSigningInput(key.spki, 'ED25519');
    let seen: Buffer | undefined;
    const token = await signDetached({ keySpec: 'ED25519', spki: key.spki, signingInput, payload: { bytes: Buffer.from('small') }, sign: async (m) => { seen = m; return key.sign(m); } });
    assert.deepEqual(seen, Buffer.concat([signingInput.prefix, Buffer.from('small')]));
    assert.ok(await verifyDetachedJws(token, publicJwk(key.spki, 'ED25519'), Buffer.from('small')));
    let called = false;
    await assert.rejects(
      signDetached({ keySpec: 'ED25519', spki: key.spki, signingInput, payload: { bytes: Buffer.alloc(JWS_EDDSA_MAX_PAYLOAD_BYTES + 1) }, sign: async (m) => { called = true; return key.sign(m); } }),
      (e: unknown) => e instanceof KmsError && e.code === 'InvalidParameter.InputFile',
    );
    assert.equal(called, false);
  });
});
