/**
 * RSA over a digest the caller computed. Node's crypto.sign always hashes its input, so the
 * signature padding is built here and the private-key operation is left to OpenSSL:
 * - PKCS#1 v1.5: EMSA-PKCS1-v1_5 = DigestInfo || H, padded with block type 1 by OpenSSL
 *   (privateEncrypt with RSA_PKCS1_PADDING);
 * - PSS: EMSA-PSS (RFC 8017 9.1) encoded here, raw RSA by OpenSSL (RSA_NO_PADDING).
 * Verification is strict: the signature must be exactly k bytes (RFC 8017 8.1.2 step 1).
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { KmsError } from '../../src-shared/errors';
import { wipe } from './wipe';

/** DER DigestInfo prefix for SHA-256 (RFC 8017 9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
/** DigestInfo prefix for SHA-512 (RFC 8017 §9.2 note 1): what SSHSIG's rsa-sha2-512 signs. */
const SHA512_DIGEST_INFO = Buffer.from('3051300d060960864801650304020305000440', 'hex');
export type Pkcs1Hash = 'sha256' | 'sha512';
const DIGEST_INFO: Readonly<Record<Pkcs1Hash, { prefix: Buffer; bytes: number }>> = {
  sha256: { prefix: SHA256_DIGEST_INFO, bytes: 32 },
  sha512: { prefix: SHA512_DIGEST_INFO, bytes: 64 },
};

/** The DigestInfo CKM_RSA_PKCS / RSA_PKCS1_PADDING signs for `hash`, refusing a digest of the wrong length. */
export function pkcs1DigestInfo(hash: Pkcs1Hash, digest: Uint8Array): Buffer {
  const d = DIGEST_INFO[hash];
  if (digest.length !== d.bytes) throw new KmsError('InvalidParameter.Digest', `RSASSA-PKCS1-v1_5 with ${hash.toUpperCase()} signs a ${d.bytes}-byte digest; this one has ${digest.length}.`);
  return Buffer.concat([d.prefix, digest]);
}
const PSS_SALT_BYTES = 32;
const HASH_BYTES = 32;

/**
 * A KeyObject over the caller's PKCS#8 bytes: a view, not a copy (the caller zeroes them). The
 * RSAPrivateKey inside is handed to OpenSSL as PKCS#1 where the wrapper is the plain rsaEncryption
 * one: OpenSSL 3 decodes PKCS#1 about 3x faster than PKCS#8 (whose decoder tries key types in
 * turn), and the key is parsed on every call, since nothing secret is kept between calls.
 */
