/**
 * Reading a small input whole (a parameter's @file, a secret's file, a signature, a blob), with a
 * cap: only a regular file is read (a FIFO, device or folder is refused at once, so nothing waits
 * on a writer and /dev/zero does not fill memory), its size is checked with fstat before any
 * byte is read, and reading stops at cap + 1 bytes should the file grow meanwhile.
 */
import fs, { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { describeErrno } from './readFile';

/** Builds the caller's error (its code and words) from why the file cannot be taken. */
export type Refusal = (why: string) => Error;

function tooBig(size: number | string, maxBytes: number): string {
  return `it is ${size} bytes, more than the ${maxBytes} this value can take`;
}

function kindProblem(st: fs.Stats): string | undefined {
  if (st.isDirectory()) return 'it is a folder';
  if (st.isFIFO()) return 'it is a pipe (FIFO), not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'it is a device, not a regular file';
  if (!st.isFile()) return 'it is not a regular file';
  return undefined;
}

/** O_NONBLOCK: a FIFO put in place between stat and open does not make the open wait; fstat then refuses it. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export function readSmallFileSync(path: string, maxBytes: number, refuse: Refusal): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw refuse(describeErrno(e));
  }
  const before = kindProblem(st);
  if (before) throw refuse(before);
  if (st.size > maxBytes) throw refuse(tooBig(st.size, maxBytes));
  let fd: number;
  try {
    fd = fs.openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw refuse(describeErrno(e));
  }
  try {
    const fst = fs.fstatSync(fd);
    const now = kindProblem(fst);
    if (now) throw refuse(now);
    if (fst.size > maxBytes) throw refuse(tooBig(fst.size, maxBytes));
    const buf = Buffer.alloc(maxBytes + 1);
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, total, buf.length - total, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) {
        buf.fill(0);
        throw refuse(tooBig(`more than ${maxBytes}`, maxBytes));
      }
    }
    const out = Buffer.from(buf.subarray(0, total));
    buf.fill(0);
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

export async function readSmallFile(path: string, maxBytes: number, refuse: Refusal): Promise<Buffer> {
  const st = await stat(path).catch((e: unknown) => {
    throw refuse(describeErrno(e));
  });
  const before = kindProblem(st);
  if (before) throw refuse(before);
  if (st.size > maxBytes) throw refuse(tooBig(st.size, maxBytes));
  const handle = await open(path, OPEN_FLAGS).catch((e: unknown) => {
    throw refuse(describeErrno(e));
  });
  try {
    const fst = await handle.stat();
    const now = kindProblem(fst);
    if (now) throw refuse(now);
    if (fst.size > maxBytes) throw refuse(tooBig(fst.size, maxBytes));
    const buf = Buffer.alloc(maxBytes + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) {
        buf.fill(0);
        throw refuse(tooBig(`more than ${maxBytes}`, maxBytes));
      }
    }
    const out = Buffer.from(buf.subarray(0, total));
    buf.fill(0);
    return out;
  } finally {
    await handle.close();
  }
}
