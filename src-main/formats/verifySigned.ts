/**
 * The inverse of the Signer contract (keySpec.ts), for reading signatures back (VerifyFile):
 * RSA over a SHA-256 digest (PKCS#1 v1.5 or PSS), ECDSA over a digest with a DER signature,
 * Ed25519 over the message. Wrapped around src-main/crypto's verifiers, which work on curves
 * Electron's BoringSSL lacks.
 */
import { verify as nodeVerify } from 'node:crypto';
import { ecdsaVerifyDigest, type EcdsaCurve } from '../crypto/ecdsa';
import { spkiKeyObject } from '../crypto/keyEncoding';
import { rsaVerifyDigest, type RsaSignScheme } from '../crypto/rsa';
import { KmsError } from '../../src-shared/errors';
import type { FormatKeySpec } from './keySpec';

const CURVE: Readonly<Record<'EC_P256' | 'EC_P256K' | 'EC_P384', EcdsaCurve>> = { EC_P256: 'prime256v1', EC_P256K: 'secp256k1', EC_P384: 'secp384r1' };

export function verifySigned(keySpec: FormatKeySpec, spki: Buffer, input: Buffer, signed: Buffer, rsaScheme: RsaSignScheme = 'PKCS1'): boolean {
  try {
    if (keySpec === 'ED25519') return signed.length === 64 && nodeVerify(null, input, spkiKeyObject(spki), signed);
    if (keySpec === 'EC_P256' || keySpec === 'EC_P256K' || keySpec === 'EC_P384') return ecdsaVerifyDigest(CURVE[keySpec], spki, input, signed);
    return input.length === 32 && rsaVerifyDigest(spkiKeyObject(spki), rsaScheme, input, signed);
  } catch {
    return false; // a key that does not parse verifies nothing
  }
}

/**
 * Checks the key's reply before any format encodes it: a token fault must not be published as a
 * signature (and a faulty RSA-CRT signature would even reveal the key; Boneh-DeMillo-Lipton).
 */
export function assertSigned(keySpec: FormatKeySpec, spki: Buffer, input: Buffer, signed: Buffer, rsaScheme: RsaSignScheme = 'PKCS1'): void {
  if (!verifySigned(keySpec, spki, input, signed, rsaScheme)) {
    throw new KmsError('Internal', 'The key returned a signature that does not verify with its public key; nothing was written. Check the token and retry.');
  }
}
