/**
 * ECIES_DH_SHA_1_XOR_HMAC for EC_P256 / EC_P256K. The reference does not publish its bytes; this
 * is Bouncy Castle's "ECIES" (IESEngine: ECDH, KDF2-SHA1, XOR stream, HMAC-SHA1), the most likely
 * match, unconfirmed (kms.md). Kept in this one module so it can change if the live service differs.
 *
 *   V = ephemeral public point, uncompressed
 *   Z = ECDH x-coordinate, field-size bytes
 *   K = KDF2-SHA1(V || Z), 16 + len(M) bytes (= ANSI X9.63 KDF, counter from 1)
 *   MAC key = K[0..16), pad = K[16..)
 *   C = M xor pad
 *   T = HMAC-SHA1(MAC key, C || L2), L2 = 8-byte big-endian bit length of the (empty) encoding
 *       parameter, i.e. 8 zero bytes: kms.md writes "00000000"; Bouncy Castle's IESEngine
 *       appends this 64-bit length tag whenever V is present.
 *   ciphertext = V || C || T
 *
 * ECDH is Node's (OpenSSL) where the running crypto has the curve, else @noble/curves: Electron's
 * Node is built on BoringSSL, which has P-256 but not secp256k1 (createECDH throws there). The
 * choice is made once per curve, at load, by trying `createECDH(curve).generateKeys()`.
 */
import { createECDH, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KmsError } from '../../src-shared/errors';
import { NOBLE_CURVES } from './ecdsa';
import { wipe } from './wipe';

export type EciesCurve = 'prime256v1' | 'secp256k1';
export type EcdhProvider = 'openssl' | 'noble';

function nativeEcdhWorks(curve: EciesCurve): boolean {
  try {
    createECDH(curve).generateKeys();
    return true;
  } catch {
    return false;
  }
}

/** The ECDH provider for each curve in this process. */
export const ECDH_PROVIDERS: Readonly<Record<EciesCurve, EcdhProvider>> = {
  prime256v1: nativeEcdhWorks('prime256v1') ? 'openssl' : 'noble',
  secp256k1: nativeEcdhWorks('secp256k1') ? 'openssl' : 'noble',
};

/** An ephemeral key pair: its uncompressed public point V and Z = x([eph]P). Caller wipes Z. */
function ephemeralAgreement(curve: EciesCurve, peer: Uint8Array, provider: EcdhProvider): { V: Buffer; Z: Buffer } {
  if (provider === 'openssl') {
    const eph = createECDH(curve);
    eph.generateKeys();
    return { V: eph.getPublicKey(), Z: eph.computeSecret(Buffer.from(peer)) }; // V: 04||x||y by default
  }
  const impl = NOBLE_CURVES[curve].impl;
  const eph = impl.utils.randomSecretKey();
  try {
    return { V: Buffer.from(impl.getPublicKey(eph, false)), Z: nobleSharedX(curve, eph, peer) };
  } finally {
    wipe(eph);
  }
}

/** Z = x([d]P), field-size bytes, as Node's ECDH.computeSecret returns it. Throws on a bad point. */
function sharedX(curve: EciesCurve, d: Uint8Array, peer: Uint8Array, provider: EcdhProvider): Buffer {
  if (provider === 'openssl') {
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(Buffer.from(d.buffer, d.byteOffset, d.byteLength)); // a view, not a copy
    return ecdh.computeSecret(Buffer.from(peer));
  }
  return nobleSharedX(curve, d, peer);
}

function nobleSharedX(curve: EciesCurve, d: Uint8Array, peer: Uint8Array): Buffer {
  // Compressed form 02/03 || x: x is what ECDH agrees on. noble rejects points off the curve.
  const shared = NOBLE_CURVES[curve].impl.getSharedSecret(d, peer, true);
  const Z = Buffer.from(shared.subarray(1));
  wipe(shared);
  return Z;
}

const MAC_KEY_BYTES = 16;
const TAG_BYTES = 20;
const POINT_BYTES = 65;
const LENGTH_TAG = Buffer.alloc(8);

/** KDF2 / X9.63 with SHA-1: SHA1(Z || counter) for counter = 1, 2, ... */
function kdf2Sha1(secret: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let i = 1, off = 0; off < length; i++, off += 20) {
    counter.writeUInt32BE(i);
    createHash('sha1').update(secret).update(counter).digest().copy(out, off);
  }
  return out;
}

function deriveKeys(V: Uint8Array, Z: Uint8Array, messageBytes: number): { macKey: Buffer; pad: Buffer; k: Buffer } {
  const vz = Buffer.concat([V, Z]);
  const k = kdf2Sha1(vz, MAC_KEY_BYTES + messageBytes);
  wipe(vz);
  return { macKey: k.subarray(0, MAC_KEY_BYTES), pad: k.subarray(MAC_KEY_BYTES), k };
}

function tagOf(macKey: Uint8Array, C: Uint8Array): Buffer {
  return createHmac('sha1', macKey).update(C).update(LENGTH_TAG).digest();
}

/** `provider` is for tests that compare the ECDH providers; callers leave it out. */
export function eciesEncrypt(
  curve: EciesCurve,
  publicPoint: Uint8Array,
  message: Uint8Array,
  provider: EcdhProvider = ECDH_PROVIDERS[curve],
): Buffer {
  let agreement: { V: Buffer; Z: Buffer };
  try {
    agreement = ephemeralAgreement(curve, publicPoint, provider);
  } catch {
    throw new KmsError('InvalidParameter', 'The public key is not a valid point on the curve.');
  }
  const { V, Z } = agreement;
  const { macKey, pad, k } = deriveKeys(V, Z, message.length);
  const C = Buffer.alloc(message.length);
  for (let i = 0; i < C.length; i++) C[i] = message[i]! ^ pad[i]!;
  const T = tagOf(macKey, C);
  wipe(Z, k);
  return Buffer.concat([V, C, T]);
}

export function eciesDecrypt(
  curve: EciesCurve,
  privateScalar: Uint8Array,
  ciphertext: Uint8Array,
  provider: EcdhProvider = ECDH_PROVIDERS[curve],
): Buffer {
  const bad = () => new KmsError('InvalidCiphertext', 'The ciphertext does not decrypt with this key (ECIES).');
  if (ciphertext.length < POINT_BYTES + TAG_BYTES || ciphertext[0] !== 0x04) throw bad();
  const V = ciphertext.subarray(0, POINT_BYTES);
  const C = ciphertext.subarray(POINT_BYTES, ciphertext.length - TAG_BYTES);
  const T = ciphertext.subarray(ciphertext.length - TAG_BYTES);
  // Checked apart, so a bad key in the keystore is not reported as a bad ciphertext below.
  if (!NOBLE_CURVES[curve].impl.utils.isValidSecretKey(privateScalar)) {
    throw new KmsError('Internal', 'An EC private key in the keystore is not a valid scalar for its curve.');
  }
  let Z: Buffer;
  try {
    Z = sharedX(curve, privateScalar, V, provider);
  } catch {
    throw bad();
  }
  const { macKey, pad, k } = deriveKeys(V, Z, C.length);
  try {
    if (!timingSafeEqual(tagOf(macKey, C), T)) throw bad();
    const M = Buffer.alloc(C.length);
    for (let i = 0; i < M.length; i++) M[i] = C[i]! ^ pad[i]!;
    return M;
  } finally {
    wipe(Z, k);
  }
}
