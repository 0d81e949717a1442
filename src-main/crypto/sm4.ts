/**
 * The SM4 block cipher (GB/T 32907-2016) as SM4-GCM needs it: ECB over whole blocks (no padding)
 * and CTR with OpenSSL's 128-bit big-endian counter. Two providers:
 * - 'openssl': Node's `sm4-ecb` / `sm4-ctr`, the default wherever they exist (plain Node);
 * - 'js': the cipher written out below. Electron's Node is built on BoringSSL, which has no SM4
 *   (electron/electron#16195, "unknown cipher"). sm-crypto's SM4 would do the arithmetic, but it
 *   copies data into plain arrays, re-derives the key schedule on every call and leaves the round
 *   keys (equivalent to the key) in an array it never clears; 32 round keys in a Uint32Array that
 *   is zeroed after use are simpler to keep secret.
 * The provider is chosen once, at load, by running the native one on the GB/T 32907 example.
 *
 * The JS cipher looks bytes up in a table, as OpenSSL's portable C SM4 does, so its timing can
 * depend on cache state; an offline, single-user workstation leaves no co-located attacker.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { wipe } from './wipe';

export const SM4_BLOCK_LENGTH = 16;
export const SM4_KEY_LENGTH = 16;

export type Sm4Provider = 'openssl' | 'js';

/** GB/T 32907-2016 Appendix A, example 1: key = plaintext = 0123456789abcdeffedcba9876543210. */
const EXAMPLE_KEY = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');
const EXAMPLE_CIPHERTEXT = '681edf34d206965e86b3e94f536e4246';

function nativeSm4Works(): boolean {
  try {
    const ecb = createCipheriv('sm4-ecb', EXAMPLE_KEY, null).setAutoPadding(false);
    const ok = Buffer.concat([ecb.update(EXAMPLE_KEY), ecb.final()]).toString('hex') === EXAMPLE_CIPHERTEXT;
    createCipheriv('sm4-ctr', EXAMPLE_KEY, Buffer.alloc(SM4_BLOCK_LENGTH));
    return ok;
  } catch {
    return false; // BoringSSL (Electron): "Unknown cipher"
  }
}

/** What this process uses: 'openssl' where Node's crypto has sm4-ecb and sm4-ctr, else 'js'. */
export const SM4_PROVIDER: Sm4Provider = nativeSm4Works() ? 'openssl' : 'js';

/** E_K of each 16-byte block of `blocks` (ECB, no padding). */
export function sm4EcbEncrypt(key: Uint8Array, blocks: Uint8Array, provider: Sm4Provider = SM4_PROVIDER): Buffer {
  return sm4Ecb('encrypt', key, blocks, provider);
}

/**
 * D_K of each 16-byte block (ECB, no padding): only BYOK rehearsals need it, to unwrap what a
 * cloud would. SM4 decrypts with the encryption rounds and the round keys reversed (§7.2).
 */
export function sm4EcbDecrypt(key: Uint8Array, blocks: Uint8Array, provider: Sm4Provider = SM4_PROVIDER): Buffer {
  return sm4Ecb('decrypt', key, blocks, provider);
}

function sm4Ecb(direction: 'encrypt' | 'decrypt', key: Uint8Array, blocks: Uint8Array, provider: Sm4Provider): Buffer {
  if (blocks.length % SM4_BLOCK_LENGTH !== 0) throw new RangeError('SM4-ECB takes whole 16-byte blocks.');
  if (provider === 'openssl') {
    const ecb = (direction === 'encrypt' ? createCipheriv : createDecipheriv)('sm4-ecb', key, null).setAutoPadding(false);
    return Buffer.concat([ecb.update(blocks), ecb.final()]);
  }
  const rk = direction === 'encrypt' ? expandKey(key) : expandKey(key).reverse();
  try {
    const out = Buffer.alloc(blocks.length);
    for (let off = 0; off < blocks.length; off += SM4_BLOCK_LENGTH) encryptBlock(rk, blocks, off, out, off);
    return out;
  } finally {
    rk.fill(0);
  }
}

/**
 * `input` xor the SM4 key stream E_K(ctr), E_K(ctr + 1), ... where the whole 16-byte block is one
 * big-endian counter (OpenSSL's `sm4-ctr`, CRYPTO_ctr128_encrypt), wrapping at 2^128.
 */
export function sm4Ctr(key: Uint8Array, counter: Uint8Array, input: Uint8Array, provider: Sm4Provider = SM4_PROVIDER): Buffer {
  if (counter.length !== SM4_BLOCK_LENGTH) throw new RangeError('The SM4-CTR counter block must be 16 bytes.');
  if (provider === 'openssl') {
    const ctr = createCipheriv('sm4-ctr', key, counter);
    return Buffer.concat([ctr.update(input), ctr.final()]);
  }
  const rk = expandKey(key);
  const cb = Buffer.from(counter);
  const stream = Buffer.alloc(SM4_BLOCK_LENGTH);
  try {
    const out = Buffer.alloc(input.length);
    for (let off = 0; off < input.length; off += SM4_BLOCK_LENGTH) {
      encryptBlock(rk, cb, 0, stream, 0);
      const end = Math.min(off + SM4_BLOCK_LENGTH, input.length);
      for (let i = off; i < end; i++) out[i] = input[i]! ^ stream[i - off]!;
      increment128(cb);
    }
    return out;
  } finally {
    rk.fill(0);
    wipe(stream);
  }
}

