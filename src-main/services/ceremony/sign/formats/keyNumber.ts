/**
 * The 8-byte key number minisign and signify put in every key and signature. Their own tools pick
 * it at random when they make a key; Keyroom's keys are made elsewhere, so it is derived, the same
 * on every export: the first 8 bytes of SHA-256 over the 32-byte Ed25519 public key.
 */
import { createHash } from 'node:crypto';
import { KEYNUM_BYTES } from '../../../../formats/minisign/edStruct';

export function edKeyNumber(publicKey32: Uint8Array): Buffer {
  return createHash('sha256').update(publicKey32).digest().subarray(0, KEYNUM_BYTES);
}
