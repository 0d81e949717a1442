/**
 * `cosign`: a sigstore bundle `f.sigstore.json` (cosign verify-blob --bundle) and the bare
 * signature `f.sig.b64`, over the file's SHA-256; the key as `<KeyId>.pub.pem`. P-256 and RSA.
 */
import { KmsError } from '../../../../../src-shared/errors';
import { spkiToPem } from '../../../../crypto/keyEncoding';
import { shellWord } from '../../../../files/shellWord';
import { COSIGN_KEY_SPECS, signBlob, verifyBundle } from '../../../../formats/cosign';
import type { FormatKeySpec } from '../../../../formats/keySpec';
import type { PerFileFormat } from './format';
import { formatKeySpec, keySigner } from './signers';

export const cosignFormat: PerFileFormat = {
  name: 'cosign',
  kind: 'per-file',
  accepts: (spec) => COSIGN_KEY_SPECS.includes(spec as FormatKeySpec),
  fileDigests: () => ['sha256'],
  publicKeyFiles: (key) => [{ name: `${key.keyId}.pub.pem`, content: spkiToPem(key.spki) }],
  signatureName: (base) => `${base}.sigstore.json`,
  companionNames: (base) => [`${base}.sig.b64`],
  async sign(key, _options, file, signer) {
    const fileSha256 = file.digests.get('sha256')!;
    const signed = await signBlob({ keySpec: formatKeySpec(key.spec), spki: key.spki, fileSha256, sign: keySigner(key, signer, 'PKCS1') });
    return { content: signed.bundleJson, companions: [signed.signatureBase64], digest: { algorithm: 'sha256', value: fileSha256 } };
  },
  /** A bundle that cannot be read is not a valid signature: false, as for the other formats. */
  verify(key, _options, signature, digests) {
    try {
      return verifyBundle({ bundleJson: signature.toString('utf8'), keySpec: formatKeySpec(key.spec), spki: key.spki, fileSha256: digests.get('sha256')! }).valid;
    } catch (e) {
      if (e instanceof KmsError && e.code === 'InvalidParameter') return false;
      throw e;
    }
  },
  /** With OpenSSL alone (cosign verify-blob --key K --bundle B f checks the same signature). */
  verifyCommand(_key, _options, file, signaturePath, publicKeyPaths) {
    const b64 = signaturePath.replace(/\.sigstore\.json$/, '.sig.b64');
    return `base64 -d ${shellWord(b64)} | openssl dgst -sha256 -verify ${shellWord(publicKeyPaths[0]!)} -signature /dev/stdin ${shellWord(file)}`;
  },
};
