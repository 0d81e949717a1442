/**
 * Record first, then publish, under failure: no output ever exists under its final name without a
 * committed audit entry naming it with its SHA-256.
 *
 * - kill -9 at each write step: the real `keyroom` command runs SignFile (signature, manifest and
 *   its signature, public key) and BackupKeystore under strace, which sends SIGKILL at the Nth
 *   fsync, link or unlink (N = 1, 2, ... until a run completes). After each kill the keystore is
 *   opened and the folder compared with the log; the next run writing into the folder removes the
 *   leftovers, says so, and records outputs that were recorded but never published, which
 *   VerifyAuditLog then lists.
 * - A full disk under the keystore: a small tmpfs holds the keystore, filled to several levels
 *   before SignFile and BackupKeystore run.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session } from '../../../src-main/services/session';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { outputFilesDetail, parseOutputFiles, planRecordedOutputs, publishRecorded, recordWithStaging } from '../../../src-main/services/audit/outputRecord';
import { appendAudit } from '../../../src-main/services/audit/auditLog';
import type { OperationOutput } from '../../../src-shared/contract/operations';
import { openHarness, PASSPHRASE } from '../../support/kmsHarness';
import { isRoot, mountFat32, mountTmpfs, onPath, TEMPORARY, type MountResult } from '../../support/mounts';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = 'src-main/cli/bin.js';
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function call<T>(session: Session, op: string, input: Record<string, unknown>): Promise<T & { RequestId: string }> {
  const r = await dispatch(session, op, input);
  if (!r.ok) throw Object.assign(new Error(`${op}: ${r.error.Code}: ${r.error.Message}`), { code: r.error.Code });
  return r.value as T & { RequestId: string };
}

async function withSession<T>(keystore: string, fn: (s: Session) => Promise<T>): Promise<T> {
  const session = new Session({ keystorePath: keystore, creator: 'tester' });
  await session.unlock(Buffer.from(PASSPHRASE));
  try {
    return await fn(session);
  } finally {
    await session.lock();
  }
}

/** path -> SHA-256 of every output a committed (Success) entry names. */
async function recordedOutputs(session: Session): Promise<Map<string, string>> {
  const rows = await session.kms.keystore.read((db) => db.all<{ details: string }>("SELECT details FROM audit_log WHERE result = 'Success'"));
  return new Map(rows.flatMap((r) => parseOutputFiles((JSON.parse(r.details) as Record<string, unknown>).OutputFiles).map((f) => [f.path, f.sha256] as const)));
}

/** The rule: every file under a final name in `dir` is complete and recorded with its hash. Returns the temporaries seen. */
function assertNothingUnrecorded(dir: string, recorded: Map<string, string>, what: string, placeholdersAllowed = false): string[] {
  const temps: string[] = [];
  const names = readdirSync(dir);
  for (const name of names) {
    const p = join(dir, name);
    if (TEMPORARY.test(name)) {
      temps.push(p);
      continue;
    }
    // An empty placeholder counts as nothing when Keyroom can recognise it: its temporary is there, and it is recorded.
    if (placeholdersAllowed && statSync(p).size === 0 && names.some((n) => TEMPORARY.test(n) && n.endsWith(`.${name}.partial`)) && recorded.has(p)) continue;
    assert.ok(statSync(p).size > 0, `${what}: ${name} is empty under its final name`);
    assert.equal(recorded.get(p), sha256(p), `${what}: ${name} exists without a committed entry naming it with its SHA-256`);
  }
  return temps;
}

interface CrashMedium {
  name: string;
  /** Where the output folders go; undefined: beside the keystore on the default disk. */
  mount?: () => MountResult;
  /** The system calls that write: each is killed at its 1st, 2nd, ... call. */
  syscalls: string[];
  operations: ('SignFile' | 'BackupKeystore')[];
}

const CRASH_MEDIA: CrashMedium[] = [
  { name: 'the default disk', syscalls: ['fsync', 'link', 'unlink'], operations: ['SignFile', 'BackupKeystore'] },
  // No hard links: an empty placeholder reserves the name, and the temporary is renamed over it.
  { name: 'FAT32 (fusefat)', mount: () => mountFat32(40), syscalls: ['fsync', 'rename', 'unlink'], operations: ['SignFile'] },
];

