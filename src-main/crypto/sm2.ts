/**
 * SM2 (GB/T 32918 parts 1-5, 2016/2017; GM/T 0003-2012) on the recommended 256-bit curve: signatures with
 * the Z_A preprocessing, and public-key encryption. Curve arithmetic is @noble/curves; SM3 is
 * Node's native OpenSSL. Node's own `crypto.sign` on an SM2-curve key makes plain ECDSA, which is
 * not SM2 (kms.md, Algorithms), so none of it is used here.
 *
 * Encodings are what OpenSSL 3 writes and reads:
 *   signature  DER SEQUENCE { r INTEGER, s INTEGER }
 *   ciphertext DER SM2Cipher (GM/T 0009-2012) SEQUENCE { XCoordinate INTEGER,
 *              YCoordinate INTEGER, HASH OCTET STRING (32), CipherText OCTET STRING },
 *              or raw C1 || C3 || C2 with C1 = 04 || x || y (GB/T 32918.4-2016 §6.1 A8).
 *
 * Secrets: byte buffers this module creates (nonce bytes, the shared point x2 || y2, the KDF
 * stream, a rejected plaintext) are zeroed after use. Scalars (d, k) and coordinates become
 * bigints inside the arithmetic, and bigints are immutable: they cannot be wiped and live until
 * garbage collection, as they do in @noble/curves itself.
 */
