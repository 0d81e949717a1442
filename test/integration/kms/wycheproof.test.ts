/**
 * Project Wycheproof vectors through Keyroom's own verification and decryption code: the
 * hand-built EMSA-PSS and strict PKCS#1 v1.5 verification (rsa.ts), ECDSA over a digest with
 * @noble/curves (ecdsa.ts), RSA-OAEP decryption and the constant-time PKCS#1 v1.5 unwrapping used
 * for BYOK import (rsa.ts), and the SoftwareBackend's AES-256-GCM and HMAC.
 *
 * "valid" must pass and "invalid" must fail; "acceptable" may go either way and is only counted.
 * The vectors live in the repository (test/vectors/wycheproof/, SOURCES.md there names the
 * commit), so every suite runs on a fresh clone; a missing file fails the test.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rsaVerifyDigest, rsaOaepDecrypt, rsaPkcs1DecryptFixedLength, type RsaSignScheme } from '../../../src-main/crypto/rsa';
import { ecdsaVerifyDigest, type EcdsaCurve } from '../../../src-main/crypto/ecdsa';
import { SoftwareBackend } from '../../../src-main/backends/software/softwareBackend';
import type { StoredVersion } from '../../../src-main/backends/backend';
import type { KeySpec, MacAlgorithm } from '../../../src-shared/domain/keySpecs';
import { isKmsError } from '../../../src-shared/errors';
import { spkiToPem } from '../../../src-main/crypto/keyEncoding';
import { aes256Block, kwpUnwrap, kwpWrap } from '../../../src-main/crypto/keyWrapPad';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { openHarness } from '../../support/kmsHarness';
import type { OperationOutput } from '../../../src-shared/contract/operations';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const VECTORS = join(REPO, 'test', 'vectors', 'wycheproof');

type Result = 'valid' | 'invalid' | 'acceptable';

interface TestCase {
  tcId: number;
  comment: string;
  flags?: string[];
  result: Result;
  msg: string;
  [field: string]: unknown;
}

interface Suite<G> {
  algorithm: string;
  numberOfTests: number;
  testGroups: (G & { tests: TestCase[] })[];
}

/** The suite from test/vectors/wycheproof/. */
function load<G>(file: string): Suite<G> {
  return JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as Suite<G>;
}

const hex = (s: unknown) => Buffer.from(String(s ?? ''), 'hex');

/** Counts per expected result, and every case where Keyroom disagreed with the vector. */
class Tally {
  valid = 0;
  invalid = 0;
  acceptableAccepted = 0;
  acceptableRejected = 0;
  notApplicable = 0;
  readonly wrong: string[] = [];

  judge(tc: TestCase, accepted: boolean, note = ''): void {
    if (tc.result === 'acceptable') {
      if (accepted) this.acceptableAccepted++;
      else this.acceptableRejected++;
      return;
    }
    if (tc.result === 'valid') this.valid++;
    else this.invalid++;
    if (accepted !== (tc.result === 'valid')) {
      this.wrong.push(`tcId ${tc.tcId} (${tc.result}: ${tc.comment || '-'}; ${(tc.flags ?? []).join(',')}) ${accepted ? 'accepted' : 'rejected'}${note ? `: ${note}` : ''}`);
    }
  }

  report(t: TestContext, name: string): void {
    const passed = this.valid + this.invalid - this.wrong.length;
    t.diagnostic(
      `${name}: ${passed} passed, ${this.wrong.length} failed (valid ${this.valid}, invalid ${this.invalid}, ` +
        `acceptable accepted ${this.acceptableAccepted} / rejected ${this.acceptableRejected}, not applicable ${this.notApplicable})`,
    );
    assert.ok(this.valid > 0 && this.invalid > 0, `${name}: no cases ran`);
    assert.deepEqual(this.wrong, [], `${name}: Keyroom disagrees with Wycheproof`);
  }
}

// ---------------------------------------------------------------------------------------------

interface RsaSigGroup {
  publicKeyDer: string;
  sha: string;
  keySize: number;
  sLen?: number;
  mgfSha?: string;
}

