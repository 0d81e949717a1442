/**
 * DigestFile: hash a file as a stream (1 MiB reads, constant memory whatever its size), with
 * progress in bytes and a prompt stop on cancel. The digest is what AsymmetricSign then signs.
 */
import { constants, createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { KmsError } from '../../../src-shared/errors';
import type { DigestAlgorithm } from '../../../src-shared/contract/types';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import { createSm3 } from '../../crypto/sm3';
import { cancelledError, throwIfCancelled, type OperationControl } from '../operationControl';

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

function unreadable(path: string, why: string): KmsError {
  return new KmsError('InvalidParameter.InputFile', `Cannot hash ${path}: ${why}. Give the path of a regular file you can read.`);
}

function describeErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'there is no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return `it cannot be read (${code ?? 'error'})`;
}

/** Open a regular file for reading; anything else (folder, device, FIFO, socket) is refused. */
async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
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

export async function digestFile(input: OperationInput<'DigestFile'>, control: OperationControl): Promise<OperationOutput<'DigestFile'>> {
  const path = resolve(input.InputFile);
  throwIfCancelled(control, 'DigestFile');
  const { handle, size } = await openRegularFile(path);
  const hash = hashFor(input.Algorithm);
  let done = 0;
  // The stream owns the handle from here and closes it when it ends, fails or is aborted.
  const stream = createReadStream(path, { fd: handle, highWaterMark: CHUNK_BYTES, signal: control.signal });
  control.progress({ Phase: 'Hashing', Done: 0, Total: size });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      done += chunk.length;
      // A file that grows while it is read: Total follows, so the bar never passes its end.
      control.progress({ Phase: 'Hashing', Done: done, Total: Math.max(size, done) });
    }
  } catch (e) {
    if (control.signal.aborted) throw cancelledError('DigestFile');
    throw unreadable(path, describeErrno(e));
  } finally {
    stream.destroy();
  }
  throwIfCancelled(control, 'DigestFile');
  control.progress({ Phase: 'Hashing', Done: done, Total: done });
  return { InputFile: path, Size: done, Algorithm: input.Algorithm, Digest: hash.digest('hex') };
}
