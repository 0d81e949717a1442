/**
 * Pure Ed25519 (RFC 8032 §5.1) with Node's crypto: ed25519 is in both OpenSSL and Electron's
 * BoringSSL. The key signs the message itself (no prehash), so callers hand over the message.
 * Keys are PKCS#8 / SPKI DER as RFC 8410 writes them (id-Ed25519 1.3.101.112, no parameters).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { KmsError } from '../../src-shared/errors';

export const ID_ED25519 = '1.3.101.112';
export const ED25519_SIGNATURE_BYTES = 64;
export const ED25519_PUBLIC_BYTES = 32;
/** The fixed 12-byte SPKI prefix of RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (33) }. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function generateEd25519(): { pkcs8: Buffer; spki: Buffer } {
  const pair = generateKeyPairSync('ed25519');
  return { pkcs8: pair.privateKey.export({ format: 'der', type: 'pkcs8' }), spki: pair.publicKey.export({ format: 'der', type: 'spki' }) };
}

export function ed25519Sign(pkcs8: Uint8Array, message: Uint8Array): Buffer {
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new KmsError('Internal', 'The keystore holds a key that is not Ed25519 for an ED25519 key version.');
  return sign(null, message, key);
}

/** Strict: a signature that is not exactly 64 bytes is false (OpenSSL also refuses S >= L). */
export function ed25519Verify(spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), signature);
  } catch {
    return false;
  }
}

/** The SPKI of a raw 32-byte public key A. */
export function ed25519SpkiFromRaw(pk: Uint8Array): Buffer {
  if (pk.length !== ED25519_PUBLIC_BYTES) throw new KmsError('Hsm.DeviceError', `An Ed25519 public key is 32 bytes; this one has ${pk.length}.`);
  return Buffer.concat([SPKI_PREFIX, pk]);
}

/** The raw 32-byte public key A inside an Ed25519 SPKI (refuses anything else). */
export function ed25519RawFromSpki(spki: Uint8Array): Buffer {
  const b = Buffer.from(spki);
  if (b.length !== SPKI_PREFIX.length + ED25519_PUBLIC_BYTES || !b.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX)) {
    throw new KmsError('InvalidParameter.PublicKey', 'The public key is not an Ed25519 SubjectPublicKeyInfo (RFC 8410).');
  }
  return b.subarray(SPKI_PREFIX.length);
}
