/**
 * A sigstore bundle v0.3 holding a message signature made with a key, for
 * `cosign verify-blob --key K.pub.pem --bundle f.sigstore.json --insecure-ignore-tlog f`
 * (reference note §4; sigstore/protobuf-specs `Bundle`, `MessageSignature`, `PublicKeyIdentifier`,
 * in protobuf JSON: lowerCamelCase members, enums by name, bytes as padded base64).
 *
 * - verificationMaterial.publicKey.hint: the verifier gets the key from --key; the hint only names
 *   it. It is base64(SHA-256(SPKI DER)), sigstore-go's convention for key hints.
 * - No tlogEntries and no timestampVerificationData: sigstore-go requires inclusion proofs only
 *   for entries that exist, and cosign ignores the log with --insecure-ignore-tlog.
 * - messageSignature: messageDigest SHA2_256 of the file (the verifier recomputes and compares it)
 *   and the signature over that digest: DER ECDSA P-256 (ecdsa.VerifyASN1) or RSASSA-PKCS1-v1_5
 *   with SHA-256. cosign hashes with SHA-256 for every key type, so P-384 would need a deprecated
 *   flag, and Ed25519 is ambiguous (ph or pure): both are refused here.
 *
 * The same signature, base64, is `f.sig.b64` for `cosign verify-blob --key K.pub.pem
 * --signature f.sig.b64 --insecure-ignore-tlog f` (the legacy path).
 */
import { createHash } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { ecdsaDerToRs } from '../ecdsaSignature';
import type { FormatKeySpec, Signer } from '../keySpec';
import { publicKeyNumbers } from '../publicKey';
import { assertSigned } from '../verifySigned';

export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export const COSIGN_KEY_SPECS: readonly FormatKeySpec[] = ['EC_P256', 'RSA_2048', 'RSA_3072', 'RSA_4096'];

export interface MessageSignatureBundle {
  mediaType: typeof SIGSTORE_BUNDLE_V03;
  verificationMaterial: { publicKey: { hint: string } };
  messageSignature: {
    messageDigest: { algorithm: 'SHA2_256'; digest: string };
    signature: string;
  };
}

export function assertCosignKeySpec(keySpec: FormatKeySpec): void {
  if (!COSIGN_KEY_SPECS.includes(keySpec)) {
    throw new KmsError('Rejected.KeySpec', `cosign signatures are made with ${COSIGN_KEY_SPECS.join(', ')} keys, not ${keySpec} (cosign verifies with SHA-256 only, and Ed25519 is ambiguous there).`);
  }
}

/** base64(SHA-256(SPKI DER)): the hint naming the key (sigstore-go `GetHint`). */
export function publicKeyHint(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('base64');
}

export interface SignBlobInput {
  keySpec: FormatKeySpec;
  spki: Buffer;
  /** SHA-256 of the file, 32 octets (shared with the raw format's digest). */
  fileSha256: Buffer;
  /** EC_P256: digest -> DER (ECDSA_SHA_256); RSA: digest -> RSASSA-PKCS1-v1_5 (RSA_PKCS1_SHA_256). */
  sign: Signer;
}

export interface SignedBlob {
  /** The `f.sigstore.json` text. */
  bundleJson: string;
  /** The `f.sig.b64` text: the signature in base64 and a newline. */
  signatureBase64: string;
  bundle: MessageSignatureBundle;
}

export async function signBlob(input: SignBlobInput): Promise<SignedBlob> {
  assertCosignKeySpec(input.keySpec);
  publicKeyNumbers(input.spki, input.keySpec); // the key must be what its spec says
  if (input.fileSha256.length !== 32) throw new KmsError('Internal', 'cosign signs the 32-octet SHA-256 of the file.');
  const signature = await input.sign(input.fileSha256);
  if (input.keySpec === 'EC_P256') ecdsaDerToRs(signature, 32); // strict DER, as ecdsa.VerifyASN1 wants
  else if (signature.length * 8 !== Number(input.keySpec.slice(4))) throw new KmsError('Internal', 'The key returned an RSA signature of the wrong length; nothing was written.');
  assertSigned(input.keySpec, input.spki, input.fileSha256, signature);
  const bundle: MessageSignatureBundle = {
    mediaType: SIGSTORE_BUNDLE_V03,
    verificationMaterial: { publicKey: { hint: publicKeyHint(input.spki) } },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: input.fileSha256.toString('base64') },
      signature: signature.toString('base64'),
    },
  };
  return { bundleJson: `${JSON.stringify(bundle, null, 2)}\n`, signatureBase64: `${signature.toString('base64')}\n`, bundle };
}
