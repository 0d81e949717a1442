/**
 * Reading the operator's input files: regular files only (a FIFO, device or folder is refused
 * before it is opened, so nothing waits on a writer), streamed in constant memory.
 */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { KmsError } from '../../src-shared/errors';

const CHUNK_BYTES = 1024 * 1024;

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
  /** Called between chunks; throws to stop (a cancel). */
  checkStop: () => void,
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
      checkStop();
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
