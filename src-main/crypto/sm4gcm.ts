/**
 * SM4-GCM: the GCM mode of NIST SP 800-38D with SM4 (GB/T 32907-2016) as the 128-bit block
 * cipher, as RFC 8998 §3.1 / Appendix A.1 define AEAD_SM4_GCM. Node's OpenSSL 3.0 has no
 * `sm4-gcm`, so GCM is assembled here from SM4-ECB and SM4-CTR (./sm4: OpenSSL's where Node has
 * them, a JS SM4 under Electron's BoringSSL):
 *
 *   H  = E_K(0^128)                         (SP 800-38D §7.1 step 1, sm4-ecb)
 *   J0 = IV || 0^31 || 1                    (§7.1 step 2, 96-bit IV only)
 *   C  = GCTR_K(inc32(J0), P)               (§7.1 step 3, sm4-ctr, see `gctr`)
 *   S  = GHASH_H(A || 0^v || C || 0^u || [len(A)]64 || [len(C)]64)   (§7.1 steps 4-5)
 *   T  = MSB_128(GCTR_K(J0, S)) = E_K(J0) xor S                      (§7.1 step 6)
 *
 * GHASH is @noble/ciphers' table-driven implementation; each `update()` is zero-padded to a block
 * boundary, which is exactly the A || 0^v || C || 0^u layout above.
 */
import { timingSafeEqual } from 'node:crypto';
import { GHASH } from '@noble/ciphers/_polyval.js';
import { KmsError } from '../../src-shared/errors';
import { SM4_KEY_LENGTH, SM4_PROVIDER, sm4Ctr, sm4EcbEncrypt, type Sm4Provider } from './sm4';
import { wipe } from './wipe';

export { SM4_KEY_LENGTH };
/** 96-bit IVs only: SP 800-38D §8.2 recommends them, and they keep J0 free of GHASH. */
export const SM4_GCM_IV_LENGTH = 12;
export const SM4_GCM_TAG_LENGTH = 16;

const BLOCK = 16;

/**
 * SP 800-38D §5.2.1.1: len(P) <= 2^39 - 256 bits, i.e. 2^32 - 2 blocks. This is also the bound
 * under which OpenSSL's 128-bit CTR increment equals GCM's inc32 (see `gctr`).
 */
export const SM4_GCM_MAX_PLAINTEXT_LENGTH = (2 ** 32 - 2) * BLOCK;
/** SP 800-38D §5.2.1.1: len(A) <= 2^64 - 1 bits; JS lengths are far below, but say so. */
const MAX_AAD_LENGTH = Number.MAX_SAFE_INTEGER / 8;

export interface Sm4GcmSealed {
  ciphertext: Buffer;
  tag: Buffer;
}

/** `provider` is for tests that compare the SM4 providers; callers leave it out. */
export function sm4GcmEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  provider: Sm4Provider = SM4_PROVIDER,
): Sm4GcmSealed {
  checkKeyAndIv(key, iv);
  checkDataLengths(plaintext.length, aad.length);
  const { h, ekJ0 } = hashKeyAndTagMask(key, iv, provider);
  try {
    const ciphertext = gctr(key, iv, plaintext, provider);
    const tag = computeTag(h, ekJ0, aad, ciphertext);
    return { ciphertext, tag };
  } finally {
    wipe(h, ekJ0);
  }
}

/**
 * Verifies the tag (constant-time) before any plaintext is produced: SP 800-38D §7.2 step 8
 * returns FAIL without P when T != T'.
 */
export function sm4GcmDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
  provider: Sm4Provider = SM4_PROVIDER,
): Buffer {
  checkKeyAndIv(key, iv);
  if (tag.length !== SM4_GCM_TAG_LENGTH) {
    throw new KmsError('InvalidCiphertext', `The SM4-GCM tag must be ${SM4_GCM_TAG_LENGTH} bytes.`);
  }
  checkDataLengths(ciphertext.length, aad.length);
  const { h, ekJ0 } = hashKeyAndTagMask(key, iv, provider);
  try {
    const expected = computeTag(h, ekJ0, aad, ciphertext);
    if (!timingSafeEqual(expected, tag)) {
      throw new KmsError('InvalidCiphertext', 'The SM4-GCM ciphertext failed authentication: wrong key, IV, tag or additional data.');
    }
    return gctr(key, iv, ciphertext, provider);
  } finally {
    wipe(h, ekJ0);
  }
}