import { randomFillSync, timingSafeEqual } from 'node:crypto';
import { weierstrass, type WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import {
  AsnIntegerArrayBufferConverter,
  AsnParser,
  AsnProp,
  AsnPropTypes,
  AsnSerializer,
  AsnType,
  AsnTypeTypes,
} from '@peculiar/asn1-schema';
import { KmsError } from '../../src-shared/errors';
import { createSm3, sm3 } from './sm3';
import { wipe } from './wipe';

// ---------------------------------------------------------------------------------------------
// Curve: the recommended parameters of GB/T 32918.5-2017 (= GM/T 0003.5-2012), "sm2p256v1",
// OID 1.2.156.10197.1.301. p = 2^256 - 2^224 - 2^96 + 2^64 - 1, a = p - 3, cofactor 1.
// ---------------------------------------------------------------------------------------------

const SM2_CURVE = {
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
} as const;

type Sm2Point = WeierstrassPoint<bigint>;

const Point = weierstrass(SM2_CURVE);
const G = Point.BASE;
const N = SM2_CURVE.n;
const FIELD_BYTES = 32;

/**
 * Fixed-base window for k·G, which is nearly the whole cost of a signature. Measured here
 * (interleaved runs): W = 8 builds in ~110 ms / ~10 MB; W = 10 in ~280 ms / ~20 MB and signs
 * ~15% faster; W = 12 takes ~0.7 s / ~50 MB for a few % more. Built lazily, once per process.
 */
const BASE_WINDOW = 10;
let baseReady = false;
function base(): Sm2Point {
  if (!baseReady) {
    G.precompute(BASE_WINDOW, false);
    baseReady = true;
  }
  return G;
}

/** ASCII "1234567812345678": the default user ID of GM/T 0009-2012 (OpenSSL: distid). */
export const SM2_DEFAULT_ID: Uint8Array = new TextEncoder().encode('1234567812345678');

/** ENTL is a 16-bit bit length (GB/T 32918.2-2016 §5.5), so an ID holds at most 8191 bytes. */
const MAX_ID_LENGTH = 0xffff >> 3;

/** a || b || xG || yG, the fixed middle of Z_A (GB/T 32918.2-2016 §5.5). */
const CURVE_Z_BYTES = Buffer.concat([SM2_CURVE.a, SM2_CURVE.b, SM2_CURVE.Gx, SM2_CURVE.Gy].map(fieldBytes));

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/** P = [d]G as 65-byte uncompressed 04 || x || y (GB/T 32918.1-2016 §6.1). */
export function sm2PublicKeyFromPrivate(d: Uint8Array): Uint8Array {
  return base().multiply(privateScalar(d)).toBytes(false);
}

/**
 * A fresh private key d, uniform in [1, n-2] (GB/T 32918.1-2016 §6.1) by rejection sampling from
 * the OS CSPRNG, as 32 big-endian bytes: for where Node's crypto cannot generate SM2 keys
 * (Electron's BoringSSL has no SM2 curve). The caller zeroes it.
 */
export function sm2GeneratePrivateKey(): Buffer {
  const d = Buffer.alloc(FIELD_BYTES);
  for (;;) {
    randomFillSync(d);
    const scalar = bytesToBigInt(d);
    if (scalar >= 1n && scalar <= N - 2n) return d;
  }
}

/**
 * The private key as a scalar. GB/T 32918.1-2016 §6.1 draws d from [1, n-2]: d = n-1 would make
 * 1 + d = n, which has no inverse in the signature formula (§6.1 of part 2, step A6).
 */
function privateScalar(d: Uint8Array): bigint {
  if (d.length !== FIELD_BYTES) {
    throw new KmsError('InvalidParameter', `An SM2 private key must be ${FIELD_BYTES} bytes.`);
  }
  const scalar = bytesToBigInt(d);
  if (scalar < 1n || scalar > N - 2n) {
    throw new KmsError('InvalidParameter', 'The SM2 private key is outside [1, n-2].');
  }
  return scalar;
}

/** Decodes and validates (on the curve, not infinity) an SEC 1 point, 65 or 33 bytes. */
function decodePublicKey(publicKey: Uint8Array): Sm2Point {
  try {
    if (publicKey.length !== 1 + 2 * FIELD_BYTES && publicKey.length !== 1 + FIELD_BYTES) throw new Error('length');
    return Point.fromBytes(publicKey);
  } catch {
    throw new KmsError('InvalidParameter', 'The SM2 public key is not a valid point on the SM2 curve.');
  }
}

/**
 * Public points with a variable-base precompute table, for keys used repeatedly (a KMS verifies
 * and encrypts with the same few keys). Measured here: a verification costs ~2 ms without a
 * table and ~0.5 ms with one, and the W = 6 table costs ~26 ms and ~0.3 MB. Like renting skis
 * before buying, a key gets its table once it has spent about as much without one (its 10th
 * use), which bounds the loss for keys used a few times only. Public data only.
 */
const PUBLIC_WINDOW = 6;
const PUBLIC_CACHE_SIZE = 16;
const PRECOMPUTE_ON_USE = 10;
/** For tests that need both the table-less and the table path. @internal */
export const _SM2_TABLE_FROM_USE = PRECOMPUTE_ON_USE;
interface PublicPoint {
  point: Sm2Point;
  uses: number;
}
const publicPoints = new Map<string, PublicPoint>();

function publicPoint(publicKey: Uint8Array): PublicPoint {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex');
  const entry = publicPoints.get(id) ?? { point: decodePublicKey(publicKey), uses: 0 };
  // Map keeps insertion order: re-inserting makes this the most recent, the first is the oldest.
  publicPoints.delete(id);
  publicPoints.set(id, entry);
  if (publicPoints.size > PUBLIC_CACHE_SIZE) {
    const oldest = publicPoints.keys().next().value;
    if (oldest !== undefined) publicPoints.delete(oldest);
  }
  entry.uses += 1;
  if (entry.uses === PRECOMPUTE_ON_USE) entry.point.precompute(PUBLIC_WINDOW, false);
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Z_A and e (GB/T 32918.2-2016 §5.5 and §6.1 steps A1-A2)
// ---------------------------------------------------------------------------------------------

/** Z_A = SM3(ENTL_A || ID_A || a || b || xG || yG || xA || yA). */
export function sm2Za(publicKey: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID): Buffer {
  if (id.length > MAX_ID_LENGTH) {
    throw new KmsError('InvalidParameter', `An SM2 user ID holds at most ${MAX_ID_LENGTH} bytes.`);
  }
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(id.length * 8);
  const xy = decodePublicKey(publicKey).toBytes(false).subarray(1);
  return sm3(entl, id, CURVE_Z_BYTES, xy);
}

/** e = SM3(Z_A || M), the 32-byte value `sm2SignDigest` / `sm2VerifyDigest` take. */
export function sm2MessageDigest(publicKey: Uint8Array, message: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID): Buffer {
  return sm3(sm2Za(publicKey, id), message);
}

// ---------------------------------------------------------------------------------------------
// Signature (GB/T 32918.2-2016 §6 and §7)
// ---------------------------------------------------------------------------------------------

type NonceSource = () => bigint;

/** DER SEQUENCE { r, s } over e = SM3(Z_A || M), with a fresh CSPRNG nonce per attempt. */
export function sm2SignDigest(d: Uint8Array, e: Uint8Array): Buffer {
  return signDigest(d, e, randomScalar);
}

/**
 * Test hook: signs with the given nonces in order (a rejected nonce moves to the next one).
 * Only for known-answer tests; a predictable nonce reveals the private key.
 * @internal
 */
export function _sm2SignDigestWithNonces(d: Uint8Array, e: Uint8Array, nonces: readonly bigint[]): Buffer {
  return signDigest(d, e, fixedNonces(nonces));
}

function signDigest(d: Uint8Array, e: Uint8Array, nextNonce: NonceSource): Buffer {
  const eInt = digestScalar(e);
  const dA = privateScalar(d);
  const inverseOnePlusD = Point.Fn.inv(dA + 1n);
  for (;;) {
    const k = nextNonce(); // A3
    const x1 = base().multiply(k).toAffine().x; // A4: (x1, y1) = [k]G, constant-time fixed base
    const r = modN(eInt + x1); // A5
    if (r === 0n || r + k === N) continue;
    const s = modN(inverseOnePlusD * (k - r * dA)); // A6
    if (s === 0n) continue;
    return encodeSignature(r, s); // A7
  }
}

/**
 * B1-B7. False for anything that is not a valid signature, including non-canonical DER
 * (trailing bytes, long-form lengths, non-minimal or negative integers) and r, s outside
 * [1, n-1]. A malformed public key or digest is the caller's error and throws.
 */
export function sm2VerifyDigest(publicKey: Uint8Array, e: Uint8Array, derSignature: Uint8Array): boolean {
  const eInt = digestScalar(e);
  const key = publicPoint(publicKey);
  const sig = decodeSignature(derSignature);
  if (sig === null) return false;
  const { r, s } = sig;
  if (r < 1n || r >= N || s < 1n || s >= N) return false; // B1, B2
  const t = modN(r + s); // B5
  if (t === 0n) return false;
  // B6: (x1', y1') = [s']G + [t]P_A. Public scalars, so the faster non-constant-time walks.
  const sum =
    key.uses >= PRECOMPUTE_ON_USE
      ? base().multiplyUnsafe(s).add(key.point.multiplyUnsafe(t))
      : base().mulAddUnsafe(s, key.point, t);
  if (sum.is0()) return false;
  return modN(eInt + sum.toAffine().x) === r; // B7
}

/** e must be the 32-byte SM3 output: a wrong-length digest is an error (kms.md). */
function digestScalar(e: Uint8Array): bigint {
  if (e.length !== FIELD_BYTES) {
    throw new KmsError('InvalidParameter.Digest', 'An SM2 signature digest must be the 32-byte SM3(Z_A || M).');
  }
  return bytesToBigInt(e);
}

/** k uniform in [1, n-1] by rejection sampling from the OS CSPRNG (GB/T 32918.2 §6.1 A3). */
function randomScalar(): bigint {
  const bytes = Buffer.alloc(FIELD_BYTES);
  try {
    for (;;) {
      randomFillSync(bytes);
      const k = bytesToBigInt(bytes);
      if (k >= 1n && k < N) return k;
    }
  } finally {
    wipe(bytes);
  }
}

function fixedNonces(nonces: readonly bigint[]): NonceSource {
  let next = 0;
  return () => {
    const k = nonces[next++];
    if (k === undefined) throw new KmsError('Internal', 'The fixed SM2 test nonces ran out.');
    if (k < 1n || k >= N) throw new KmsError('Internal', 'A fixed SM2 test nonce is outside [1, n-1].');
    return k;
  };
}

// ---------------------------------------------------------------------------------------------
// Encryption (GB/T 32918.4-2016 §6 and §7)
// ---------------------------------------------------------------------------------------------

export type Sm2CiphertextEncoding = 'der' | 'c1c3c2';

/** C1 || C3 || C2, split; c1 is the 65-byte uncompressed point. */
interface Sm2CipherParts {
  c1: Uint8Array;
  c3: Uint8Array;
  c2: Uint8Array;
}

const C1_LENGTH = 1 + 2 * FIELD_BYTES;
const C3_LENGTH = 32;

export function sm2Encrypt(publicKey: Uint8Array, plaintext: Uint8Array, encoding: Sm2CiphertextEncoding = 'der'): Buffer {
  return encrypt(publicKey, plaintext, encoding, randomScalar);
}

/**
 * Test hook: encrypts with the given nonces in order. Only for known-answer tests.
 * @internal
 */
export function _sm2EncryptWithNonces(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  encoding: Sm2CiphertextEncoding,
  nonces: readonly bigint[],
): Buffer {
  return encrypt(publicKey, plaintext, encoding, fixedNonces(nonces));
}

function encrypt(publicKey: Uint8Array, plaintext: Uint8Array, encoding: Sm2CiphertextEncoding, nextNonce: NonceSource): Buffer {
  if (plaintext.length === 0) {
    // klen = 0 makes the all-zero KDF check of A5 loop forever; there is nothing to protect.
    throw new KmsError('InvalidParameter', 'SM2 cannot encrypt an empty plaintext.');
  }
  // A3: S = [h]P_B must not be infinity; h = 1 and decodePublicKey rejects infinity.
  const pB = publicPoint(publicKey).point;
  for (;;) {
    const k = nextNonce(); // A1
    const c1 = base().multiply(k).toBytes(false); // A2
    const shared = pB.multiply(k).toBytes(false); // A4: 04 || x2 || y2, secret
    const t = sm2Kdf(shared.subarray(1), plaintext.length); // A5
    if (isAllZero(t)) {
      wipe(shared, t);
      continue;
    }
    const c2 = xorInto(Buffer.from(plaintext), t); // A6
    const c3 = sm3(shared.subarray(1, 1 + FIELD_BYTES), plaintext, shared.subarray(1 + FIELD_BYTES)); // A7
    wipe(shared, t);
    const parts = { c1, c3, c2 };
    return encoding === 'der' ? partsToDer(parts) : partsToRaw(parts); // A8
  }
}

/**
 * Accepts DER SM2Cipher (first byte 0x30) or raw C1 || C3 || C2 (first byte 0x04). Every failure
 * (encoding, point not on the curve, C3 mismatch) is InvalidCiphertext; a failed plaintext is
 * zeroed, never returned.
 */
export function sm2Decrypt(d: Uint8Array, ciphertext: Uint8Array): Buffer {
  const dB = privateScalar(d);
  const { c1, c3, c2 } = splitCiphertext(ciphertext);
  let point: Sm2Point;
  try {
    point = Point.fromBytes(c1); // B1: C1 must be on the curve; B2: [h]C1 != O as h = 1
  } catch {
    throw invalidCiphertext('its C1 is not a point on the SM2 curve');
  }
  const shared = point.multiply(dB).toBytes(false); // B3: (x2, y2) = [dB]C1, constant-time
  const t = sm2Kdf(shared.subarray(1), c2.length); // B4
  try {
    if (isAllZero(t)) throw invalidCiphertext('its key stream is all zero');
    const m = xorInto(Buffer.from(c2), t); // B5
    const u = sm3(shared.subarray(1, 1 + FIELD_BYTES), m, shared.subarray(1 + FIELD_BYTES)); // B6
    if (!timingSafeEqual(u, c3)) {
      wipe(m);
      throw invalidCiphertext('its C3 hash does not match');
    }
    return m; // B7
  } finally {
    wipe(shared, t);
  }
}

/** DER SM2Cipher -> raw 04 || x || y || C3 || C2, for services that take the raw layout. */
export function sm2CipherDerToRaw(der: Uint8Array): Buffer {
  return partsToRaw(derToParts(der));
}

/** Raw C1 || C3 || C2 -> DER SM2Cipher as OpenSSL 3 writes it. */
export function sm2CipherRawToDer(raw: Uint8Array): Buffer {
  return partsToDer(rawToParts(raw));
}

/**
 * KDF(Z, klen) of GB/T 32918.4-2016 §5.4.3 with SM3: Ha_i = SM3(Z || ct_i), ct from 1 as a
 * 32-bit big-endian counter, output truncated to klen bytes. Z (64 bytes, one SM3 block) is
 * absorbed once and the state forked per block.
 */
function sm2Kdf(z: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const prefix = createSm3().update(z);
  const counter = Buffer.alloc(4);
  for (let i = 1, offset = 0; offset < length; i++, offset += C3_LENGTH) {
    counter.writeUInt32BE(i);
    const block = prefix.copy().update(counter).digest();
    block.copy(out, offset, 0, Math.min(C3_LENGTH, length - offset));
    wipe(block);
  }
  prefix.digest(); // finalise, so Node frees the OpenSSL state holding Z now rather than at GC
  return out;
}

function splitCiphertext(ciphertext: Uint8Array): Sm2CipherParts {
  if (ciphertext[0] === 0x30) return derToParts(ciphertext);
  if (ciphertext[0] === 0x04) return rawToParts(ciphertext);
  throw invalidCiphertext('it is neither DER SM2Cipher nor raw C1C3C2');
}

function rawToParts(raw: Uint8Array): Sm2CipherParts {
  if (raw.length < C1_LENGTH + C3_LENGTH + 1 || raw[0] !== 0x04) {
    throw invalidCiphertext('raw C1C3C2 must be 04 || x || y || C3 (32 bytes) || C2 (at least 1 byte)');
  }
  return {
    c1: raw.subarray(0, C1_LENGTH),
    c3: raw.subarray(C1_LENGTH, C1_LENGTH + C3_LENGTH),
    c2: raw.subarray(C1_LENGTH + C3_LENGTH),
  };
}

function partsToRaw({ c1, c3, c2 }: Sm2CipherParts): Buffer {
  return Buffer.concat([c1, c3, c2]);
}

function invalidCiphertext(why: string): KmsError {
  return new KmsError('InvalidCiphertext', `The SM2 ciphertext is invalid: ${why}.`);
}

// ---------------------------------------------------------------------------------------------
// DER (X.690) via @peculiar/asn1-schema. Its parser is lenient (it ignores trailing bytes and
// accepts BER lengths), so strictness is enforced here: the input must equal its own
// re-encoding (DER is canonical, X.690 §10), and INTEGERs are checked for minimal, positive form,
// which re-encoding alone would not catch because the raw content bytes are kept as they are.
// ---------------------------------------------------------------------------------------------

class Sm2SignatureAsn {
  r: ArrayBuffer = new ArrayBuffer(0);
  s: ArrayBuffer = new ArrayBuffer(0);
}
AsnType({ type: AsnTypeTypes.Sequence })(Sm2SignatureAsn);
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(Sm2SignatureAsn.prototype, 'r');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(Sm2SignatureAsn.prototype, 's');

/** GM/T 0009-2012 SM2Cipher. */
class Sm2CipherAsn {
  xCoordinate: ArrayBuffer = new ArrayBuffer(0);
  yCoordinate: ArrayBuffer = new ArrayBuffer(0);
  hash: ArrayBuffer = new ArrayBuffer(0);
  cipherText: ArrayBuffer = new ArrayBuffer(0);
}
AsnType({ type: AsnTypeTypes.Sequence })(Sm2CipherAsn);
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(Sm2CipherAsn.prototype, 'xCoordinate');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(Sm2CipherAsn.prototype, 'yCoordinate');
AsnProp({ type: AsnPropTypes.OctetString })(Sm2CipherAsn.prototype, 'hash');
AsnProp({ type: AsnPropTypes.OctetString })(Sm2CipherAsn.prototype, 'cipherText');

function encodeSignature(r: bigint, s: bigint): Buffer {
  const asn = new Sm2SignatureAsn();
  asn.r = derPositiveInteger(r);
  asn.s = derPositiveInteger(s);
  return Buffer.from(AsnSerializer.serialize(asn));
}

function decodeSignature(der: Uint8Array): { r: bigint; s: bigint } | null {
  const asn = parseCanonical(der, Sm2SignatureAsn);
  if (asn === null) return null;
  const r = readPositiveInteger(asn.r);
  const s = readPositiveInteger(asn.s);
  return r === null || s === null ? null : { r, s };
}

function partsToDer({ c1, c3, c2 }: Sm2CipherParts): Buffer {
  const asn = new Sm2CipherAsn();
  asn.xCoordinate = derPositiveInteger(bytesToBigInt(c1.subarray(1, 1 + FIELD_BYTES)));
  asn.yCoordinate = derPositiveInteger(bytesToBigInt(c1.subarray(1 + FIELD_BYTES)));
  asn.hash = copyToArrayBuffer(c3);
  asn.cipherText = copyToArrayBuffer(c2);
  return Buffer.from(AsnSerializer.serialize(asn));
}

function derToParts(der: Uint8Array): Sm2CipherParts {
  const asn = parseCanonical(der, Sm2CipherAsn);
  if (asn === null) throw invalidCiphertext('it is not canonical DER SM2Cipher');
  const x = readPositiveInteger(asn.xCoordinate);
  const y = readPositiveInteger(asn.yCoordinate);
  // Coordinates are field elements (< p); anything else cannot be a point, whatever its bytes.
  if (x === null || y === null || x >= SM2_CURVE.p || y >= SM2_CURVE.p) {
    throw invalidCiphertext('its C1 coordinates are not field elements');
  }
  if (asn.hash.byteLength !== C3_LENGTH) throw invalidCiphertext('its hash is not 32 bytes');
  if (asn.cipherText.byteLength === 0) throw invalidCiphertext('its C2 is empty');
  return {
    c1: Buffer.concat([Buffer.of(0x04), fieldBytes(x), fieldBytes(y)]),
    c3: new Uint8Array(asn.hash),
    c2: new Uint8Array(asn.cipherText),
  };
}

/** Parses, then insists the input is exactly the canonical DER of what was parsed. */
function parseCanonical<T>(bytes: Uint8Array, schema: new () => T): T | null {
  let parsed: T;
  try {
    parsed = AsnParser.parse(bytes, schema);
  } catch {
    return null;
  }
  const canonical = Buffer.from(AsnSerializer.serialize(parsed));
  return canonical.equals(bytes) ? parsed : null;
}

/** X.690 §8.3: two's complement, minimal. Too long for a 256-bit value (+ sign byte) -> null. */
function readPositiveInteger(content: ArrayBuffer): bigint | null {
  const b = new Uint8Array(content);
  const first = b[0];
  if (first === undefined || b.length > FIELD_BYTES + 1) return null;
  if (first & 0x80) return null; // negative
  const second = b[1];
  if (first === 0 && second !== undefined && !(second & 0x80)) return null; // redundant leading zero
  return bytesToBigInt(b);
}

/** Minimal two's-complement content bytes of a non-negative integer (X.690 §8.3.2). */
function derPositiveInteger(v: bigint): ArrayBuffer {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 1), 16) >= 8) hex = `00${hex}`;
  return copyToArrayBuffer(Buffer.from(hex, 'hex'));
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function modN(v: bigint): bigint {
  const r = v % N;
  return r < 0n ? r + N : r;
}

function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
}

/** A field element as 32 big-endian bytes (GB/T 32918.1-2016, field element to byte string). */
function fieldBytes(v: bigint): Buffer {
  return Buffer.from(v.toString(16).padStart(2 * FIELD_BYTES, '0'), 'hex');
}

/** A fresh ArrayBuffer: Buffer.from() may share a pooled one, which the serializer would read whole. */
function copyToArrayBuffer(b: Uint8Array): ArrayBuffer {
  return new Uint8Array(b).buffer;
}

function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const byte of b) acc |= byte;
  return acc === 0;
}

function xorInto(target: Buffer, stream: Uint8Array): Buffer {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] ?? 0) ^ (stream[i] ?? 0);
  return target;
}
