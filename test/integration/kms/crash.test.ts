/**
 * kill -9 during service-level writes. A child (test/support/kmsCrashWriter.ts) opens the keystore
 * through Session.unlock and loops dispatch calls that write (CreateKey, CreateKeyVersion,
 * Encrypt, CreateAlias, UpdateAlias), reporting each completed call; the parent SIGKILLs it at a
 * random moment, several times over the same keystore. After every kill: the keystore opens,
 * PRAGMA integrity_check is ok, VerifyAuditLog is Valid, every reported call is there, and the
 * tables and the audit log agree (no change without its entry, no entry without its change).
 *
 * The moments come from a seeded generator; set KEYROOM_CRASH_SEED to replay a failing run.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHarness, PASSPHRASE, type Harness } from '../../support/kmsHarness';
import type { AuditEntry } from '../../../src-main/services/audit/auditLog';
import type { CrashReport } from '../../support/kmsCrashWriter';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WRITER = nodePath.join(ROOT, 'test/support/kmsCrashWriter.ts');
const LATEST_ALIAS = 'alias/crash/latest'; // as in the writer
const KILLS = Number(process.env.KEYROOM_CRASH_KILLS ?? 9);
const CHILD_OPS = new Set(['CreateKey', 'CreateKeyVersion', 'Encrypt', 'CreateAlias', 'UpdateAlias']);

/** mulberry32: a small seeded generator, so a failing schedule can be replayed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * When to kill: some time after the writer is ready; right as its n-th report arrives (it is
 * then starting its next call); or as soon as the n-th rollback journal appears, i.e. while a
 * write transaction is changing pages (inotify through fs.watch, no polling).
 */
type Moment = { afterMs: number } | { atReport: number } | { atJournal: number };

interface Killed {
  reports: CrashReport[];
  journalLeft: boolean;
}

function runAndKill(path: string, tag: string, moment: Moment): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, tag], {
      cwd: ROOT,
      env: { ...process.env, KEYROOM_CRASH_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reports: CrashReport[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    let watcher: fs.FSWatcher | undefined;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const journal = `${path}-journal`;
    const watchJournal = (n: number): void => {
      let seen = 0;
      let present = false;
      watcher = fs.watch(nodePath.dirname(path), (_event, name) => {
        if (name !== nodePath.basename(journal)) return;
        // Each write to the journal is an event too; count only its appearances.
        const exists = fs.existsSync(journal);
        if (exists && !present && ++seen === n) kill();
        present = exists;
      });
    };
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = (pending + d).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const msg = JSON.parse(line) as CrashReport | { ready: true };
        if ('ready' in msg) {
          if ('afterMs' in moment) setTimeout(kill, moment.afterMs);
          if ('atJournal' in moment) watchJournal(moment.atJournal);
          continue;
        }
        // Reports that arrive after the kill was sent still describe completed calls.
        reports.push(msg);
        if ('atReport' in moment && reports.length === moment.atReport) kill();
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      watcher?.close();
      if (signal !== 'SIGKILL') reject(new Error(`the writer ended by itself (code ${code}, signal ${signal}): ${stderr}`));
      else resolve({ reports, journalLeft: fs.existsSync(`${path}-journal`) });
    });
  });
}

