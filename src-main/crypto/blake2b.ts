/**
 * BLAKE2b-512 (RFC 7693), what minisign's prehashed signatures sign: Node's native hash where the
 * crypto library has it (OpenSSL), @noble/hashes where it does not (Electron's BoringSSL). Chosen
 * once at load by probing, as sm3.ts does.
 */
import { createHash, getHashes } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';

export interface Blake2b512 {
  update(data: Uint8Array): unknown;
  digest(): Buffer;
}

const NATIVE = getHashes().includes('blake2b512');

export function createBlake2b512(): Blake2b512 {
  if (NATIVE) {
    const h = createHash('blake2b512');
    return { update: (d) => h.update(d), digest: () => h.digest() };
  }
  const h = blake2b.create({ dkLen: 64 });
  return { update: (d) => h.update(d), digest: () => Buffer.from(h.digest()) };
}
