/**
 * What the freshness check (keystore/freshness.ts, migration 2) costs, side by side with the
 * same keystore and the check switched off (the bench-only open option; for writes, a copy of
 * the file whose seal triggers were dropped). Each ratio is "with / without" beside its goal.
 *
 * - unlock of a keystore with 10,000 keys (and of an empty one): integrity_check instead of
 *   quick_check, plus the tag sums and the audit head;
 * - ListKeys over 10,000 keys, paging through the service (100 pages; median page x 100): one
 *   PRAGMA data_version per call;
 * - one write (UpdateKeyDescription, with its audit entry and durable commit): the triggers;
 * - the re-check when another connection changed the file (absolute time; it runs only then).
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Session } from '../../src-main/services/session';
import { dispatch } from '../../src-main/handlers/dispatch';
import { Keystore } from '../../src-main/keystore/keystore';
import { Connection } from '../../src-main/keystore/sqlcipher';
import { insertKey, insertVersion } from '../../src-main/keystore/repository';
import { STATEFUL_TABLES } from '../../src-main/keystore/schema';
import { checkFreshness } from '../../src-main/keystore/freshness';
import { round } from './measure';

const PASS = 'benchmark passphrase';
const GOAL = 1.05;

async function call(session: Session, name: Parameters<typeof dispatch>[1], input: Record<string, unknown>) {
  const r = await dispatch(session, name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.Code} ${r.error.Message}`);
  return r.value as Record<string, unknown>;
}

export async function makeKeystore(path: string, keys: number): Promise<string> {
  const s = new Session({ keystorePath: path });
  await call(s, 'InitKeystore', { Passphrase: PASS });
  const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  let first = '';
  await s.kms.keystore.transaction(async (tx) => {
    for (let i = 0; i < keys; i++) {
      const keyId = randomUUID();
      const v = randomUUID();
      first ||= keyId;
      await insertKey(tx, {
        key_id: keyId, key_spec: 'AES_256', key_usage: 'ENCRYPT/DECRYPT', origin: 'Aliyun_KMS', protection_level: 'SOFTWARE',
        description: '', creation_date: created, creator: 'bench', key_state: 'Enabled', primary_key_version: v, delete_date: null,
        material_expire_time: null, exportable: 0, rotation_status: 'Disabled', rotation_interval: null, last_rotation_date: created,
        material_binding: null, token_serial: null,
      });
      await insertVersion(tx, { key_version_id: v, key_id: keyId, creation_date: created, seq: 1, material: Buffer.alloc(32, i & 0xff), public_key: null, hsm_object_id: null });
    }
  });
  await s.lock();
  return first;
}

/** A copy whose seal triggers are gone: writes there cost what they cost before migration 2. */
async function withoutTriggers(src: string, dest: string): Promise<void> {
  copyFileSync(src, dest);
  const conn = await Connection.open(dest);
  try {
    await conn.exec(`PRAGMA key = '${PASS}'`);
    const drops = STATEFUL_TABLES.flatMap((t) => ['insert', 'renew', 'sum', 'delete'].map((k) => `DROP TRIGGER ${t}_seal_${k};`));
    await conn.exec(`${drops.join(' ')} DROP TRIGGER audit_log_seal;`);
  } finally {
    await conn.close();
  }
}

/** Alternate runs with and without, so that drift on a busy machine hits both alike; medians. */
async function sideBySide(runs: number, on: () => Promise<number>, off: () => Promise<number>) {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await on());
    b.push(await off());
  }
  const withCheck = median(a);
  const without = median(b);
  return { withCheckMs: round(withCheck, 2), withoutCheckMs: round(without, 2), ratio: round(withCheck / without), goal: GOAL };
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timeOpen(path: string, freshnessCheck: boolean): Promise<number> {
  const t = performance.now();
  const ks = await Keystore.open(path, Buffer.from(PASS), { freshnessCheck });
  const ms = performance.now() - t;
  await ks.close();
  return ms;
}

