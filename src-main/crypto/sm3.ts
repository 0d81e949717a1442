/**
 * SM3 (GB/T 32905-2016) over Node's bundled OpenSSL. A JS hash would be an order of magnitude
 * slower for bulk data, and OpenSSL's `sm3` is the same code the `openssl` CLI verifies with.
 */
import { createHash, type Hash } from 'node:crypto';

/** SM3 digest length in bytes (GB/T 32905-2016 §4: 256-bit hash value). */
export const SM3_DIGEST_LENGTH = 32;

/** A fresh incremental SM3 state, for callers that stream or fork a shared prefix (`Hash.copy()`). */
export function createSm3(): Hash {
  return createHash('sm3');
}

/** SM3 of the concatenation of `parts`, without concatenating them first. */
export function sm3(...parts: Uint8Array[]): Buffer {
  const h = createSm3();
  for (const part of parts) h.update(part);
  return h.digest();
}
