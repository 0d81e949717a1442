/**
 * What the output writer's guarantees cost beside a plain write, in the same run: per small
 * output (4 KiB: a signature, a key, a manifest) and for a large one (64 MiB: a backup), the
 * writer (plan, stage with fsync and read-back, publish with link, folder fsync and read-back)
 * against writeFile + fsync of the same bytes. Ratio = writer / plain time (above 1 = slower).
 *
 * Run alone: node --import tsx test/bench/outputWriter.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { planOutputs, publishOutputs, stageOutputs } from '../../src-main/files/outputWriter';

async function plain(path: string, bytes: Buffer): Promise<void> {
  const h = await open(path, 'wx', 0o600);
  try {
    await h.writeFile(bytes);
    await h.sync();
  } finally {
    await h.close();
  }
}

async function writer(path: string, bytes: Buffer): Promise<void> {
  const plan = await planOutputs([path], randomUUID());
  await publishOutputs(await stageOutputs(plan, [{ path, content: bytes }]));
}

async function timed(count: number, bytes: Buffer, dir: string, write: (p: string, b: Buffer) => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await write(join(dir, `f${i}`), bytes);
  return Number(process.hrtime.bigint() - start) / 1e6 / count;
}

export async function benchOutputWriter(dir: string) {
  const result: Record<string, { plainMs: number; writerMs: number; ratio: number }> = {};
  for (const [name, size, count] of [
    ['small_4KiB', 4096, 200],
    ['large_64MiB', 64 * 2 ** 20, 3],
  ] as const) {
    const bytes = randomBytes(size);
    const a = mkdtempSync(join(dir, 'plain-'));
    const b = mkdtempSync(join(dir, 'writer-'));
    const plainMs = await timed(count, bytes, a, plain);
    const writerMs = await timed(count, bytes, b, writer);
    result[name] = { plainMs: Math.round(plainMs * 100) / 100, writerMs: Math.round(writerMs * 100) / 100, ratio: Math.round((writerMs / plainMs) * 100) / 100 };
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-bench-out-'));
  try {
    process.stdout.write(`${JSON.stringify(await benchOutputWriter(dir), null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
