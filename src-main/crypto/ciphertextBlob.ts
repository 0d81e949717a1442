/**
 * The symmetric CiphertextBlob: self-describing, so Decrypt needs nothing but the blob (and the
 * EncryptionContext). Layout, all big-endian, base64 for transport:
 *
 *   offset  size  field
 *   0       1     format version, 0x01
 *   1       16    KeyId (UUID bytes)
 *   17      16    KeyVersionId (UUID bytes)
 *   33      1     algorithm: 0x01 AES-256-GCM, 0x02 SM4-GCM
 *   34      12    IV (random)
 *   46      n     ciphertext
 *   46+n    16    GCM tag
 *
 * AAD = bytes 0..45 (the header) || UTF-8 canonical EncryptionContext, so a changed byte anywhere
 * in the blob, or another context, fails authentication.
 */
import { KmsError } from '../../src-shared/errors';
import type { SymmetricAlgorithm } from '../../src-shared/domain/keySpecs';

export const BLOB_VERSION = 0x01;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BYTES = 1 + 16 + 16 + 1 + IV_BYTES;

const ALGORITHM_IDS: Readonly<Record<SymmetricAlgorithm, number>> = { AES_256_GCM: 0x01, SM4_GCM: 0x02 };

export interface BlobHeader {
  keyId: string;
  keyVersionId: string;
  algorithm: SymmetricAlgorithm;
  iv: Buffer;
}

export interface ParsedBlob extends BlobHeader {
  header: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function uuidToBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeHeader(h: BlobHeader): Buffer {
  if (h.iv.length !== IV_BYTES) throw new KmsError('Internal', 'IV must be 12 bytes.');
  return Buffer.concat([
    Buffer.from([BLOB_VERSION]),
    uuidToBytes(h.keyId),
    uuidToBytes(h.keyVersionId),
    Buffer.from([ALGORITHM_IDS[h.algorithm]]),
    h.iv,
  ]);
}

export function assembleBlob(header: Buffer, ciphertext: Buffer, tag: Buffer): Buffer {
  return Buffer.concat([header, ciphertext, tag]);
}

export function parseBlob(blob: Buffer): ParsedBlob {
  const invalid = (why: string) => new KmsError('InvalidCiphertext', `This is not a Keyroom CiphertextBlob (${why}).`);
  if (blob.length < HEADER_BYTES + TAG_BYTES) throw invalid('too short');
  if (blob[0] !== BLOB_VERSION) throw invalid(`unknown format version ${blob[0]}`);
  const algId = blob[33];
  const algorithm = (Object.keys(ALGORITHM_IDS) as SymmetricAlgorithm[]).find((a) => ALGORITHM_IDS[a] === algId);
  if (!algorithm) throw invalid(`unknown algorithm ${algId}`);
  return {
    keyId: bytesToUuid(blob.subarray(1, 17)),
    keyVersionId: bytesToUuid(blob.subarray(17, 33)),
    algorithm,
    iv: blob.subarray(34, HEADER_BYTES),
    header: blob.subarray(0, HEADER_BYTES),
    ciphertext: blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES),
    tag: blob.subarray(blob.length - TAG_BYTES),
  };
}
