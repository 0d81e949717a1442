/**
 * A real keystore in a temp directory, driven through the same dispatch as every front door.
 * The clock is a variable the test moves. `state()` hashes every table (audit log included) so a
 * test can show that a refused operation changed nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { Session, type HsmOptions } from '../../src-main/services/session';
import { dispatch } from '../../src-main/handlers/dispatch';
import { isRefusal } from '../../src-main/handlers/refusals';
import type { OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { ErrorData } from '../../src-shared/errors';
import type { SqlExecutor } from '../../src-main/keystore/sqlcipher';
import type { KeyBackend } from '../../src-main/backends/backend';
import type { ProtectionLevel } from '../../src-shared/domain/keySpecs';

export const PASSPHRASE = 'correct horse battery staple';

export interface Harness {
  dir: string;
  path: string;
  session: Session;
  /** Move the clock: `clock.now = new Date(...)`. */
  clock: { now: Date };
  call<N extends OperationName>(name: N, input?: Record<string, unknown>): Promise<OperationOutput<N> & { RequestId: string }>;
  /** Expect a refusal with this code, and prove nothing in the keystore changed. */
  refuse(name: OperationName, input: Record<string, unknown>, code: string): Promise<ErrorData>;
  state(): Promise<string>;
  /** Test-only raw access to the keystore tables (e.g. to read material for an independent check). */
  raw<T>(fn: (db: SqlExecutor) => Promise<T>): Promise<T>;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

const TABLES = ['keys', 'key_versions', 'aliases', 'import_parameters', 'audit_log', 'meta'];

export interface HarnessOptions {
  start?: Date;
  /** Backends beside the software one, e.g. `{ HSM: new Pkcs11Backend(...) }`. */
  backends?: Partial<Record<ProtectionLevel, KeyBackend>>;
  /** The session's own HSM backend, as the front doors configure it (LoginToken, `pin()`). */
  hsm?: HsmOptions;
}

export async function openHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-test-'));
  const path = join(dir, 'keystore.db');
  const clock = { now: opts.start ?? new Date('2026-01-15T10:00:00Z') };
  const session = new Session({ keystorePath: path, clock: () => clock.now, creator: 'tester', backends: opts.backends, ...(opts.hsm ? { hsm: opts.hsm } : {}) });
  const init = await dispatch(session, 'InitKeystore', { Passphrase: PASSPHRASE });
  assert.ok(init.ok, JSON.stringify(init));

  /** Every table hashed; without the log (and its head) when `withLog` is false. */
  const stateOf = (withLog: boolean) =>
    session.kms.keystore.read(async (db) => {
      const hash = createHash('sha256');
      for (const t of TABLES) {
        if (!withLog && t === 'audit_log') continue;
        const rows = await db.all<Record<string, unknown>>(`SELECT * FROM ${t} ORDER BY rowid`);
        hash.update(t);
        for (const row of rows) {
          // The log's head is kept in meta twice: audit_head, and the freshness seal's copy.
          if (!withLog && t === 'meta' && (row.name === 'audit_head' || row.name === 'seal:audit_log')) continue;
          hash.update(JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
        }
      }
      return hash.digest('hex');
    });
  const auditSeq = async () =>
    session.isOpen ? ((await session.kms.keystore.read((db) => db.get<{ n: number | null }>('SELECT max(seq) AS n FROM audit_log')))?.n ?? 0) : 0;

  const h: Harness = {
    dir,
    path,
    session,
    clock,
    async call(name, input = {}) {
      const r = await dispatch(session, name, input);
      if (!r.ok) assert.fail(`${name} failed: ${r.error.Code}: ${r.error.Message}`);
      return r.value as never;
    },
    async refuse(name, input, code) {
      // What fell due with the clock's last move is not the refused operation's doing.
      await session.carryOutDueWork();
      const before = await h.state();
      const beforeState = await stateOf(false);
      const lastSeq = await auditSeq();
      const r = await dispatch(session, name, input);
      assert.equal(r.ok, false, `${name} should have been refused with ${code}`);
      if (r.ok) throw new Error('unreachable');
      assert.equal(r.error.Code, code, `${name}: ${r.error.Message}`);
      assert.ok(r.error.Message.length > 10, 'the message says what to do');
      if (isRefusal(r.error.Code) && session.isOpen) {
        // A refusal changes nothing but the log, which gains exactly its own entry (refusals.ts).
        assert.equal(await stateOf(false), beforeState, `${name} refused with ${code} but changed the keystore`);
        const added = await session.kms.keystore.read((db) => db.all<{ request_id: string; result: string; operation: string }>('SELECT request_id, result, operation FROM audit_log WHERE seq > ?', [lastSeq]));
        assert.deepEqual(added, [{ request_id: r.error.RequestId, result: code, operation: name }], `${name} refused with ${code}: one refusal entry`);
      } else {
        assert.equal(await h.state(), before, `${name} refused with ${code} but changed the keystore`);
      }
      return r.error;
    },
    async state() {
      return stateOf(true);
    },
    raw(fn) {
      return session.kms.keystore.read(fn);
    },
    async reopen() {
      await session.lock();
      await session.unlock(Buffer.from(PASSPHRASE));
    },
    async close() {
      await session.lock();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** The software material of a key version, for an independent tool to use in a test. */
export async function materialOf(h: Harness, keyVersionId: string): Promise<Buffer> {
  const row = await h.raw((db) => db.get<{ material: Buffer | null }>('SELECT material FROM key_versions WHERE key_version_id = ?', [keyVersionId]));
  assert.ok(row?.material, 'material present');
  return row.material;
}

export async function firstVersionOf(h: Harness, keyId: string): Promise<string> {
  const r = await h.call('ListKeyVersions', { KeyId: keyId });
  const v = r.KeyVersions.KeyVersion[r.KeyVersions.KeyVersion.length - 1];
  assert.ok(v);
  return v.KeyVersionId;
}
