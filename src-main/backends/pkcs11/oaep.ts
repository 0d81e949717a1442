/**
 * EME-OAEP decoding (RFC 8017 7.1.2 step 3), for tokens whose CKM_RSA_PKCS_OAEP takes SHA-1
 * only (SoftHSM 2.6 answers CKR_ARGUMENTS_BAD to any other hash): the token does the private-key
 * operation (CKM_RSA_X_509) and the padding is checked here, with an empty label. The checks run
 * over the whole block without early exits, and every failure is the same error, so timing and
 * messages say nothing about where the padding broke.
 */
import { createHash } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { wipe } from '../../crypto/wipe';

export type OaepDigest = 'sha1' | 'sha256';

const H_LEN: Readonly<Record<OaepDigest, number>> = { sha1: 20, sha256: 32 };

function mgf1(hash: OaepDigest, seed: Uint8Array, length: number): Buffer {
  const hLen = H_LEN[hash];
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let i = 0, off = 0; off < length; i++, off += hLen) {
    counter.writeUInt32BE(i);
    createHash(hash).update(seed).update(counter).digest().copy(out, off);
  }
  return out;
}

/** The message inside an OAEP-encoded block EM (exactly k bytes), or InvalidCiphertext. */
export function emeOaepDecode(em: Uint8Array, hash: OaepDigest): Buffer {
  const hLen = H_LEN[hash];
  const k = em.length;
  const fail = () => new KmsError('InvalidCiphertext', 'The ciphertext does not decrypt with this key and algorithm.');
  if (k < 2 * hLen + 2) throw fail();
  const lHash = createHash(hash).digest(); // empty label
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = mgf1(hash, maskedDb, hLen);
  for (let i = 0; i < hLen; i++) seed[i]! ^= maskedSeed[i]!;
  const db = mgf1(hash, seed, k - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;

  let bad = em[0]!;
  for (let i = 0; i < hLen; i++) bad |= db[i]! ^ lHash[i]!;
  // Find the 0x01 after the zero padding without branching on secret bytes.
  let found = 0;
  let index = 0;
  let invalidByte = 0;
  for (let i = hLen; i < db.length; i++) {
    const isOne = +(db[i] === 0x01);
    const isZero = +(db[i] === 0x00);
    const first = isOne & (found ^ 1);
    index = first ? i : index;
    invalidByte |= (found ^ 1) & (isOne ^ 1) & (isZero ^ 1);
    found |= isOne;
  }
  bad |= invalidByte | (found ^ 1);
  const out = Buffer.from(db.subarray(index + 1));
  wipe(seed, db);
  if (bad !== 0) {
    wipe(out);
    throw fail();
  }
  return out;
}
