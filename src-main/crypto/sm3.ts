/**
 * SM3 (GB/T 32905-2016). Two providers behind one incremental interface:
 * - 'openssl': Node's `createHash('sm3')`, the default wherever it exists (plain Node, the CLI,
 *   the tests). It is several times faster than JS, and it is what `openssl dgst -sm3` runs.
 * - 'js': the compression function below on @noble/hashes' Merkle-Damgard framework (SM3 pads
 *   exactly like SHA-256: 0x80, zeros, 64-bit big-endian bit length). Electron's Node is built on
 *   BoringSSL, which has no SM3 (electron/electron#34925: "Digest method not supported"), and
 *   neither sm-crypto (one-shot over a JS array) nor @noble/hashes (no SM3) can hash a stream.
 * The provider is chosen once, at load, by trying the native one on the "abc" vector.
 */
import { createHash, type BinaryToTextEncoding } from 'node:crypto';
import { HashMD } from '@noble/hashes/_md.js';

/** SM3 digest length in bytes (GB/T 32905-2016 §4: 256-bit hash value). */
export const SM3_DIGEST_LENGTH = 32;

export type Sm3Provider = 'openssl' | 'js';

/**
 * The part of Node's `Hash` that SM3 callers use: feed, fork a shared prefix (`copy`), finish.
 * A string is hashed as UTF-8. Like `Hash`, a state cannot be updated after `digest()`.
 */
export interface Sm3Hash {
  update(data: Uint8Array | string): Sm3Hash;
  copy(): Sm3Hash;
  digest(): Buffer;
  digest(encoding: BinaryToTextEncoding): string;
}

/** GB/T 32905-2016 Appendix A, example 1: SM3("abc"). */
const ABC_DIGEST = '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0';

function nativeSm3Works(): boolean {
  try {
    return createHash('sm3').update('abc').digest('hex') === ABC_DIGEST;
  } catch {
    return false; // BoringSSL (Electron): "Digest method not supported"
  }
}

/** What this process uses: 'openssl' where Node's crypto has SM3, else 'js'. */
export const SM3_PROVIDER: Sm3Provider = nativeSm3Works() ? 'openssl' : 'js';

/**
 * A fresh incremental SM3 state, for callers that stream or fork a shared prefix (`copy()`).
 * `provider` is for tests that compare the two; callers leave it out.
 */
export function createSm3(provider: Sm3Provider = SM3_PROVIDER): Sm3Hash {
  return provider === 'openssl' ? createHash('sm3') : new JsSm3Hash(new Sm3());
}

/** SM3 of the concatenation of `parts`, without concatenating them first. */
export function sm3(...parts: Uint8Array[]): Buffer {
  const h = createSm3();
  for (const part of parts) h.update(part);
  return h.digest();
}

class JsSm3Hash implements Sm3Hash {
  constructor(private readonly state: Sm3) {}

  update(data: Uint8Array | string): this {
    this.state.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    return this;
  }

  copy(): JsSm3Hash {
    return new JsSm3Hash(this.state.clone());
  }

  digest(): Buffer;
  digest(encoding: BinaryToTextEncoding): string;
  digest(encoding?: BinaryToTextEncoding): Buffer | string {
    const out = this.state.digest();
    const b = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    return encoding === undefined ? b : b.toString(encoding);
  }
}

// ---------------------------------------------------------------------------------------------
// GB/T 32905-2016 §4-§5
// ---------------------------------------------------------------------------------------------

/** §4.1 IV. */
const IV = Uint32Array.from([0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e]);

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** T_j <<< (j mod 32) of §5.3.3, precomputed: T_j = 79cc4519 for j < 16, 7a879d8a after. */
const T_ROTATED = Uint32Array.from({ length: 64 }, (_, j) => {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
  return j % 32 === 0 ? t : rotl(t, j % 32);
});

/** W_0..W_67 of §5.3.2 (W'_j = W_j xor W_{j+4} is computed in the round). Zeroed after use. */
const W = new Uint32Array(68);

const p0 = (x: number): number => x ^ rotl(x, 9) ^ rotl(x, 17);
const p1 = (x: number): number => x ^ rotl(x, 15) ^ rotl(x, 23);

/** SM3 on HashMD: 64-byte blocks, 32-byte output, 8-byte length field, big-endian. */
class Sm3 extends HashMD<Sm3> {
  // Eight fields, not an array, as noble's SHA-256 does: V8 keeps them in registers.
  private A = IV[0]! | 0;
  private B = IV[1]! | 0;
  private C = IV[2]! | 0;
  private D = IV[3]! | 0;
  private E = IV[4]! | 0;
  private F = IV[5]! | 0;
  private G = IV[6]! | 0;
  private H = IV[7]! | 0;

  constructor() {
    super(64, SM3_DIGEST_LENGTH, 8, false);
  }

  protected get(): number[] {
    const { A, B, C, D, E, F, G, H } = this;
    return [A, B, C, D, E, F, G, H];
  }

  protected set(A: number, B: number, C: number, D: number, E: number, F: number, G: number, H: number): void {
    this.A = A | 0;
    this.B = B | 0;
    this.C = C | 0;
    this.D = D | 0;
    this.E = E | 0;
    this.F = F | 0;
    this.G = G | 0;
    this.H = H | 0;
  }

  _cloneInto(to?: Sm3): Sm3 {
    const target = to ?? new Sm3();
    target.set(this.A, this.B, this.C, this.D, this.E, this.F, this.G, this.H);
    return this._cloneIntoMeta(target);
  }

  /** CF(V_i, B_i) of §5.3.3, after the message expansion of §5.3.2. */
  protected process(view: DataView, offset: number): void {
    for (let j = 0; j < 16; j++, offset += 4) W[j] = view.getUint32(offset, false);
    for (let j = 16; j < 68; j++) {
      W[j] = p1(W[j - 16]! ^ W[j - 9]! ^ rotl(W[j - 3]!, 15)) ^ rotl(W[j - 13]!, 7) ^ W[j - 6]!;
    }
    let { A, B, C, D, E, F, G, H } = this;
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(A, 12);
      const ss1 = rotl((a12 + E + T_ROTATED[j]!) | 0, 7);
      const ss2 = ss1 ^ a12;
      const wj = W[j]!;
      // FF_j and GG_j: XOR for j < 16, majority / choice after (§4.3).
      const ff = j < 16 ? A ^ B ^ C : (A & B) | (A & C) | (B & C);
      const gg = j < 16 ? E ^ F ^ G : (E & F) | (~E & G);
      const tt1 = (ff + D + ss2 + (wj ^ W[j + 4]!)) | 0;
      const tt2 = (gg + H + ss1 + wj) | 0;
      D = C;
      C = rotl(B, 9);
      B = A;
      A = tt1;
      H = G;
      G = rotl(F, 19);
      F = E;
      E = p0(tt2);
    }
    // V_{i+1} = ABCDEFGH xor V_i (XOR, not the addition of SHA-2).
    this.set(A ^ this.A, B ^ this.B, C ^ this.C, D ^ this.D, E ^ this.E, F ^ this.F, G ^ this.G, H ^ this.H);
  }

  protected roundClean(): void {
    W.fill(0);
  }

  destroy(): void {
    this.destroyed = true;
    this.set(0, 0, 0, 0, 0, 0, 0, 0);
    this.buffer.fill(0);
  }
}
