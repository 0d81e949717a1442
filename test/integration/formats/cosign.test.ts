/**
 * cosign bundles checked with OpenSSL: there is no cosign binary on Debian 12, so the test runs
 * what `cosign verify-blob --key K.pub.pem --bundle f.sigstore.json --insecure-ignore-tlog f`
 * checks: the bundle's digest is SHA-256 of the file, and the signature (DER ECDSA P-256 or
 * RSASSA-PKCS1-v1_5) verifies over the file with SHA-256 (`openssl dgst -sha256 -verify`).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { signBlob } from '../../../src-main/formats/cosign/bundle';
import { readMessageSignatureBundle } from '../../../src-main/formats/cosign/readBundle';
import { spkiToPem } from '../../../src-main/crypto/keyEncoding';
import type { FormatKeySpec } from '../../../src-main/formats/keySpec';
import { testKey } from '../../support/formatKeys';
import { openssl, opensslOk, Scratch } from '../../support/openssl';

const scratch = new Scratch();
after(() => scratch.remove());

describe('cosign bundle and .sig.b64 verified by OpenSSL over the file', () => {
  for (const spec of ['EC_P256', 'RSA_2048', 'RSA_3072'] satisfies FormatKeySpec[]) {
    it(`${spec}: digest and signature check out, and a changed byte of the file does not`, async () => {
      const key = testKey(spec);
      const content = randomBytes(200_000);
      const f = scratch.file(`${spec}.bin`, content);
      const signed = await signBlob({ keySpec: spec, spki: key.spki, fileSha256: createHash('sha256').update(content).digest(), sign: key.sign });
      const bundlePath = scratch.file(`${spec}.bin.sigstore.json`, signed.bundleJson);
      const read = readMessageSignatureBundle(scratch.read(`${spec}.bin.sigstore.json`).toString());
      assert.ok(bundlePath.endsWith('.sigstore.json'));
      assert.deepEqual(read.fileSha256, openssl(['dgst', '-sha256', '-binary', f]));
      const pub = scratch.file(`${spec}.pub.pem`, spkiToPem(key.spki));
      const sig = scratch.file(`${spec}.sig`, read.signature);
      const ok = opensslOk(['dgst', '-sha256', '-verify', pub, '-signature', sig, f]);
      assert.ok(ok.ok, ok.output);
      // f.sig.b64 is the same signature (cosign's --signature path); base64 -d gives it back.
      const b64 = scratch.file(`${spec}.sig.b64`, signed.signatureBase64);
      const fromB64 = scratch.file(`${spec}.sig.from-b64`, openssl(['base64', '-d', '-in', b64]));
      assert.ok(opensslOk(['dgst', '-sha256', '-verify', pub, '-signature', fromB64, f]).ok);
      content[100_000]! ^= 1;
      const changed = scratch.file(`${spec}.changed`, content);
      assert.equal(opensslOk(['dgst', '-sha256', '-verify', pub, '-signature', sig, changed]).ok, false);
    });
  }
});
