/**
 * Keyroom's own checks of the formats (for VerifyFile): what they sign verifies, and each thing
 * the reference verifiers refuse is refused here too. The independent verifiers are in
 * test/integration/formats/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { signDetached as signPgp, OPENPGP_HASH } from '../../../src-main/formats/openpgp/signature';
import { verifyDetached as verifyPgp } from '../../../src-main/formats/openpgp/verify';
import { armor, dearmor } from '../../../src-main/formats/openpgp/armor';
import { createSigningInputHash, jwsSigningInput, signDetached as signJws } from '../../../src-main/formats/jws/detached';
import { createVerifyingHash, parseDetachedJws, verifyDetachedJws } from '../../../src-main/formats/jws/verify';
import { signBlob } from '../../../src-main/formats/cosign/bundle';
import { verifyBundle } from '../../../src-main/formats/cosign/verify';
import type { FormatKeySpec } from '../../../src-main/formats/keySpec';
import { KmsError } from '../../../src-shared/errors';
import { testKey, type TestKey } from '../../support/formatKeys';

const CREATED = new Date('2026-01-01T00:00:00Z');
const FILE = Buffer.from('the release artifact\n');
const CHANGED = Buffer.from('the release artifacT\n');

async function pgp(key: TestKey, file = FILE): Promise<string> {
  const h = OPENPGP_HASH[key.spec];
  return signPgp({ publicKey: { spki: key.spki, keySpec: key.spec, created: CREATED }, hashAlgorithm: h, fileHash: createHash(h).update(file), signatureTime: new Date(), sign: key.sign });
}

function checkPgp(asc: string, key: TestKey, file = FILE) {
  return verifyPgp({ armoredSignature: asc, publicKey: { spki: key.spki, keySpec: key.spec, created: CREATED }, fileHash: createHash(OPENPGP_HASH[key.spec]).update(file) });
}

describe('OpenPGP verifyDetached', () => {
  for (const spec of ['RSA_2048', 'EC_P256', 'EC_P256K', 'EC_P384', 'ED25519'] satisfies FormatKeySpec[]) {
    it(`${spec}: valid, and invalid for a changed file or another key`, async () => {
      const key = testKey(spec);
      const asc = await pgp(key);
      assert.equal(checkPgp(asc, key).valid, true);
      assert.equal(checkPgp(asc, key, CHANGED).valid, false);
      assert.equal(checkPgp(asc, testKey(spec)).valid, false);
      assert.equal(verifyPgp({ armoredSignature: asc, publicKey: { spki: key.spki, keySpec: key.spec, created: new Date(0) }, fileHash: createHash(OPENPGP_HASH[spec]).update(FILE) }).valid, false, 'another creation time is another key');
    });
  }

  it('pads an Ed25519 R or S that lost leading zero octets back to 32 (the pitfall of openpgpjs#1083)', async () => {
    const key = testKey('ED25519');
    for (const offset of [0, 32]) {
      let found = false;
      for (let i = 0; i < 5000 && !found; i++) {
        const file = Buffer.from(`file ${i}`);
        let raw: Buffer = Buffer.alloc(0);
        const asc = await signPgp({ publicKey: { spki: key.spki, keySpec: 'ED25519', created: CREATED }, hashAlgorithm: 'sha512', fileHash: createHash('sha512').update(file), signatureTime: CREATED, sign: async (m) => (raw = await key.sign(m)) });
        if (raw[offset] !== 0) continue;
        found = true;
        assert.deepEqual(checkPgp(asc, key, file), { valid: true, signatureTime: CREATED });
      }
      assert.ok(found, `no leading zero at ${offset}`);
    }
  });

  it('refuses a signature whose armor CRC does not match, and one with a changed signature value', async () => {
    const key = testKey('EC_P256');
    const asc = await pgp(key);
    const bin = dearmor(asc, 'PGP SIGNATURE');
    bin[bin.length - 5]! ^= 1;
    assert.equal(checkPgp(armor('PGP SIGNATURE', bin), key).valid, false);
    const lines = asc.split('\n');
    const crcAt = lines.findIndex((l) => l.startsWith('='));
    lines[crcAt] = lines[crcAt] === '=AAAA' ? '=AAAB' : '=AAAA';
    const verdict = checkPgp(lines.join('\n'), key);
    assert.equal(verdict.valid, false);
    assert.match(verdict.valid ? '' : verdict.reason, /checksum/);
  });
});

async function jws(key: TestKey, file = FILE): Promise<string> {
  const signingInput = jwsSigningInput(key.spki, key.spec);
  const sign = key.spec.startsWith('RSA_') ? key.signPss! : key.sign;
  if (signingInput.digest === 'message') return signJws({ keySpec: key.spec, spki: key.spki, signingInput, payload: { bytes: file }, sign });
  return signJws({ keySpec: key.spec, spki: key.spki, signingInput, payload: { hash: createSigningInputHash(signingInput).update(file) }, sign });
}

function checkJws(token: string, key: TestKey, file = FILE) {
  const parsed = parseDetachedJws(token);
  const hash = createVerifyingHash(parsed, key.spec);
  return verifyDetachedJws({ parsed, keySpec: key.spec, spki: key.spki, payload: hash ? { hash: hash.update(file) } : { bytes: file } });
}

describe('JWS verifyDetachedJws', () => {
  for (const spec of ['RSA_2048', 'EC_P256', 'EC_P384', 'ED25519'] satisfies FormatKeySpec[]) {
    it(`${spec}: valid, and invalid for a changed file or another key`, async () => {
      const key = testKey(spec);
      const token = await jws(key);
      assert.equal(checkJws(token, key).valid, true);
      assert.equal(checkJws(token, key, CHANGED).valid, false);
      assert.equal(checkJws(token, testKey(spec)).valid, false);
    });
  }

  it('refuses a b64:true header, a crit naming more, an attached payload, and DER in place of r||s', async () => {
    const key = testKey('EC_P256');
    const token = await jws(key);
    const [, , sig] = token.split('.');
    const b64true = Buffer.from(JSON.stringify({ alg: 'ES256', b64: true, crit: ['b64'] })).toString('base64url');
    assert.throws(() => parseDetachedJws(`${b64true}..${sig}`), KmsError);
    const critMore = Buffer.from('{"alg":"ES256","b64":false,"crit":["b64","exp"]}').toString('base64url');
    assert.throws(() => parseDetachedJws(`${critMore}..${sig}`), KmsError);
    assert.throws(() => parseDetachedJws(token.replace('..', '.cGF5bG9hZA.')), KmsError);
    let der: Buffer = Buffer.alloc(0);
    const signingInput = jwsSigningInput(key.spki, 'EC_P256');
    await signJws({ keySpec: 'EC_P256', spki: key.spki, signingInput, payload: { hash: createSigningInputHash(signingInput).update(FILE) }, sign: async (d) => (der = await key.sign(d)) });
    const withDer = `${signingInput.encodedHeader}..${der.toString('base64url')}`;
    assert.equal(checkJws(withDer, key).valid, false);
  });
});

describe('cosign verifyBundle', () => {
  for (const spec of ['EC_P256', 'RSA_2048'] satisfies FormatKeySpec[]) {
    it(`${spec}: valid, and invalid for a changed file or another key`, async () => {
      const key = testKey(spec);
      const digest = createHash('sha256').update(FILE).digest();
      const { bundleJson } = await signBlob({ keySpec: spec, spki: key.spki, fileSha256: digest, sign: key.sign });
      assert.equal(verifyBundle({ bundleJson, keySpec: spec, spki: key.spki, fileSha256: digest }).valid, true);
      assert.equal(verifyBundle({ bundleJson, keySpec: spec, spki: key.spki, fileSha256: createHash('sha256').update(CHANGED).digest() }).valid, false);
      assert.equal(verifyBundle({ bundleJson, keySpec: spec, spki: testKey(spec).spki, fileSha256: digest }).valid, false);
    });
  }
});

describe('a key reply that does not verify is refused before anything is encoded', () => {
  for (const spec of ['RSA_2048', 'EC_P256', 'ED25519'] satisfies FormatKeySpec[]) {
    it(`${spec}: OpenPGP, JWS and cosign (where it applies) throw Internal`, async () => {
      const key = testKey(spec);
      const other = testKey(spec);
      const isInternal = (e: unknown): boolean => e instanceof KmsError && e.code === 'Internal' && /does not verify/.test(e.message);
      await assert.rejects(pgp({ ...key, sign: other.sign }), isInternal);
      await assert.rejects(jws({ ...key, sign: other.sign, ...(other.signPss ? { signPss: other.signPss } : {}) }), isInternal);
      if (spec !== 'ED25519') {
        await assert.rejects(signBlob({ keySpec: spec, spki: key.spki, fileSha256: createHash('sha256').update(FILE).digest(), sign: other.sign }), isInternal);
      }
    });
  }
});
