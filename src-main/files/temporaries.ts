/**
 * Keyroom's temporary files have one pattern, `.keyroom-<pid>.<requestId>.<name>.partial` (and
 * SQLite's `-journal` beside a backup's), so that the next run writing into a folder finds its own
 * leftovers after a crash and nothing else. The pid tells a leftover from a file another Keyroom
 * process is writing right now; the request id ties it to the audit log.
 */
import { lstat, open, readdir, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const PATTERN = /^\.keyroom-(\d+)\.([0-9A-Za-z_-]+)\.(.+)\.partial(-journal)?$/;

/** The temporaries this process is writing now: never stale, whatever another call in it finds. */
const live = new Set<string>();

export function temporaryPath(dir: string, name: string, requestId: string): string {
  return join(dir, `.keyroom-${process.pid}.${requestId}.${name}.partial`);
}

export function markLive(path: string): void {
  live.add(path);
}

export function markDone(path: string): void {
  live.delete(path);
}

export interface TemporaryName {
  pid: number;
  requestId: string;
  /** The final name the temporary was for. */
  name: string;
  journal: boolean;
}

export function parseTemporaryName(file: string): TemporaryName | undefined {
  const m = PATTERN.exec(file);
  if (!m) return undefined;
  return { pid: Number(m[1]), requestId: m[2]!, name: m[3]!, journal: m[4] !== undefined };
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, another user's. Only ESRCH proves it is gone.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A leftover whose writer is gone (or is this process, which no longer uses it). */
export interface StaleTemporary extends TemporaryName {
  path: string;
  finalPath: string;
}

export async function findStaleTemporaries(dir: string): Promise<StaleTemporary[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: StaleTemporary[] = [];
  for (const file of names) {
    const t = parseTemporaryName(file);
    if (!t) continue;
    const path = join(dir, file);
    if (live.has(path) || (t.journal && live.has(path.slice(0, -'-journal'.length)))) continue;
    if (t.pid !== process.pid && processAlive(t.pid)) continue;
    out.push({ ...t, path, finalPath: join(dir, t.name) });
  }
  return out;
}

export async function sha256OfFile(path: string): Promise<{ sha256: string; size: number }> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    await handle.close();
  }
}

/** What became of the final name a stale temporary was for. */
export type FinalState = 'absent' | 'placeholder' | 'published' | 'other';

export async function finalStateOf(t: StaleTemporary): Promise<FinalState> {
  const st = await lstat(t.finalPath).catch(() => undefined);
  if (!st) return 'absent';
  if (!st.isFile()) return 'other';
  if (st.size === 0) return 'placeholder';
  if (t.journal) return 'other';
  // Crashed between putting it in place and removing the temporary: the same bytes under both.
  const [a, b] = await Promise.all([sha256OfFile(t.path).catch(() => undefined), sha256OfFile(t.finalPath).catch(() => undefined)]);
  return a && b && a.sha256 === b.sha256 ? 'published' : 'other';
}

export async function removeQuietly(path: string): Promise<boolean> {
  return unlink(path).then(
    () => true,
    () => false,
  );
}
