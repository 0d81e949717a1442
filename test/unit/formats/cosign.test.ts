/** The sigstore bundle's exact shape (reference note §4) and the key specs cosign takes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { signBlob, SIGSTORE_BUNDLE_V03 } from '../../../src-main/formats/cosign/bundle';
import { readMessageSignatureBundle } from '../../../src-main/formats/cosign/readBundle';
import type { FormatKeySpec } from '../../../src-main/formats/keySpec';
import { KmsError } from '../../../src-shared/errors';
import { testKey } from '../../support/formatKeys';

const DIGEST = createHash('sha256').update('release.tar.gz contents').digest();

describe('sigstore bundle v0.3 with a public-key hint', () => {
  it('has exactly mediaType, verificationMaterial.publicKey.hint and messageSignature{messageDigest, signature}', async () => {
    const key = testKey('EC_P256');
    const signed = await signBlob({ keySpec: 'EC_P256', spki: key.spki, fileSha256: DIGEST, sign: key.sign });
    const parsed = JSON.parse(signed.bundleJson) as Record<string, unknown>;
    const signature = (parsed.messageSignature as { signature: string }).signature;
    assert.deepEqual(parsed, {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: createHash('sha256').update(key.spki).digest('base64') } },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: DIGEST.toString('base64') }, signature },
    });
    assert.equal(SIGSTORE_BUNDLE_V03, parsed.mediaType);
    assert.equal(Buffer.from(signature, 'base64')[0], 0x30, 'DER SEQUENCE, not r||s');
    assert.equal(signed.signatureBase64, `${signature}\n`);
    const read = readMessageSignatureBundle(signed.bundleJson);
    assert.deepEqual(read.fileSha256, DIGEST);
    assert.equal(read.signature.toString('base64'), signature);
  });

  it('hands the key the file digest itself (cosign hashes once, with SHA-256)', async () => {
    const key = testKey('RSA_2048');
    let seen: Buffer | undefined;
    const signed = await signBlob({ keySpec: 'RSA_2048', spki: key.spki, fileSha256: DIGEST, sign: async (d) => { seen = d; return key.sign(d); } });
    assert.deepEqual(seen, DIGEST);
    assert.equal(Buffer.from(signed.bundle.messageSignature.signature, 'base64').length, 256);
  });

  for (const spec of ['EC_P384', 'EC_P256K', 'ED25519'] satisfies FormatKeySpec[]) {
    it(`refuses ${spec} before signing`, async () => {
      const key = testKey(spec);
      let called = false;
      await assert.rejects(
        signBlob({ keySpec: spec, spki: key.spki, fileSha256: DIGEST, sign: async (d) => { called = true; return key.sign(d); } }),
        (e: unknown) => e instanceof KmsError && e.code === 'Rejected.KeySpec' && /EC_P256, RSA_2048/.test(e.message),
      );
      assert.equal(called, false);
    });
  }

  it('reading refuses log entries, another media type, another digest and non-canonical base64', async () => {
    const key = testKey('EC_P256');
    const { bundle } = await signBlob({ keySpec: 'EC_P256', spki: key.spki, fileSha256: DIGEST, sign: key.sign });
    const variants: unknown[] = [
      { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [] } },
      { ...bundle, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2' },
      { ...bundle, messageSignature: { ...bundle.messageSignature, messageDigest: { algorithm: 'SHA2_384', digest: bundle.messageSignature.messageDigest.digest } } },
      { ...bundle, messageSignature: { ...bundle.messageSignature, signature: `${bundle.messageSignature.signature}\n` } },
      { ...bundle, extra: 1 },
    ];
    for (const v of variants) assert.throws(() => readMessageSignatureBundle(JSON.stringify(v)), KmsError, JSON.stringify(v).slice(0, 80));
    assert.throws(() => readMessageSignatureBundle('not json'), KmsError);
  });
});
