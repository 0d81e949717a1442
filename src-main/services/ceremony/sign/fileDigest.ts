/**
 * The digest a file signature signs, streamed through native hashing in constant memory: SHA-256
 * or SHA-384 of the file, or for SM2DSA e = SM3(Z_A || file) with Z_A from the signer's public key
 * and distinguishing ID (default 1234567812345678). SignFile and VerifyFile share it, so what one
 * signs the other checks byte for byte.
 */
import { createHash } from 'node:crypto';
import { KmsError } from '../../../../src-shared/errors';
import { SIGNING_DIGEST, signsMessage, type SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import type { OperationName } from '../../../../src-shared/contract/operations';
import { ecPointFromSpki } from '../../../crypto/keyEncoding';
import { SM2_DEFAULT_ID, sm2Za } from '../../../crypto/sm2';
import { createSm3 } from '../../../crypto/sm3';
import { throwIfCancelled, type OperationControl } from '../../operationControl';
import { streamFile, type ByteSink } from '../../../files/readFile';

interface Hash extends ByteSink {
  digest(): Buffer;
}

/** The manifest each algorithm's digest goes into, as `sha256sum -c` and its kin read them. */
export const MANIFEST_NAMES: Readonly<Record<'sha256' | 'sha384' | 'sm3', string>> = { sha256: 'SHA256SUMS', sha384: 'SHA384SUMS', sm3: 'SM3SUMS' };

export function manifestDigest(algorithm: SigningAlgorithm): 'sha256' | 'sha384' | 'sm3' {
  // Ed25519 signs the manifest's bytes themselves; its lines name each file by SHA-256.
  if (signsMessage(algorithm)) return 'sha256';
  const d = SIGNING_DIGEST[algorithm].digest;
  if (d !== 'sha256' && d !== 'sha384' && d !== 'sm3') throw new KmsError('Internal', `No manifest for ${d}.`);
  return d;
}

function plainHash(d: 'sha256' | 'sha384' | 'sm3'): Hash {
  const h = d === 'sm3' ? createSm3() : createHash(d);
  return { update: (b) => h.update(b), digest: () => h.digest() };
}

/** A UserId is SM2's distinguishing ID; any other algorithm refuses one rather than ignore it. */
export function userIdBytes(algorithm: SigningAlgorithm, userId: string | undefined): Uint8Array {
  if (userId !== undefined && algorithm !== 'SM2DSA') {
    throw new KmsError('InvalidParameter', `UserId is SM2's distinguishing ID; ${algorithm} takes none.`);
  }
  return userId === undefined ? SM2_DEFAULT_ID : new TextEncoder().encode(userId);
}

/**
 * Pure Ed25519 must see the whole file, which goes to the key in one piece (a token takes one
 * C_Sign): larger files need a prehashed format (minisign, ssh, openpgp).
 */
export const MAX_RAW_ED25519_FILE_BYTES = 64 * 1024 * 1024;

export function rawEd25519TooLarge(path: string, size: number): KmsError {
  return new KmsError(
    'InvalidParameter.InputFile',
    `${path} is ${size} bytes; a raw Ed25519 signature signs the whole file and takes at most ${MAX_RAW_ED25519_FILE_BYTES} bytes (64 MiB). Use a prehashed format for it (--Format minisign or --Format ssh), or sign a manifest (--Manifest).`,
  );
}

export interface FileDigests {
  size: number;
  /** What the key signs (SM2: e = SM3(Z_A || file); ED25519: the file's bytes). */
  signed: Buffer;
  /** What the audit entry and the result name: `signed`, or for ED25519 the file's SHA-256. */
  recorded: Buffer;
  /** The plain digest of the file's bytes, when asked for (a manifest line); for SHA it is `signed`. */
  plain?: Buffer;
}

/**
 * Stream `path` once into the signing digest (and the plain one when `wantPlain`, which for SM2
 * means a second SM3 over the same bytes). `onBytes` reports the running count.
 */
export async function digestForSignature(
  path: string,
  algorithm: SigningAlgorithm,
  spki: Uint8Array,
  userId: Uint8Array,
  wantPlain: boolean,
  control: OperationControl,
  operation: OperationName,
  onBytes: (done: number, size: number) => void,
  /** Further digests of the same bytes (other signature formats), fed in the same read. */
  extra: readonly ByteSink[] = [],
): Promise<FileDigests> {
  if (signsMessage(algorithm)) return wholeFile(path, control, operation, onBytes, extra);
  const d = manifestDigest(algorithm);
  const signed = plainHash(d);
  if (algorithm === 'SM2DSA') signed.update(sm2Za(ecPointFromSpki(spki), userId));
  const plain = algorithm === 'SM2DSA' && wantPlain ? plainHash('sm3') : undefined;
  const size = await streamFile(path, [...(plain ? [signed, plain] : [signed]), ...extra], () => throwIfCancelled(control, operation), onBytes);
  const signedDigest = signed.digest();
  if (algorithm !== 'SM2DSA') return { size, signed: signedDigest, recorded: signedDigest, plain: signedDigest };
  return plain ? { size, signed: signedDigest, recorded: signedDigest, plain: plain.digest() } : { size, signed: signedDigest, recorded: signedDigest };
}

/** The file's bytes (for pure Ed25519), at most MAX_RAW_ED25519_FILE_BYTES, and their SHA-256. */
async function wholeFile(path: string, control: OperationControl, operation: OperationName, onBytes: (done: number, size: number) => void, extra: readonly ByteSink[]): Promise<FileDigests> {
  const chunks: Buffer[] = [];
  let held = 0;
  const sha = createHash('sha256');
  const collect: ByteSink = {
    update: (b) => {
      held += b.length;
      // Checked while reading too: the file may have grown since it was planned.
      if (held > MAX_RAW_ED25519_FILE_BYTES) throw rawEd25519TooLarge(path, held);
      chunks.push(Buffer.from(b));
      sha.update(b);
    },
  };
  const size = await streamFile(path, [collect, ...extra], () => throwIfCancelled(control, operation), onBytes);
  const digest = sha.digest();
  return { size, signed: Buffer.concat(chunks), recorded: digest, plain: digest };
}

/** The same digest over bytes in memory (a manifest written here). */
export function digestBytesForSignature(bytes: Uint8Array, algorithm: SigningAlgorithm, spki: Uint8Array, userId: Uint8Array): Buffer {
  if (signsMessage(algorithm)) return Buffer.from(bytes);
  const h = plainHash(manifestDigest(algorithm));
  if (algorithm === 'SM2DSA') h.update(sm2Za(ecPointFromSpki(spki), userId));
  h.update(bytes);
  return h.digest();
}
