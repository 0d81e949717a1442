/**
 * ECDSA over a caller-computed digest on P-256, secp256k1 and P-384, with @noble/curves:
 * Node's crypto.sign always hashes its input, so it cannot sign a digest. Signatures are DER
 * SEQUENCE{r, s}, as `openssl dgst -verify` reads them.
 */
import { p256, p384 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ecScalarFromPkcs8, ecPointFromSpki } from './keyEncoding';
import { wipe } from './wipe';

export type EcdsaCurve = 'prime256v1' | 'secp256k1' | 'secp384r1';

/** The @noble/curves implementation and scalar size of each curve, shared with ecies and ecKeys. */
export const NOBLE_CURVES = {
  prime256v1: { impl: p256, bytes: 32 },
  secp256k1: { impl: secp256k1, bytes: 32 },
  secp384r1: { impl: p384, bytes: 48 },
} as const;

export function ecdsaSignDigest(curve: EcdsaCurve, pkcs8: Uint8Array, digest: Uint8Array): Buffer {
  const { impl, bytes } = NOBLE_CURVES[curve];
  const d = ecScalarFromPkcs8(pkcs8, bytes);
  try {
    // extraEntropy: hedged nonces (RFC 6979 plus randomness) resist fault attacks.
    return Buffer.from(impl.sign(digest, d, { prehash: false, format: 'der', extraEntropy: true }));
  } finally {
    wipe(d);
  }
}

/**
 * Strict DER only (noble rejects trailing bytes and non-minimal integers); high-S signatures are
 * valid ECDSA (OpenSSL makes them), so lowS is not required.
 */
export function ecdsaVerifyDigest(curve: EcdsaCurve, spki: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  const { impl } = NOBLE_CURVES[curve];
  try {
    return impl.verify(signature, digest, ecPointFromSpki(spki), { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}