function privateKeyOf(pkcs8: Uint8Array): KeyObject {
  const der = Buffer.from(pkcs8.buffer, pkcs8.byteOffset, pkcs8.byteLength);
  const pkcs1 = rsaPrivateKeyIn(der);
  return pkcs1 ? createPrivateKey({ key: pkcs1, format: 'der', type: 'pkcs1' }) : createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** AlgorithmIdentifier { rsaEncryption, NULL } (RFC 8017 A.1), as DER. */
const RSA_ENCRYPTION_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');

/**
 * The privateKey OCTET STRING's contents (a view) of PrivateKeyInfo { 0, rsaEncryption,
 * OCTET STRING } with nothing after it, or undefined for anything else (then OpenSSL's PKCS#8
 * decoder judges the whole, as before).
 */
function rsaPrivateKeyIn(der: Buffer): Buffer | undefined {
  const outer = derHeader(der, 0, 0x30);
  if (!outer || outer.end !== der.length) return undefined;
  const version = derHeader(der, outer.start, 0x02);
  if (!version || version.end - version.start !== 1 || der[version.start] !== 0) return undefined;
  const alg = der.subarray(version.end, version.end + RSA_ENCRYPTION_ALGORITHM.length);
  if (!alg.equals(RSA_ENCRYPTION_ALGORITHM)) return undefined;
  const key = derHeader(der, version.end + RSA_ENCRYPTION_ALGORITHM.length, 0x04);
  if (!key || key.end !== outer.end) return undefined;
  return der.subarray(key.start, key.end);
}

/**
 * A public KeyObject over an SPKI, handed to OpenSSL as the PKCS#1 RSAPublicKey inside where the
 * wrapper is the plain rsaEncryption one: OpenSSL 3 decodes that in ~17 us against ~150 us for
 * SPKI, ten times the verification itself. Anything else goes to the SPKI decoder.
 */
export function rsaPublicKeyOf(spki: Uint8Array): KeyObject {
  const der = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  const outer = derHeader(der, 0, 0x30);
  if (outer && outer.end === der.length && der.subarray(outer.start, outer.start + RSA_ENCRYPTION_ALGORITHM.length).equals(RSA_ENCRYPTION_ALGORITHM)) {
    const bits = derHeader(der, outer.start + RSA_ENCRYPTION_ALGORITHM.length, 0x03);
    // A BIT STRING with no unused bits, ending the SPKI.
    if (bits && bits.end === outer.end && bits.end > bits.start && der[bits.start] === 0) {
      return createPublicKey({ key: der.subarray(bits.start + 1, bits.end), format: 'der', type: 'pkcs1' });
    }
  }
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** Tag `tag` at `at`: where its contents start and end, or undefined (bad tag or length). */
function derHeader(der: Buffer, at: number, tag: number): { start: number; end: number } | undefined {
  if (der[at] !== tag || at + 2 > der.length) return undefined;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > der.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  const end = start + len;
  return end <= der.length ? { start, end } : undefined;
}

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw new KmsError('Internal', 'Not an RSA key.');
  return bits;
}

/** MGF1 with SHA-256 (RFC 8017 B.2.1). */
function mgf1Sha256(seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let i = 0, off = 0; off < length; i++, off += HASH_BYTES) {
    counter.writeUInt32BE(i);
    createHash('sha256').update(seed).update(counter).digest().copy(out, off);
  }
  return out;
}

function pssHashOf(mHash: Uint8Array, salt: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.alloc(8)).update(mHash).update(salt).digest();
}

/** EMSA-PSS-ENCODE (RFC 8017 9.1.1) with SHA-256, MGF1-SHA-256, salt 32. */
export function emsaPssEncode(mHash: Uint8Array, modBits: number, salt = randomBytes(PSS_SALT_BYTES)): Buffer {
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < HASH_BYTES + PSS_SALT_BYTES + 2) throw new KmsError('Internal', 'RSA key too small for PSS.');
  const H = pssHashOf(mHash, salt);
  const db = Buffer.alloc(emLen - HASH_BYTES - 1);
  db[db.length - PSS_SALT_BYTES - 1] = 0x01;
  Buffer.from(salt).copy(db, db.length - PSS_SALT_BYTES);
  const mask = mgf1Sha256(H, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, H, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 9.1.2) with salt length exactly 32. */
export function emsaPssVerify(mHash: Uint8Array, em: Uint8Array, modBits: number): boolean {
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  // With modBits = 8k+1 the encoded message is one byte shorter than the modulus.
  const e = em.length === emLen + 1 && em[0] === 0 ? em.subarray(1) : em;
  if (e.length !== emLen || e[emLen - 1] !== 0xbc) return false;
  const maskedDb = e.subarray(0, emLen - HASH_BYTES - 1);
  const H = e.subarray(emLen - HASH_BYTES - 1, emLen - 1);
  if ((maskedDb[0]! & ~(0xff >> (8 * emLen - emBits)) & 0xff) !== 0) return false;
  const db = mgf1Sha256(H, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const psLen = emLen - HASH_BYTES - PSS_SALT_BYTES - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - PSS_SALT_BYTES);
  return timingSafeEqual(pssHashOf(mHash, salt), H);
}

export type RsaSignScheme = 'PSS' | 'PKCS1';