function increment128(block: Buffer): void {
  for (let i = SM4_BLOCK_LENGTH - 1; i >= 0; i--) {
    block[i] = (block[i]! + 1) & 0xff;
    if (block[i] !== 0) return;
  }
}

// ---------------------------------------------------------------------------------------------
// GB/T 32907-2016 §6-§7
// ---------------------------------------------------------------------------------------------

/** §6.2 S-box, row by row. */
const SBOX = Buffer.from(
  'd690e9fecce13db716b614c228fb2c05' +
    '2b679a762abe04c3aa44132649860699' +
    '9c4250f491ef987a33540b43edcfac62' +
    'e4b31ca9c908e89580df94fa758f3fa6' +
    '4707a7fcf37317ba83593c19e6854fa8' +
    '686b81b27164da8bf8eb0f4b70569d35' +
    '1e240e5e6358d1a225227c3b01217887' +
    'd40046579fd327524c3602e7a0c4c89e' +
    'eabf8ad240c738b5a3f7f2cef96115a1' +
    'e0ae5da49b341a55ad933230f58cb1e3' +
    '1df6e22e8266ca60c02923ab0d534e6f' +
    'd5db3745defd8e2f03ff6a726d6c5b51' +
    '8d1baf92bbddbc7f11d95c411f105ad8' +
    '0ac13188a5cd7bbd2d74d012b8e5b4b0' +
    '8969974a0c96777e65b9f109c56ec684' +
    '18f07dec3adc4d2079ee5f3ed7cb3948',
  'hex',
);

/** §7.3 FK. */
const FK = [0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc] as const;

/** §7.3 CK_i: byte j of CK_i is (4i + j) * 7 mod 256. */
const CK = Uint32Array.from({ length: 32 }, (_, i) => {
  let w = 0;
  for (let j = 0; j < 4; j++) w = (w << 8) | (((4 * i + j) * 7) & 0xff);
  return w;
});

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** τ (§6.2): the S-box on each byte of a word. */
function tau(a: number): number {
  return (SBOX[a >>> 24]! << 24) | (SBOX[(a >>> 16) & 0xff]! << 16) | (SBOX[(a >>> 8) & 0xff]! << 8) | SBOX[a & 0xff]!;
}

/** T = L∘τ of the rounds (§6.2), L(B) = B ^ B<<<2 ^ B<<<10 ^ B<<<18 ^ B<<<24. */
function roundT(a: number): number {
  const b = tau(a);
  return b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24);
}

/** T' = L'∘τ of the key schedule (§7.3), L'(B) = B ^ B<<<13 ^ B<<<23. */
function keyT(a: number): number {
  const b = tau(a);
  return b ^ rotl(b, 13) ^ rotl(b, 23);
}

/** §7.3: rk_0..rk_31 from MK. Secret (the key can be recomputed from it): the caller zeroes it. */
function expandKey(key: Uint8Array): Uint32Array {
  if (key.length !== SM4_KEY_LENGTH) throw new RangeError('An SM4 key must be 16 bytes.');
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  let k0 = view.getUint32(0) ^ FK[0];
  let k1 = view.getUint32(4) ^ FK[1];
  let k2 = view.getUint32(8) ^ FK[2];
  let k3 = view.getUint32(12) ^ FK[3];
  const rk = new Uint32Array(32);
  for (let i = 0; i < 32; i++) {
    const next = k0 ^ keyT(k1 ^ k2 ^ k3 ^ CK[i]!);
    rk[i] = next;
    k0 = k1;
    k1 = k2;
    k2 = k3;
    k3 = next;
  }
  return rk;
}

/** §6.3: 32 rounds X_{i+4} = X_i ^ T(X_{i+1} ^ X_{i+2} ^ X_{i+3} ^ rk_i), output R = X35..X32. */
function encryptBlock(rk: Uint32Array, input: Uint8Array, inOff: number, out: Uint8Array, outOff: number): void {
  const inView = new DataView(input.buffer, input.byteOffset + inOff, SM4_BLOCK_LENGTH);
  let x0 = inView.getUint32(0);
  let x1 = inView.getUint32(4);
  let x2 = inView.getUint32(8);
  let x3 = inView.getUint32(12);
  for (let i = 0; i < 32; i++) {
    const next = x0 ^ roundT(x1 ^ x2 ^ x3 ^ rk[i]!);
    x0 = x1;
    x1 = x2;
    x2 = x3;
    x3 = next;
  }
  const outView = new DataView(out.buffer, out.byteOffset + outOff, SM4_BLOCK_LENGTH);
  outView.setUint32(0, x3);
  outView.setUint32(4, x2);
  outView.setUint32(8, x1);
  outView.setUint32(12, x0);
}
