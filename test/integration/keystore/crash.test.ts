/**
 * kill -9 in the middle of a stream of small transactions. Every time, the keystore must open,
 * pass PRAGMA integrity_check, and hold every committed transaction whole: meta.counter (set
 * last in each transaction) matches the audit rows, and is the last commit the writer reported,
 * or at most one more (committed but killed before it could say so).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keystore } from '../../../src-main/keystore/keystore';

const PASS = "crash 'test' пароль";
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WRITER = nodePath.join(ROOT, 'test/support/keystoreCrashWriter.ts');
const ROWS_PER_TX = 4; // as in the writer
const RANDOM_KILLS = 8;

interface Killed {
  lastReported: number;
  journal: JournalState;
}

type JournalState = 'none' | 'hot' | 'unsynced';

/** SQLite's rollback-journal magic (pager.c aJournalMagic). */
const JOURNAL_MAGIC = Buffer.from('d9d505f920a163d7', 'hex');

/**
 * 'hot': SQLite must roll it back before anyone reads. 'unsynced': SQLite writes the magic only
 * when it syncs the journal, just before it first changes the database file, so a journal
 * without it means the file was never touched; SQLite ignores it and a later write replaces it.
 */
function journalState(path: string): JournalState {
  const journal = `${path}-journal`;
  if (!fs.existsSync(journal)) return 'none';
  return fs.readFileSync(journal).subarray(0, 8).equals(JOURNAL_MAGIC) ? 'hot' : 'unsynced';
}

/** Runs the writer and SIGKILLs it `delayMs` after `ready(line state)` first holds. */
function runAndKill(path: string, args: readonly string[], ready: (lastReported: number, stalled: boolean) => boolean, delayMs: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(Buffer.from(PASS, 'utf8'));
    let lastReported = 0;
    let stalled = false;
    let pending = '';
    let stderr = '';
    let armed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^committed (\d+)$/.exec(line);
        if (m) lastReported = Number(m[1]);
        if (line === 'stalled') stalled = true;
      }
      if (!armed && ready(lastReported, stalled)) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself (code ${code}): ${stderr}`));
      else resolve({ lastReported, journal: journalState(path) });
    });
  });
}

/** Opens after the crash and checks the invariants; returns the committed transaction count. */
async function assertWhole(path: string, lastReported: number, label: string): Promise<number> {
  const ks = await Keystore.open(path, Buffer.from(PASS, 'utf8'));
  try {
    const s = await ks.read(async (db) => ({
      integrity: (await db.all<{ integrity_check: string }>('PRAGMA integrity_check')).map((r) => r.integrity_check),
      counter: Number((await db.get<{ value: string }>("SELECT value FROM meta WHERE name = 'counter'"))?.value ?? 0),
      rows: (await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))?.n,
      maxSeq: (await db.get<{ m: number | null }>('SELECT max(seq) AS m FROM audit_log'))?.m ?? 0,
      touched: (await db.get<{ n: number }>("SELECT count(*) AS n FROM audit_log WHERE details LIKE '%uncommitted%'"))?.n,
    }));
    assert.deepEqual(s.integrity, ['ok'], label);
    assert.equal(s.rows, s.counter * ROWS_PER_TX, `${label}: every transaction whole`);
    assert.equal(s.maxSeq, s.counter * ROWS_PER_TX, label);
    assert.equal(s.touched, 0, `${label}: nothing from an uncommitted transaction`);
    assert.ok(s.counter === lastReported || s.counter === lastReported + 1, `${label}: counter ${s.counter}, last reported ${lastReported}`);
    return s.counter;
  } finally {
    await ks.close();
  }
}

async function freshKeystore(t: TestContext): Promise<string> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'keyroom-crash-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const path = nodePath.join(dir, 'keystore.db');
  await (await Keystore.create(path, Buffer.from(PASS, 'utf8'))).close();
  return path;
}

test('SIGKILL at random moments never loses or splits a committed transaction', { timeout: 60_000 }, async (t) => {
  const path = await freshKeystore(t);
  let committed = 0;
  const seen: Record<JournalState, number> = { none: 0, hot: 0, unsynced: 0 };
  for (let round = 1; round <= RANDOM_KILLS; round++) {
    const before = committed;
    const killed = await runAndKill(path, [], (last) => last > before, Math.floor(Math.random() * 200));
    seen[killed.journal]++;
    committed = await assertWhole(path, killed.lastReported, `round ${round}`);
    assert.ok(committed > before, `round ${round}: the writer made progress`);
    assert.notEqual(journalState(path), 'hot', 'open rolled back the hot journal');
  }
  t.diagnostic(`${RANDOM_KILLS} kills; journal at kill: ${JSON.stringify(seen)}; ${committed} transactions committed`);
});

test('SIGKILL inside a transaction that already wrote pages to the file is rolled back', { timeout: 30_000 }, async (t) => {
  const path = await freshKeystore(t);
  const killed = await runAndKill(path, ['--stall-after', '20'], (_, stalled) => stalled, 0);
  assert.equal(killed.lastReported, 20);
  assert.equal(killed.journal, 'hot', 'the kill left a hot journal');
  // SQLite rolls a hot journal back before it reads page 1, with any key: the one write a failed
  // open makes. The journal's pages were encrypted under the right key, so this is safe.
  await assert.rejects(Keystore.open(path, Buffer.from('wrong', 'utf8')), { code: 'IncorrectPassphrase' });
  assert.equal(await assertWhole(path, 20, 'stalled'), 20);
  assert.equal(journalState(path), 'none', 'open rolled back and deleted the hot journal');
});