export function rsaSignDigest(pkcs8: Uint8Array, scheme: RsaSignScheme, digest: Uint8Array, pkcs1Hash: Pkcs1Hash = 'sha256'): Buffer {
  const key = privateKeyOf(pkcs8);
  if (scheme === 'PKCS1') {
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, pkcs1DigestInfo(pkcs1Hash, digest));
  }
  const bits = modulusBits(key);
  const em = emsaPssEncode(digest, bits);
  const k = Math.ceil(bits / 8);
  const block = em.length === k ? em : Buffer.concat([Buffer.alloc(k - em.length), em]);
  try {
    return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
  } finally {
    wipe(em, block);
  }
}

export function rsaVerifyDigest(publicKey: KeyObject, scheme: RsaSignScheme, digest: Uint8Array, signature: Uint8Array, pkcs1Hash: Pkcs1Hash = 'sha256'): boolean {
  const bits = modulusBits(publicKey);
  const k = Math.ceil(bits / 8);
  if (signature.length !== k) return false;
  let em: Buffer;
  try {
    em = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, Buffer.from(signature));
  } catch {
    return false; // signature representative out of range (s >= n)
  }
  if (scheme === 'PSS') return emsaPssVerify(digest, em, bits);
  // EMSA-PKCS1-v1_5: compare the whole encoded block, so no lax parsing can be fooled.
  const expected = Buffer.alloc(k, 0xff);
  if (digest.length !== DIGEST_INFO[pkcs1Hash].bytes) return false;
  const t = pkcs1DigestInfo(pkcs1Hash, digest);
  expected[0] = 0x00;
  expected[1] = 0x01;
  expected[k - t.length - 1] = 0x00;
  t.copy(expected, k - t.length);
  return em.length === k && timingSafeEqual(em, expected);
}

export type OaepHash = 'sha256' | 'sha1';

export function rsaOaepEncrypt(publicKey: KeyObject, hash: OaepHash, plaintext: Uint8Array): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

export function rsaOaepDecrypt(pkcs8: Uint8Array, hash: OaepHash, ciphertext: Uint8Array): Buffer {
  const key = privateKeyOf(pkcs8);
  const k = Math.ceil(modulusBits(key) / 8);
  if (ciphertext.length !== k) throw new KmsError('InvalidCiphertext', `The ciphertext must be exactly ${k} bytes for this key.`);
  try {
    return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    throw new KmsError('InvalidCiphertext', 'The ciphertext does not decrypt with this key and algorithm.');
  }
}


/**
 * RSAES-PKCS1-v1_5 decryption of a message whose length the caller knows (imported key
 * material), for the legacy import wrapping algorithm only. Node refuses PKCS#1 v1.5 private
 * decryption (CVE-2023-46809, the Marvin attack), so the padding is checked here over raw RSA
 * without early exits, and every padding failure is the same error. A caller that then tells
 * a wrong-length or mismatched material apart still leaks a (strict) Bleichenbacher oracle;
 * with a 24 h token on an unlocked offline keystore that is impractical, and the algorithm is
 * legacy (warned about) for that reason.
 */
export function rsaPkcs1DecryptFixedLength(pkcs8: Uint8Array, ciphertext: Uint8Array, messageBytes: number): Buffer {
  const key = privateKeyOf(pkcs8);
  const k = Math.ceil(modulusBits(key) / 8);
  const fail = () => new KmsError('InvalidEncryptedKeyMaterial', 'The encrypted key material does not decrypt with the import parameters.');
  if (ciphertext.length !== k) throw fail();
  let em: Buffer;
  try {
    em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.from(ciphertext));
  } catch {
    throw fail();
  }
  const sep = k - messageBytes - 1;
  let bad = em[0]! | (em[1]! ^ 0x02) | em[sep]!;
  let zeroInPs = 0;
  for (let i = 2; i < sep; i++) zeroInPs |= em[i] === 0 ? 1 : 0;
  bad |= zeroInPs | (sep < 10 ? 1 : 0);
  const out = Buffer.from(em.subarray(sep + 1));
  wipe(em);
  if (bad !== 0) {
    wipe(out);
    throw fail();
  }
  return out;
}