function rsaSignatureSuite(file: string, scheme: RsaSignScheme) {
  return (t: TestContext) => {
    const suite = load<RsaSigGroup>(file);
    const tally = new Tally();
    for (const g of suite.testGroups) {
      assert.equal(g.sha, 'SHA-256');
      if (scheme === 'PSS') {
        // Keyroom's RSA_PSS_SHA_256 is MGF1-SHA-256, salt 32: the only parameters this file uses.
        assert.equal(g.mgfSha, 'SHA-256');
        assert.equal(g.sLen, 32);
      }
      let key: KeyObject;
      try {
        key = createPublicKey({ key: hex(g.publicKeyDer), format: 'der', type: 'spki' });
      } catch {
        for (const tc of g.tests) tally.judge(tc, false, 'public key does not parse');
        continue;
      }
      for (const tc of g.tests) {
        const digest = createHash('sha256').update(hex(tc.msg)).digest();
        let accepted: boolean;
        try {
          accepted = rsaVerifyDigest(key, scheme, digest, hex(tc.sig));
        } catch (e) {
          accepted = false;
          tally.judge(tc, accepted, `threw ${(e as Error).message}`);
          continue;
        }
        tally.judge(tc, accepted);
      }
    }
    tally.report(t, file);
  };
}

interface EcdsaGroup {
  publicKeyDer: string;
  sha: string;
  publicKey: { curve: string };
}

function ecdsaSuite(file: string, curve: EcdsaCurve, wycheproofCurve: string, hash: 'sha256' | 'sha384') {
  return (t: TestContext) => {
    const suite = load<EcdsaGroup>(file);
    const tally = new Tally();
    for (const g of suite.testGroups) {
      assert.equal(g.publicKey.curve, wycheproofCurve);
      assert.equal(g.sha, hash === 'sha256' ? 'SHA-256' : 'SHA-384');
      const spki = hex(g.publicKeyDer);
      for (const tc of g.tests) {
        const digest = createHash(hash).update(hex(tc.msg)).digest();
        tally.judge(tc, ecdsaVerifyDigest(curve, spki, digest, hex(tc.sig)));
      }
    }
    tally.report(t, file);
  };
}

interface OaepGroup {
  privateKeyPkcs8: string;
  sha: string;
  mgfSha: string;
  keySize: number;
}

function oaepSuite(file: string, hash: 'sha256' | 'sha1') {
  return (t: TestContext) => {
    const suite = load<OaepGroup>(file);
    const tally = new Tally();
    const name = hash === 'sha256' ? 'SHA-256' : 'SHA-1';
    for (const g of suite.testGroups) {
      assert.equal(g.sha, name);
      assert.equal(g.mgfSha, name);
      const pkcs8 = hex(g.privateKeyPkcs8);
      for (const tc of g.tests) {
        // Keyroom's RSAES_OAEP_* use the empty label (kms.md); a labelled case tests something else.
        if (String(tc.label ?? '') !== '') {
          tally.notApplicable++;
          continue;
        }
        try {
          const pt = rsaOaepDecrypt(pkcs8, hash, hex(tc.ct));
          tally.judge(tc, pt.equals(hex(tc.msg)), pt.equals(hex(tc.msg)) ? '' : 'decrypted to other bytes');
        } catch (e) {
          assert.ok(isKmsError(e) && e.code === 'InvalidCiphertext', `tcId ${tc.tcId}: failed with ${String(e)}, not InvalidCiphertext`);
          tally.judge(tc, false);
        }
      }
    }
    tally.report(t, file);
  };
}

describe('Wycheproof: signature verification (rsa.ts, ecdsa.ts)', () => {
  it('RSASSA-PSS 2048, SHA-256, MGF1-SHA-256, salt 32 (rsaVerifyDigest PSS)', rsaSignatureSuite('rsa_pss_2048_sha256_mgf1_32_test.json', 'PSS'));
  it('RSASSA-PKCS1-v1_5 2048, SHA-256 (rsaVerifyDigest PKCS1)', rsaSignatureSuite('rsa_signature_2048_sha256_test.json', 'PKCS1'));
  it('ECDSA P-256 / SHA-256, DER (ecdsaVerifyDigest)', ecdsaSuite('ecdsa_secp256r1_sha256_test.json', 'prime256v1', 'secp256r1', 'sha256'));
  it('ECDSA secp256k1 / SHA-256, DER (ecdsaVerifyDigest)', ecdsaSuite('ecdsa_secp256k1_sha256_test.json', 'secp256k1', 'secp256k1', 'sha256'));
  it('ECDSA P-384 / SHA-384, DER (ecdsaVerifyDigest)', ecdsaSuite('ecdsa_secp384r1_sha384_test.json', 'secp384r1', 'secp384r1', 'sha384'));
});