/** One page of ListKeys (100 of the 10,000 keys); pages taken in turn. */
async function timeListKeysPage(session: Session, page: number): Promise<number> {
  const t = performance.now();
  const r = (await call(session, 'ListKeys', { PageNumber: page, PageSize: 100 })) as { Keys: { Key: unknown[] } };
  const ms = performance.now() - t;
  if (r.Keys.Key.length !== 100) throw new Error(`page ${page} has ${r.Keys.Key.length} keys`);
  return ms;
}

async function timeWrite(session: Session, keyId: string, i: number): Promise<number> {
  const t = performance.now();
  await call(session, 'UpdateKeyDescription', { KeyId: keyId, Description: `d${i}` });
  return performance.now() - t;
}

async function unlockParts(path: string) {
  const ks = await Keystore.open(path, Buffer.from(PASS), { freshnessCheck: false });
  const time = async (fn: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await fn();
      xs.push(performance.now() - t);
    }
    return round(median(xs), 1);
  };
  try {
    return {
      sealSumsMs: await time(() => ks.read((db) => checkFreshness(db, path))),
      integrityCheckMs: await time(() => ks.read((db) => db.all('PRAGMA integrity_check'))),
      quickCheckMs: await time(() => ks.read((db) => db.all('PRAGMA quick_check'))),
    };
  } finally {
    await ks.close();
  }
}

export async function benchFreshness(dir: string) {
  const big = join(dir, 'fresh-10k.db');
  const firstKey = await makeKeystore(big, 10_000);
  const empty = join(dir, 'fresh-empty.db');
  await makeKeystore(empty, 0);
  const bare = join(dir, 'fresh-10k-no-triggers.db');
  await withoutTriggers(big, bare);

  const unlock10k = await sideBySide(9, () => timeOpen(big, true), () => timeOpen(big, false));
  const parts = await unlockParts(big);
  const unlockEmpty = await sideBySide(9, () => timeOpen(empty, true), () => timeOpen(empty, false));

  const on = new Session({ keystorePath: big });
  const off = new Session({ keystorePath: bare, keystoreOpenOptions: { freshnessCheck: false } });
  await on.unlock(Buffer.from(PASS));
  await off.unlock(Buffer.from(PASS));
  // Interleaved one call at a time (the machine may be busy): medians per call.
  let page = 0;
  const listKeysPage = await sideBySide(200, () => timeListKeysPage(on, (page % 100) + 1), () => timeListKeysPage(off, (page++ % 100) + 1));
  const listKeys10k = { ...listKeysPage, withCheckMs: round(listKeysPage.withCheckMs * 100, 1), withoutCheckMs: round(listKeysPage.withoutCheckMs * 100, 1) };
  let n = 0;
  const writePerOperation = await sideBySide(100, () => timeWrite(on, firstKey, n), () => timeWrite(off, firstKey, n++));

  // Another connection commits: the next call re-checks the whole file once.
  let recheckMs = 0;
  for (let i = 0; i < 3; i++) {
    const other = await Connection.open(big);
    await other.exec(`PRAGMA key = '${PASS}'`);
    await other.run("INSERT INTO meta (name, value) VALUES ('bench-other-writer', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [randomUUID()]);
    await other.close();
    const t = performance.now();
    await call(on, 'DescribeKey', { KeyId: firstKey });
    recheckMs += performance.now() - t;
  }
  await on.lock();
  await off.lock();
  rmSync(bare, { force: true });
  return {
    unlock10kKeys: unlock10k,
    // Where unlock's extra time goes, on a warm cache: the seal sums, and integrity_check (which
    // proves every index agrees with its table) beside the quick_check it replaces.
    unlock10kKeysParts: parts,
    unlockEmptyKeystore: unlockEmpty,
    listKeys10k,
    writePerOperation,
    recheckAfterAnotherWriterMs: round(recheckMs / 3, 1),
  };
}