describe('kill -9 during service-level writes', () => {
  let h: Harness;
  const seed = Number(process.env.KEYROOM_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = generator(seed);
  /** Every call any writer reported complete, over all runs. */
  const reported: CrashReport[] = [];

  before(async () => {
    h = await openHarness();
    const seedKey = (await h.call('CreateKey', { KeySpec: 'AES_256', Description: 'seed' })).KeyMetadata.KeyId;
    await h.call('CreateAlias', { AliasName: LATEST_ALIAS, KeyId: seedKey });
    await h.session.lock();
  });
  after(() => h.close());

  async function entries(): Promise<AuditEntry[]> {
    return h.raw((db) => db.all<AuditEntry>('SELECT * FROM audit_log ORDER BY seq'));
  }

  /** The keystore as it must be after any crash. */
  async function assertWhole(run: number, childEntriesBefore: number, runReports: number): Promise<void> {
    const label = `run ${run} (seed ${seed})`;
    const integrity = await h.raw((db) => db.all<{ integrity_check: string }>('PRAGMA integrity_check'));
    assert.deepEqual(integrity, [{ integrity_check: 'ok' }], label);
    assert.deepEqual(await h.raw((db) => db.all('PRAGMA foreign_key_check')), [], label);

    const log = await entries();
    const verdict = await h.call('VerifyAuditLog', {});
    assert.equal(verdict.Valid, true, `${label}: ${verdict.Reason}`);
    assert.equal(verdict.Entries, log.length, label);

    // Every reported call is in the log exactly once, under its RequestId and operation.
    const byRequest = new Map(log.map((e) => [e.request_id, e]));
    assert.equal(byRequest.size, log.length, `${label}: request ids are unique`);
    for (const r of reported) {
      const e = byRequest.get(r.RequestId);
      assert.ok(e, `${label}: reported ${r.op} ${r.RequestId} has no audit entry`);
      assert.equal(e.operation, r.op, label);
      assert.equal(e.key_id, r.KeyId, label);
    }
    // What committed in this run: everything reported, and at most the one call in flight.
    const childEntries = log.filter((e) => CHILD_OPS.has(e.operation)).length;
    const committed = childEntries - childEntriesBefore;
    assert.ok(committed === runReports || committed === runReports + 1, `${label}: ${committed} calls committed, ${runReports} reported`);

    // Every reported call's effect is present.
    for (const r of reported) {
      switch (r.op) {
        case 'CreateKey': {
          const d = await h.call('DescribeKey', { KeyId: r.KeyId });
          assert.equal(d.KeyMetadata.Description, r.Description, label);
          break;
        }
        case 'CreateKeyVersion': {
          const v = await h.call('DescribeKeyVersion', { KeyId: r.KeyId, KeyVersionId: r.KeyVersionId });
          assert.equal(v.KeyVersion.KeyVersionId, r.KeyVersionId, label);
          break;
        }
        case 'Encrypt': {
          const dec = await h.call('Decrypt', { CiphertextBlob: r.CiphertextBlob });
          assert.equal(dec.Plaintext, r.Plaintext, label);
          assert.equal(dec.KeyVersionId, r.KeyVersionId, label);
          break;
        }
        case 'CreateAlias': {
          const d = await h.call('DescribeKey', { KeyId: r.AliasName });
          assert.equal(d.KeyMetadata.KeyId, r.KeyId, label);
          break;
        }
        case 'UpdateAlias':
          break; // checked below against the log
      }
    }

    // Tables and log agree: no change without its entry, no entry without its change.
    const after = await entries();
    const keyIds = await h.raw((db) => db.all<{ key_id: string }>('SELECT key_id FROM keys ORDER BY key_id'));
    const createdKeys = after.filter((e) => e.operation === 'CreateKey').map((e) => e.key_id).sort();
    assert.deepEqual(keyIds.map((k) => k.key_id), createdKeys, `${label}: keys vs CreateKey entries`);

    const versionIds = await h.raw((db) => db.all<{ key_version_id: string }>('SELECT key_version_id FROM key_versions ORDER BY key_version_id'));
    const createdVersions = after
      .filter((e) => e.operation === 'CreateKey' || e.operation === 'CreateKeyVersion')
      .map((e) => e.key_version_id)
      .sort();
    assert.deepEqual(versionIds.map((v) => v.key_version_id), createdVersions, `${label}: key versions vs their entries`);

    const aliases = await h.raw((db) => db.all<{ alias_name: string; key_id: string }>('SELECT alias_name, key_id FROM aliases ORDER BY alias_name'));
    const aliasEntries = after.filter((e) => e.operation === 'CreateAlias').map((e) => JSON.parse(e.details).AliasName as string).sort();
    assert.deepEqual(aliases.map((a) => a.alias_name), aliasEntries, `${label}: aliases vs CreateAlias entries`);
    const lastMove = after.filter((e) => (e.operation === 'CreateAlias' || e.operation === 'UpdateAlias') && JSON.parse(e.details).AliasName === LATEST_ALIAS).at(-1);
    assert.equal(aliases.find((a) => a.alias_name === LATEST_ALIAS)?.key_id, lastMove?.key_id, `${label}: ${LATEST_ALIAS} points where its last entry says`);
    const lastReportedMove = reported.filter((r) => r.op === 'UpdateAlias').at(-1);
    if (lastReportedMove) assert.ok(after.some((e) => e.request_id === lastReportedMove.RequestId), label);
  }

  it(`survives ${KILLS} kills at random moments, reusing the keystore`, { timeout: 120_000 }, async (t: TestContext) => {
    t.diagnostic(`seed ${seed} (KEYROOM_CRASH_SEED=${seed} replays it)`);
    let journals = 0;
    for (let run = 1; run <= KILLS; run++) {
      await h.session.unlock(Buffer.from(PASSPHRASE));
      const before = (await entries()).filter((e) => CHILD_OPS.has(e.operation)).length;
      await h.session.lock();

      const moment: Moment = [
        { afterMs: Math.floor(random() * 250) },
        { atReport: 1 + Math.floor(random() * 12) },
        { atJournal: 1 + Math.floor(random() * 12) },
      ][run % 3]!;
      const killed = await runAndKill(h.path, `r${run}`, moment);
      if (killed.journalLeft) journals++;
      reported.push(...killed.reports);
      t.diagnostic(`run ${run}: ${JSON.stringify(moment)}, ${killed.reports.length} calls reported, journal left: ${killed.journalLeft}`);

      await h.session.unlock(Buffer.from(PASSPHRASE));
      await assertWhole(run, before, killed.reports.length);
      await h.session.lock();
    }
    t.diagnostic(`${reported.length} reported calls in all; ${journals} of ${KILLS} kills left a journal`);
    assert.ok(reported.length > KILLS, 'the writers did work before they were killed');
  });
});