function checkKeyAndIv(key: Uint8Array, iv: Uint8Array): void {
  if (key.length !== SM4_KEY_LENGTH) {
    throw new KmsError('InvalidParameter', `An SM4 key must be ${SM4_KEY_LENGTH} bytes.`);
  }
  if (iv.length !== SM4_GCM_IV_LENGTH) {
    throw new KmsError('InvalidParameter', `The SM4-GCM IV must be ${SM4_GCM_IV_LENGTH} bytes.`);
  }
}

function checkDataLengths(dataLength: number, aadLength: number): void {
  if (dataLength > SM4_GCM_MAX_PLAINTEXT_LENGTH) {
    throw new KmsError('InvalidParameter', 'SM4-GCM data exceeds the GCM limit of 2^32 - 2 blocks.');
  }
  if (aadLength > MAX_AAD_LENGTH) {
    throw new KmsError('InvalidParameter', 'SM4-GCM additional data is too long.');
  }
}

/** J0 for a 96-bit IV (SP 800-38D §7.1 step 2): IV || 00000001. */
function initialCounterBlock(iv: Uint8Array): Buffer {
  const j0 = Buffer.alloc(BLOCK);
  j0.set(iv, 0);
  j0.writeUInt32BE(1, 12);
  return j0;
}

/** H = E_K(0^128) and E_K(J0), in one two-block ECB call. Both are secret: caller wipes. */
function hashKeyAndTagMask(key: Uint8Array, iv: Uint8Array, provider: Sm4Provider): { h: Buffer; ekJ0: Buffer } {
  const blocks = Buffer.alloc(2 * BLOCK);
  blocks.set(initialCounterBlock(iv), BLOCK);
  const out = sm4EcbEncrypt(key, blocks, provider);
  return { h: out.subarray(0, BLOCK), ekJ0: out.subarray(BLOCK) };
}

/**
 * GCTR_K(inc32(J0), X) with sm4-ctr (SP 800-38D §6.5). sm4-ctr (OpenSSL's, and the JS one, which
 * does the same) increments the whole 128-bit counter block, GCM only its low 32 bits (inc32).
 * Starting from IV || 00000002, block i (0-based) uses counter 2 + i, which stays below 2^32 for
 * every i < 2^32 - 2, so no carry ever reaches the IV bytes and the two increments agree;
 * `checkDataLengths` enforces that bound.
 */
function gctr(key: Uint8Array, iv: Uint8Array, input: Uint8Array, provider: Sm4Provider): Buffer {
  if (input.length === 0) return Buffer.alloc(0);
  const counter = initialCounterBlock(iv);
  counter.writeUInt32BE(2, 12);
  return sm4Ctr(key, counter, input, provider);
}

/** T = E_K(J0) xor GHASH_H(A, C) (SP 800-38D §7.1 steps 4-6), full 128-bit tag. */
function computeTag(h: Uint8Array, ekJ0: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
  const lengths = Buffer.alloc(BLOCK);
  // [len(A)]64 || [len(C)]64 in bits; both lengths are < 2^53 / 8 so the products are exact.
  lengths.writeBigUInt64BE(BigInt(aad.length) * 8n, 0);
  lengths.writeBigUInt64BE(BigInt(ciphertext.length) * 8n, 8);
  const ghash = new GHASH(h, aad.length + ciphertext.length + BLOCK);
  // GHASH.update pads each call to a block boundary: exactly A || 0^v, then C || 0^u.
  if (aad.length > 0) ghash.update(aad);
  if (ciphertext.length > 0) ghash.update(ciphertext);
  const s = ghash.update(lengths).digest();
  const tag = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) tag[i] = (s[i] ?? 0) ^ (ekJ0[i] ?? 0);
  return tag;
}
