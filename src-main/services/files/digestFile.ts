/**
 * DigestFile: hash a file as a stream (1 MiB reads, constant memory whatever its size), with
 * progress in bytes and a prompt stop on cancel. The digest is what AsymmetricSign then signs.
 */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { KmsError } from '../../../src-shared/errors';
import type { DigestAlgorithm } from '../../../src-shared/contract/types';
import type { OperationInput, OperationName, OperationOutput } from '../../../src-shared/contract/operations';
import { createSm3 } from '../../crypto/sm3';
import { throwIfCancelled, type OperationControl } from '../operationControl';

const CHUNK_BYTES = 1024 * 1024;

interface StreamingHash {
  update(data: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

/** SM3 through crypto/sm3.ts: Electron's BoringSSL has no createHash('sm3'). */
function hashFor(algorithm: DigestAlgorithm): StreamingHash {
  if (algorithm === 'SM3') return createSm3();
  return createHash(algorithm === 'SHA_256' ? 'sha256' : 'sha384');
}

export function unreadable(path: string, why: string): KmsError {
  return new KmsError('InvalidParameter.InputFile', `Cannot hash ${path}: ${why}. Give the path of a regular file you can read.`);
}

export function describeErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'there is no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return `it cannot be read (${code ?? 'error'})`;
}

/** Open a regular file for reading; anything else (folder, device, FIFO, socket) is refused. */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  // Checked before opening, because opening a FIFO for reading would wait for a writer.
  const before = await stat(path).catch((e: unknown) => {
    throw unreadable(path, describeErrno(e));
  });
  if (before.isDirectory()) throw unreadable(path, 'it is a folder');
  if (!before.isFile()) throw unreadable(path, 'it is not a regular file');
  // O_NONBLOCK: should a FIFO be put there meanwhile, the open does not hang; fstat refuses it.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: unknown) => {
    throw unreadable(path, describeErrno(e));
  });
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw unreadable(path, 'it is not a regular file');
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** What a stream of file bytes goes into: a hash, or several (SignFile feeds a plain and a Z-prefixed SM3). */
export interface ByteSink {
  update(data: Uint8Array): unknown;
}

/**
 * Stream a regular file into `sinks` through two reused 1 MiB buffers: the next read runs (on
 * libuv's thread pool) while this chunk is hashed, so hashing rarely waits for the disk; memory is
 * constant whatever the size, with no garbage per read. `onBytes` gets the running count; a
 * cancel stops it between chunks with Cancelled. Returns the size read.
 */
export async function streamFile(
  path: string,
  sinks: readonly ByteSink[],
  control: OperationControl,
  operation: OperationName,
  onBytes: (done: number, size: number) => void,
): Promise<number> {
  const { handle, size } = await openRegularFile(path);
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)] as const;
  const read = (i: 0 | 1) =>
    handle.read(buffers[i], 0, CHUNK_BYTES, null).then(
      (r) => r.bytesRead,
      (e: unknown) => {
        throw unreadable(path, describeErrno(e));
      },
    );
  let done = 0;
  let which: 0 | 1 = 0;
  let pending: Promise<number> | undefined = read(which);
  onBytes(0, size);
  try {
    for (;;) {
      const bytesRead = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      throwIfCancelled(control, operation);
      const chunk = buffers[which].subarray(0, bytesRead);
      which = which === 0 ? 1 : 0;
      pending = read(which); // into the other buffer, while this one is hashed
      for (const sink of sinks) sink.update(chunk);
      done += bytesRead;
      // A file that grows while it is read: the total follows, so a bar never passes its end.
      onBytes(done, Math.max(size, done));
    }
  } finally {
    await pending?.catch(() => undefined);
    for (const b of buffers) b.fill(0);
    await handle.close();
  }
  return done;
}

export async function digestFile(input: OperationInput<'DigestFile'>, control: OperationControl): Promise<OperationOutput<'DigestFile'>> {
  const path = resolve(input.InputFile);
  throwIfCancelled(control, 'DigestFile');
  const hash = hashFor(input.Algorithm);
  const size = await streamFile(path, [hash], control, 'DigestFile', (done, total) => control.progress({ Phase: 'Hashing', Done: done, Total: total }));
  control.progress({ Phase: 'Hashing', Done: size, Total: size });
  return { InputFile: path, Size: size, Algorithm: input.Algorithm, Digest: hash.digest('hex') };
}