for (const medium of CRASH_MEDIA) {
  const probe = medium.mount?.();
  const skip = !onPath('strace') ? 'strace is missing; the test preflight installs it' : probe && 'skip' in probe ? probe.skip : false;
  if (probe && !('skip' in probe)) probe.unmount();

  describe(`kill -9 at each write step on ${medium.name} (strace fault injection)`, { skip }, () => {
    let mounted: Exclude<MountResult, { skip: string }> | undefined;
    let outRoot: string;
    let base: string;
    let keystore: string;
    let passFile: string;
    let keyId: string;
    let input: string;
    let out: string;
    let completedSeen = 0;
    let unpublishedSeen = 0;

    before(async () => {
      base = mkdtempSync(join(tmpdir(), 'keyroom-crash-out-'));
      keystore = join(base, 'keystore.db');
      passFile = join(base, 'pass');
      writeFileSync(passFile, PASSPHRASE);
      const session = new Session({ keystorePath: keystore, creator: 'tester' });
      await call(session, 'InitKeystore', { Passphrase: PASSPHRASE });
      keyId = (await call<OperationOutput<'CreateKey'>>(session, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
      await session.lock();
      input = join(base, 'release.tar');
      writeFileSync(input, 'release bytes '.repeat(500));
      const m = medium.mount?.();
      if (m && !('skip' in m)) mounted = m;
      outRoot = mounted?.dir ?? base;
    });

    /** A fresh output folder per run, so that each check sees only that run's outputs. */
    let runs = 0;
    function freshOut(): void {
      out = join(outRoot, `out-${++runs}`);
      mkdirSync(out, { mode: 0o700 });
    }
    after(() => {
      mounted?.unmount();
      rmSync(base, { recursive: true, force: true });
    });

    function killedRun(syscall: string, n: number, args: string[]): Promise<{ killed: boolean; stdout: string; stderr: string }> {
      return new Promise((resolvePromise, reject) => {
        const child = spawn(
          'strace',
          ['-f', '-qq', '-o', '/dev/null', '-e', `trace=${syscall}`, '-e', `inject=${syscall}:signal=SIGKILL:when=${n}`, process.execPath, BIN, '--keystore', keystore, '--passphrase-file', passFile, ...args],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        // strace ends the way the traced process ended: killed by SIGKILL itself (or 128 + 9).
        child.on('close', (code, signal) => resolvePromise({ killed: signal === 'SIGKILL' || code === 137, stdout, stderr }));
      });
    }

    async function afterKill(what: string): Promise<void> {
      await withSession(keystore, async (session) => {
        const recorded = await recordedOutputs(session);
        const temps = assertNothingUnrecorded(out, recorded, what, true);
        // Recorded but not under its final name: the next run must record that it never was published.
        const missing = [...recorded.keys()].filter((p) => p.startsWith(`${out}/`) && !existsSync(p));
        // The next Keyroom run writing into the folder cleans up and says so.
        const cleanup = join(out, 'next-run.pem');
        const versions = await call<OperationOutput<'ListKeyVersions'>>(session, 'ListKeyVersions', { KeyId: keyId });
        const r = await call<OperationOutput<'ExportPublicKey'>>(session, 'ExportPublicKey', { KeyId: keyId, KeyVersionId: versions.KeyVersions.KeyVersion[0]!.KeyVersionId, OutputFile: cleanup });
        for (const t of temps) assert.ok(r.RemovedStaleFiles?.includes(t), `${what}: ${t} removed and reported`);
        assert.deepEqual(readdirSync(out).filter((n) => TEMPORARY.test(n)), [], `${what}: no temporary left after the next run`);
        for (const name of readdirSync(out)) assert.ok(statSync(join(out, name)).size > 0, `${what}: the placeholder ${name} was removed by the next run`);
        const verdict = await call<OperationOutput<'VerifyAuditLog'>>(session, 'VerifyAuditLog', {});
        assert.equal(verdict.Valid, true, `${what}: ${verdict.Reason ?? ''}`);
        const listed = new Set((verdict.Unpublished ?? []).map((u) => u.File));
        for (const p of missing) assert.ok(listed.has(p), `${what}: ${p} was recorded, never published, and VerifyAuditLog says so`);
        if (missing.length > 0) unpublishedSeen++;
      });
    }

    const OPERATIONS: { name: string; args: () => string[] }[] = [
      { name: 'SignFile', args: () => ['SignFile', '--KeyId', keyId, '--Algorithm', 'ECDSA_SHA_256', '--File', input, '--OutputDir', out, '--Manifest', join(out, 'SHA256SUMS')] },
      { name: 'BackupKeystore', args: () => ['BackupKeystore', '--OutputFile', join(out, 'backup.db')] },
    ].filter((o) => medium.operations.includes(o.name as 'SignFile'));

    for (const op of OPERATIONS) {
      for (const syscall of medium.syscalls) {
        it(`${op.name}: killed at each ${syscall}`, async () => {
          for (let n = 1; n <= 40; n++) {
            freshOut();
            const run = await killedRun(syscall, n, op.args());
            const what = `${op.name} killed at ${syscall} #${n}`;
            if (!run.killed) {
              assert.match(run.stdout, /"RequestId"/, `${op.name} completes when not killed: ${run.stderr}`);
              completedSeen++;
              await afterKill(`${op.name} (not killed, ${syscall} #${n})`);
              return;
            }
            await afterKill(what);
          }
          assert.fail(`${op.name} never completed`);
        });
      }
    }

    it('a kill between the record and the publish was seen and listed as recorded but not published', () => {
      assert.ok(unpublishedSeen > 0, 'some kill fell between the commit and the link');
      assert.equal(completedSeen, OPERATIONS.length * medium.syscalls.length);
    });
  });
}

describe('a full disk under the keystore', { skip: isRoot() ? false : 'mounting a small tmpfs needs root' }, () => {
  it('at several levels of free space, no output exists without its committed entry, and nothing temporary is left', async () => {
    const mount = mountTmpfs('size=3m,mode=0700');
    assert.ok(!('skip' in mount), 'skip' in mount ? mount.skip : '');
    const outBase = mkdtempSync(join(tmpdir(), 'keyroom-full-out-'));
    try {
      const keystore = join(mount.dir, 'keystore.db');
      const session = new Session({ keystorePath: keystore, creator: 'tester' });
      await call(session, 'InitKeystore', { Passphrase: PASSPHRASE });
      const keyId = (await call<OperationOutput<'CreateKey'>>(session, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
      const input = join(outBase, 'artifact.bin');
      writeFileSync(input, 'artifact '.repeat(1000));
      const filler = join(mount.dir, 'filler');
      let failures = 0;
      let successes = 0;
      for (const freeKiB of [0, 4, 8, 12, 16, 24, 32, 64, 128, 512]) {
        rmSync(filler, { force: true });
        const free = () => {
          const r = spawnSync('df', ['-k', '--output=avail', mount.dir], { encoding: 'utf8' });
          return Number(r.stdout.trim().split('\n').pop());
        };
        const fill = Math.max(0, free() - freeKiB);
        spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k', `count=${fill}`], { stdio: 'ignore' });
        for (const [op, input2] of [
          ['SignFile', (dir: string) => ({ KeyId: keyId, Algorithm: 'ECDSA_SHA_256', File: input, OutputDir: dir, Manifest: join(dir, 'SHA256SUMS') })],
          ['BackupKeystore', (dir: string) => ({ OutputFile: join(dir, 'backup.db') })],
        ] as const) {
          const dir = join(outBase, `${op}-${freeKiB}`);
          mkdirSync(dir, { mode: 0o700 });
          const r = await dispatch(session, op, input2(dir));
          if (r.ok) successes++;
          else {
            failures++;
            assert.notEqual(r.error.Code, 'Internal', `${op} with ${freeKiB} KiB free: ${r.error.Message}`);
          }
          const recorded = await session.kms.keystore.read(async (db) => {
            const rows = await db.all<{ details: string }>("SELECT details FROM audit_log WHERE result = 'Success'");
            return new Map(rows.flatMap((x) => parseOutputFiles((JSON.parse(x.details) as Record<string, unknown>).OutputFiles).map((f) => [f.path, f.sha256] as const)));
          }).catch(() => undefined);
          // When even reading fails the keystore is unusable at this level; the folder must then hold nothing.
          const temps = assertNothingUnrecorded(dir, recorded ?? new Map(), `${op} with ${freeKiB} KiB free (${r.ok ? 'ok' : r.error.Code})`);
          assert.deepEqual(temps, [], `${op} with ${freeKiB} KiB free left a temporary`);
        }
      }
      assert.ok(failures > 0, 'some level was too full to write');
      assert.ok(successes > 0, 'some level had room');
      await session.lock();
    } finally {
      rmSync(outBase, { recursive: true, force: true });
      mount.unmount();
    }
  });
});

describe('a publish that fails after the record', () => {
  it('writes a second entry (NotPublished, with the error code) and VerifyAuditLog lists the files', async () => {
    const h = await openHarness();
    try {
      const kms = h.session.kms;
      const dir = join(h.dir, 'out');
      mkdirSync(dir, { mode: 0o700 });
      const paths = [join(dir, 'a.sig'), join(dir, 'b.sig')];
      const requestId = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
      const plan = await planRecordedOutputs(kms, paths, requestId);
      const { staged } = await recordWithStaging(kms, async (tx, stage) => {
        const s = await stage(plan, paths.map((path) => ({ path, content: `signature for ${path}` })));
        await appendAudit(tx, { requestId, operation: 'SignFile', details: { OutputFiles: outputFilesDetail(s.files) } }, '2026-01-15T10:00:00Z');
      });
      // A name taken between the record and the publish (another program, a second Keyroom).
      writeFileSync(paths[1]!, 'arrived meanwhile');
      const e = await publishRecorded(kms, staged[0]!, { requestId, operation: 'SignFile' }).then(
        () => assert.fail('publish should fail'),
        (err: unknown) => err as { code: string },
      );
      assert.equal(e.code, 'AlreadyExists.File');
      assert.deepEqual(readdirSync(dir), ['b.sig'], 'a.sig taken back, no temporary');
      assert.equal(readFileSync(paths[1]!, 'utf8'), 'arrived meanwhile');
      const verdict = await h.call('VerifyAuditLog', {});
      assert.equal(verdict.Valid, true);
      assert.deepEqual(
        verdict.Unpublished?.map((u) => [u.RequestId, u.Operation, u.File]),
        paths.map((p) => [requestId, 'SignFile', p]),
      );
      const second = (await h.call('ListAuditEvents', { Operation: 'SignFile' })).Events[0]!;
      assert.equal(second.Result, 'NotPublished');
      assert.equal(second.Details.Error, 'AlreadyExists.File');
    } finally {
      await h.close();
    }
  });
});
