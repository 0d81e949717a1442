/**
 * Key wrap with padding (RFC 5649) over any 128-bit block cipher. AES-256 KWP is the clouds'
 * envelope (CKM_AES_KEY_WRAP_PAD, OpenSSL's id-aes256-wrap-pad); Huawei's SM2 form runs the
 * same construction over SM4, which no library offers, so one implementation serves both.
 * Electron's BoringSSL has no id-aes256-wrap-pad either; AES-256-ECB it has.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KmsError } from '../../src-shared/errors';
import { sm4EcbDecrypt, sm4EcbEncrypt } from './sm4';
import { wipe } from './wipe';

/** One 16-byte block in, one out: E_K and D_K of a block cipher under a fixed key. */
export interface BlockCipher {
  encrypt(block: Uint8Array): Buffer;
  decrypt(block: Uint8Array): Buffer;
  /** Forget the key schedule. */
  close(): void;
}

const AIV_PREFIX = Buffer.from('a65959a6', 'hex');

export function aes256Block(key: Uint8Array): BlockCipher {
  if (key.length !== 32) throw new RangeError('An AES-256 key is 32 bytes.');
  const enc = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const dec = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  return { encrypt: (b) => enc.update(b), decrypt: (b) => dec.update(b), close: () => undefined };
}

export function sm4Block(key: Uint8Array): BlockCipher {
  const k = Buffer.from(key);
  return { encrypt: (b) => sm4EcbEncrypt(k, b), decrypt: (b) => sm4EcbDecrypt(k, b), close: () => wipe(k) };
}

/** KWP(K, plaintext): 8 bytes longer than the plaintext padded to a multiple of 8. */
export function kwpWrap(cipher: BlockCipher, plaintext: Uint8Array): Buffer {
  if (plaintext.length === 0 || plaintext.length > 0xffffffff) throw new RangeError('KWP wraps 1 to 2^32-1 bytes.');
  const padded = Buffer.alloc(Math.ceil(plaintext.length / 8) * 8);
  Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).copy(padded);
  const a = Buffer.alloc(8);
  AIV_PREFIX.copy(a);
  a.writeUInt32BE(plaintext.length, 4);
  try {
    if (padded.length === 8) return cipher.encrypt(Buffer.concat([a, padded]));
    const n = padded.length / 8;
    const block = Buffer.alloc(16);
    for (let j = 0; j <= 5; j++) {
      for (let i = 1; i <= n; i++) {
        a.copy(block, 0);
        padded.copy(block, 8, (i - 1) * 8, i * 8);
        const b = cipher.encrypt(block);
        b.copy(a, 0, 0, 8);
        xorCounter(a, n * j + i);
        b.copy(padded, (i - 1) * 8, 8, 16);
        wipe(b);
      }
    }
    wipe(block);
    return Buffer.concat([a, padded]);
  } finally {
    wipe(padded);
  }
}

/** The plaintext inside a KWP blob; InvalidEncryptedKeyMaterial when the integrity check fails. */
export function kwpUnwrap(cipher: BlockCipher, wrapped: Uint8Array): Buffer {
  const fail = () => new KmsError('InvalidEncryptedKeyMaterial', 'The key-wrapped material does not unwrap under this key (RFC 5649 integrity check failed).');
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) throw fail();
  const n = wrapped.length / 8 - 1;
  let a: Buffer;
  let r: Buffer;
  if (n === 1) {
    const b = cipher.decrypt(wrapped);
    a = b.subarray(0, 8);
    r = b.subarray(8);
  } else {
    a = Buffer.from(wrapped.subarray(0, 8));
    r = Buffer.from(wrapped.subarray(8));
    const block = Buffer.alloc(16);
    for (let j = 5; j >= 0; j--) {
      for (let i = n; i >= 1; i--) {
        xorCounter(a, n * j + i);
        a.copy(block, 0);
        r.copy(block, 8, (i - 1) * 8, i * 8);
        const b = cipher.decrypt(block);
        b.copy(a, 0, 0, 8);
        b.copy(r, (i - 1) * 8, 8, 16);
        wipe(b);
      }
    }
    wipe(block);
  }
  const length = a.readUInt32BE(4);
  const padding = r.subarray(length);
  const ok = a.subarray(0, 4).equals(AIV_PREFIX) && length > 8 * (n - 1) && length <= 8 * n && padding.every((x) => x === 0);
  if (!ok) {
    wipe(r);
    throw fail();
  }
  const out = Buffer.from(r.subarray(0, length));
  wipe(r);
  return out;
}

/** A ^= t, t as a 64-bit big-endian integer (RFC 3394 2.2.1). */
function xorCounter(a: Buffer, t: number): void {
  const hi = Math.floor(t / 0x100000000);
  a.writeUInt32BE((a.readUInt32BE(0) ^ hi) >>> 0, 0);
  a.writeUInt32BE((a.readUInt32BE(4) ^ (t >>> 0)) >>> 0, 4);
}