describe('Wycheproof: RSA decryption (rsa.ts)', () => {
  it('RSAES-OAEP 2048, SHA-256 / MGF1-SHA-256 (rsaOaepDecrypt)', oaepSuite('rsa_oaep_2048_sha256_mgf1sha256_test.json', 'sha256'));
  it('RSAES-OAEP 2048, SHA-1 / MGF1-SHA-1 (rsaOaepDecrypt)', oaepSuite('rsa_oaep_2048_sha1_mgf1sha1_test.json', 'sha1'));

  it('RSAES-PKCS1-v1_5 2048, the BYOK unwrapping (rsaPkcs1DecryptFixedLength)', (t) => {
    const suite = load<{ privateKeyPkcs8: string }>('rsa_pkcs1_2048_test.json');
    const tally = new Tally();
    const unwraps = (pkcs8: Buffer, ct: Buffer, length: number): Buffer | undefined => {
      try {
        return rsaPkcs1DecryptFixedLength(pkcs8, ct, length);
      } catch (e) {
        assert.ok(isKmsError(e) && e.code === 'InvalidEncryptedKeyMaterial', String(e));
        return undefined;
      }
    };
    for (const g of suite.testGroups) {
      const pkcs8 = hex(g.privateKeyPkcs8);
      for (const tc of g.tests) {
        const msg = hex(tc.msg);
        const ct = hex(tc.ct);
        if (tc.result === 'valid') {
          // The unwrapper is told the length it expects (32 for AES_256, 16 for SM4): the right
          // length gives the message, any other length is a failure, never other bytes.
          const out = unwraps(pkcs8, ct, msg.length);
          const otherLength = [16, 32].find((n) => n !== msg.length)!;
          const wrongLength = unwraps(pkcs8, ct, otherLength);
          tally.judge(tc, out !== undefined && out.equals(msg) && wrongLength === undefined, `length ${msg.length} -> ${out?.toString('hex')}, length ${otherLength} -> ${wrongLength?.toString('hex')}`);
        } else {
          // Bad padding fails whatever length is expected.
          const got = [msg.length, 16, 32].map((n) => unwraps(pkcs8, ct, n)).filter((x) => x !== undefined);
          tally.judge(tc, got.length > 0, got.map((b) => b.toString('hex')).join(' '));
        }
      }
    }
    tally.report(t, 'rsa_pkcs1_2048_test.json');
  });
});

// ---------------------------------------------------------------------------------------------

function version(keySpec: KeySpec, material: Buffer): StoredVersion {
  return { keyId: 'wycheproof', keyVersionId: 'wycheproof', keySpec, material, publicKey: null, hsmObjectId: null };
}

describe('Wycheproof: the SoftwareBackend\'s symmetric primitives', () => {
  const backend = new SoftwareBackend();

  it('AES-256-GCM, 12-byte IVs, 16-byte tags (symmetricEncrypt / symmetricDecrypt)', async (t) => {
    const suite = load<{ keySize: number; ivSize: number; tagSize: number }>('aes_gcm_test.json');
    const tally = new Tally();
    for (const g of suite.testGroups) {
      // Keyroom only makes AES-256 keys, 12-byte random IVs and 16-byte tags (kms.md): the other
      // groups test parameters no Keyroom blob can carry.
      if (g.keySize !== 256 || g.ivSize !== 96 || g.tagSize !== 128) {
        tally.notApplicable += g.tests.length;
        continue;
      }
      for (const tc of g.tests) {
        const v = version('AES_256', hex(tc.key));
        const [iv, aad, msg, ct, tag] = [tc.iv, tc.aad, tc.msg, tc.ct, tc.tag].map(hex) as [Buffer, Buffer, Buffer, Buffer, Buffer];
        let accepted: boolean;
        try {
          const pt = await backend.symmetricDecrypt(v, iv, { ciphertext: ct, tag }, aad);
          accepted = pt.equals(msg);
        } catch (e) {
          assert.ok(isKmsError(e) && e.code === 'InvalidCiphertext', `tcId ${tc.tcId}: ${String(e)}`);
          accepted = false;
        }
        if (tc.result === 'valid') {
          const sealed = await backend.symmetricEncrypt(v, iv, msg, aad);
          accepted &&= sealed.ciphertext.equals(ct) && sealed.tag.equals(tag);
        }
        tally.judge(tc, accepted);
      }
    }
    tally.report(t, 'aes_gcm_test.json');
  });

  for (const [file, spec, alg, bits] of [
    ['hmac_sha256_test.json', 'HMAC_256', 'HMAC_SHA_256', 256],
    ['hmac_sha384_test.json', 'HMAC_384', 'HMAC_SHA_384', 384],
    ['hmac_sha512_test.json', 'HMAC_512', 'HMAC_SHA_512', 512],
  ] as const) {
    it(`${alg} (SoftwareBackend.mac)`, async (t) => {
      const suite = load<{ keySize: number; tagSize: number }>(file);
      const tally = new Tally();
      for (const g of suite.testGroups) {
        for (const tc of g.tests) {
          // Groups with truncated tags compare the leading tagSize bits, as Wycheproof intends.
          const mac = await backend.mac(version(spec, hex(tc.key)), alg as MacAlgorithm, hex(tc.msg));
          assert.equal(mac.length, bits / 8);
          tally.judge(tc, mac.subarray(0, g.tagSize / 8).equals(hex(tc.tag)));
        }
      }
      tally.report(t, file);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The same signature vectors through VerifyFile (issue 7): each message and signature written to
// files, checked with the group's public key given as PEM, as for signatures made elsewhere.

function verifyFileSuite(file: string, algorithm: 'RSA_PSS_SHA_256' | 'RSA_PKCS1_SHA_256' | 'ECDSA_SHA_256' | 'ECDSA_SHA_384') {
  return async (t: TestContext) => {
    const suite = load<{ publicKeyDer: string }>(file);
    const h = await openHarness();
    try {
      const tally = new Tally();
      const msgFile = join(h.dir, 'msg.bin');
      const sigFile = join(h.dir, 'msg.sig');
      for (const g of suite.testGroups) {
        const pem = spkiToPem(hex(g.publicKeyDer));
        for (const tc of g.tests) {
          writeFileSync(msgFile, hex(tc.msg));
          writeFileSync(sigFile, hex(tc.sig));
          const r = await dispatch(h.session, 'VerifyFile', { PublicKey: pem, Algorithm: algorithm, File: msgFile, SignatureFile: sigFile });
          if (r.ok) tally.judge(tc, (r.value as OperationOutput<'VerifyFile'>).Value);
          else tally.judge(tc, false, `${r.error.Code}: ${r.error.Message}`);
        }
      }
      tally.report(t, `${file} via VerifyFile`);
    } finally {
      await h.close();
    }
  };
}

describe('Wycheproof: signature verification through VerifyFile (files and a PEM public key)', () => {
  it('RSASSA-PSS 2048, SHA-256, salt 32', verifyFileSuite('rsa_pss_2048_sha256_mgf1_32_test.json', 'RSA_PSS_SHA_256'));
  it('RSASSA-PKCS1-v1_5 2048, SHA-256', verifyFileSuite('rsa_signature_2048_sha256_test.json', 'RSA_PKCS1_SHA_256'));
  it('ECDSA P-256 / SHA-256', verifyFileSuite('ecdsa_secp256r1_sha256_test.json', 'ECDSA_SHA_256'));
  it('ECDSA secp256k1 / SHA-256', verifyFileSuite('ecdsa_secp256k1_sha256_test.json', 'ECDSA_SHA_256'));
  it('ECDSA P-384 / SHA-384', verifyFileSuite('ecdsa_secp384r1_sha384_test.json', 'ECDSA_SHA_384'));
});

// ---------------------------------------------------------------------------------------------
// AES-256 key wrap with padding (RFC 5649), the BYOK envelopes' second half (keyWrapPad.ts):
// wrapping a valid case must give its ciphertext; unwrapping must accept exactly the valid ones.

describe('Wycheproof: AES-KWP with 256-bit keys (keyWrapPad.ts)', () => {
  it('wraps to the vectors\' ciphertexts and unwraps only the valid ones', (t) => {
    const suite = load<{ keySize: number }>('aes_kwp_test.json');
    const tally = new Tally();
    for (const g of suite.testGroups) {
      if (g.keySize !== 256) {
        tally.notApplicable += g.tests.length;
        continue;
      }
      for (const tc of g.tests) {
        const cipher = aes256Block(hex(tc.key));
        let unwrapped: Buffer | undefined;
        try {
          unwrapped = kwpUnwrap(cipher, hex(tc.ct));
        } catch (e) {
          assert.ok(isKmsError(e) && e.code === 'InvalidEncryptedKeyMaterial', `tcId ${tc.tcId}: ${String(e)}`);
        }
        const accepted = unwrapped !== undefined && unwrapped.equals(hex(tc.msg));
        if (tc.result === 'valid' && hex(tc.msg).length > 0) {
          assert.equal(kwpWrap(cipher, hex(tc.msg)).toString('hex'), String(tc.ct), `tcId ${tc.tcId}: wrap`);
        }
        tally.judge(tc, accepted);
      }
    }
    tally.report(t, 'aes_kwp_test.json (256-bit keys)');
  });
});
