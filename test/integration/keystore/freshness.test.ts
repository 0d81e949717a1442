/**
 * Freshness: pages of an older copy of the keystore spliced into the newer file.
 *
 * The reproduction: copy the keystore, disable a key, copy one 4 KiB page of the old copy
 * over the new file; before migration 2 the key was Enabled again and VerifyAuditLog said Valid.
 * Here every page of the older copy is spliced into the newer file alone, and every pair of
 * pages, and each result must either be refused at open (Keystore.Tampered, or SQLCipher's own
 * page HMAC / b-tree errors) or read exactly as the newer state, through the services (which use
 * the indexes) and as raw table scans. A page that is byte-identical in both copies changes
 * nothing when spliced, so only the pages that differ are tried, alone and in every pair.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodePath from 'node:path';
import { createHash } from 'node:crypto';
import { PAGE_SIZE, Keystore } from '../../../src-main/keystore/keystore';
import { Connection } from '../../../src-main/keystore/sqlcipher';
import { applyMigrations } from '../../../src-main/keystore/keystore';
import { MIGRATIONS, STATEFUL_TABLES } from '../../../src-main/keystore/schema';
import { checkFreshness } from '../../../src-main/keystore/freshness';
import { deleteKeyRow, insertAlias, insertImportParams, insertKey, insertVersion, updateKey, wipeExpiredImportKeys } from '../../../src-main/keystore/repository';
import { Session } from '../../../src-main/services/session';
import { dispatch } from '../../../src-main/handlers/dispatch';
import type { OperationName } from '../../../src-shared/contract/operations';
import { openHarness, PASSPHRASE, type Harness } from '../../support/kmsHarness';

const CLOCK = new Date('2026-01-15T10:00:00Z');
/** What an open of a spliced file may answer instead of opening. */
const REFUSALS = new Set(['Keystore.Tampered', 'Keystore.NotAKeystore', 'IncorrectPassphrase']);

async function call(session: Session, name: OperationName, input: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = await dispatch(session, name, input);
  if (!r.ok) throw Object.assign(new Error(`${name}: ${r.error.Code}: ${r.error.Message}`), { code: r.error.Code });
  const { RequestId: _, ...rest } = r.value as Record<string, unknown>;
  return rest;
}

/** Everything a user of the keystore can see, through the services, plus raw table scans. */
async function stateOf(session: Session): Promise<string> {
  const seen: unknown[] = [];
  const keys = (await call(session, 'ListKeys', { PageSize: 100 })) as { Keys: { Key: { KeyId: string }[] } };
  seen.push(keys);
  for (const { KeyId } of keys.Keys.Key) {
    seen.push(await call(session, 'DescribeKey', { KeyId }));
    seen.push(await call(session, 'ListKeyVersions', { KeyId, PageSize: 100 }));
    seen.push(await call(session, 'ListAliasesByKeyId', { KeyId, PageSize: 100 }));
  }
  seen.push(await call(session, 'ListAliases', { PageSize: 100 }));
  seen.push(await call(session, 'ListAuditEvents', { PageSize: 100 }));
  seen.push(await call(session, 'VerifyAuditLog'));
  seen.push(await call(session, 'ListDueRotations'));
  const raw = await session.kms.keystore.read(async (db) => {
    const out: unknown[] = [];
    for (const t of [...STATEFUL_TABLES, 'audit_log', 'meta']) out.push(await db.all(`SELECT * FROM ${t} NOT INDEXED ORDER BY rowid`));
    return out;
  });
  seen.push(raw);
  return createHash('sha256')
    .update(JSON.stringify(seen, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v)))
    .digest('hex');
}

type Outcome = { refused: string } | { state: string };

async function openAndRead(path: string): Promise<Outcome> {
  const session = new Session({ keystorePath: path, clock: () => CLOCK, creator: 'tester' });
  try {
    await session.unlock(Buffer.from(PASSPHRASE));
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'unknown';
    if (!REFUSALS.has(code)) throw e;
    return { refused: code };
  }
  try {
    return { state: await stateOf(session) };
  } catch (e) {
    // A refusal on first use (the b-tree or a page found bad while reading) also counts.
    const code = (e as { code?: string }).code ?? 'unknown';
    if (code === 'Keystore.Tampered') return { refused: code };
    throw e;
  } finally {
    await session.lock();
  }
}

function pageOf(file: Buffer, n: number): Buffer {
  return file.subarray((n - 1) * PAGE_SIZE, n * PAGE_SIZE);
}

describe('an older page spliced into a newer keystore never brings back older state unnoticed', () => {
  let h: Harness;
  let oldFile: Buffer;
  let newFile: Buffer;
  let newState: string;
  let differing: number[];
  let keyA: string;
  const work = fs.mkdtempSync(nodePath.join(process.env.TMPDIR ?? '/tmp', 'keyroom-fresh-'));
  const spliced = nodePath.join(work, 'spliced.db');

  before(async () => {
    h = await openHarness({ start: CLOCK });
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const k = (await h.call('CreateKey', { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT', Description: `key ${i}` })) as { KeyMetadata: { KeyId: string } };
      created.push(k.KeyMetadata.KeyId);
    }
    keyA = created[0]!;
    await h.call('CreateKeyVersion', { KeyId: created[1] });
    await h.call('CreateAlias', { AliasName: 'alias/one', KeyId: created[0] });
    await h.call('CreateAlias', { AliasName: 'alias/two', KeyId: created[1] });
    await h.call('UpdateRotationPolicy', { KeyId: created[2], EnableAutomaticRotation: true, RotationInterval: '30d' });
    const ext = (await h.call('CreateKey', { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT', Origin: 'EXTERNAL' })) as { KeyMetadata: { KeyId: string } };
    await h.call('GetParametersForImport', { KeyId: ext.KeyMetadata.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    // Enough entries that the audit log spans several pages.
    for (let i = 0; i < 40; i++) await h.call('Encrypt', { KeyId: created[i % 5], Plaintext: Buffer.from(`m${i}`).toString('base64') });
    await h.session.lock();
    oldFile = fs.readFileSync(h.path);

    await h.session.unlock(Buffer.from(PASSPHRASE));
    await h.call('DisableKey', { KeyId: keyA });
    await h.call('UpdateAlias', { AliasName: 'alias/one', KeyId: created[3] });
    await h.call('UpdateRotationPolicy', { KeyId: created[2], EnableAutomaticRotation: false });
    await h.call('DeleteAlias', { AliasName: 'alias/two' });
    await h.call('CreateKey', { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT', Description: 'made after the copy' });
    for (let i = 0; i < 6; i++) await h.call('Encrypt', { KeyId: created[4], Plaintext: Buffer.from(`n${i}`).toString('base64') });
    await h.session.lock();
    newFile = fs.readFileSync(h.path);

    fs.writeFileSync(spliced, newFile);
    const fresh = await openAndRead(spliced);
    assert.ok('state' in fresh, 'the newer file itself opens');
    newState = fresh.state;
    const pages = Math.min(oldFile.length, newFile.length) / PAGE_SIZE;
    differing = [];
    for (let n = 1; n <= pages; n++) if (!pageOf(oldFile, n).equals(pageOf(newFile, n))) differing.push(n);
  });

  after(async () => {
    await h.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function splice(pages: number[]): Promise<Outcome> {
    const file = Buffer.from(newFile);
    for (const n of pages) pageOf(oldFile, n).copy(file, (n - 1) * PAGE_SIZE);
    fs.rmSync(`${spliced}-journal`, { force: true });
    fs.writeFileSync(spliced, file);
    return openAndRead(spliced);
  }

  it('the test keystore spans several pages, and many of them changed', () => {
    assert.ok(newFile.length / PAGE_SIZE >= 10, `${newFile.length / PAGE_SIZE} pages`);
    assert.ok(differing.length >= 5, `pages that differ: ${differing.join(', ')}`);
  });

  it('the issue reproduction: each single older page (the disabled key\'s among them) is refused or changes nothing', async (t) => {
    const refused: number[] = [];
    for (const n of differing) {
      const out = await splice([n]);
      if ('refused' in out) refused.push(n);
      else assert.equal(out.state, newState, `page ${n} of the older copy brought back an older state`);
    }
    t.diagnostic(`${differing.length} differing pages of ${newFile.length / PAGE_SIZE}; refused: ${refused.join(', ')}`);
  });

  it('every pair of older pages is refused or changes nothing', async (t) => {
    let pairs = 0;
    for (let i = 0; i < differing.length; i++) {
      for (let j = i + 1; j < differing.length; j++) {
        const pair = [differing[i]!, differing[j]!];
        const out = await splice(pair);
        if ('state' in out) assert.equal(out.state, newState, `pages ${pair.join(' and ')} of the older copy brought back an older state`);
        pairs++;
      }
    }
    t.diagnostic(`${pairs} pairs tried`);
  });

  it('the whole older file opens (a consistent rollback): only an outside witness can tell', async () => {
    fs.writeFileSync(spliced, oldFile);
    const out = await openAndRead(spliced);
    assert.ok('state' in out && out.state !== newState, 'a whole-file rollback is not visible from inside the file');
  });

  it('the older key state is what a splice would have brought back: DisableKey really is in the newer file', async () => {
    fs.writeFileSync(spliced, newFile);
    const session = new Session({ keystorePath: spliced, clock: () => CLOCK });
    await session.unlock(Buffer.from(PASSPHRASE));
    try {
      const d = (await call(session, 'DescribeKey', { KeyId: keyA })) as { KeyMetadata: { KeyState: string } };
      assert.equal(d.KeyMetadata.KeyState, 'Disabled');
    } finally {
      await session.lock();
    }
  });
});

describe('when only audit entries were added since the older copy (uses of a key, no state change)', () => {
  it('every differing page, alone and in every pair, is refused or changes nothing', async (t) => {
    const h = await openHarness({ start: CLOCK });
    const dir = fs.mkdtempSync(nodePath.join(process.env.TMPDIR ?? '/tmp', 'keyroom-fresh-a-'));
    try {
      const k = (await h.call('CreateKey', { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT' })) as { KeyMetadata: { KeyId: string } };
      for (let i = 0; i < 20; i++) await h.call('Encrypt', { KeyId: k.KeyMetadata.KeyId, Plaintext: 'AA==' });
      await h.session.lock();
      const oldFile = fs.readFileSync(h.path);
      await h.session.unlock(Buffer.from(PASSPHRASE));
      for (let i = 0; i < 3; i++) await h.call('Encrypt', { KeyId: k.KeyMetadata.KeyId, Plaintext: 'AA==' });
      await h.session.lock();
      const newFile = fs.readFileSync(h.path);
      const path = nodePath.join(dir, 'spliced.db');
      fs.writeFileSync(path, newFile);
      const fresh = await openAndRead(path);
      assert.ok('state' in fresh);
      const pages = Math.min(oldFile.length, newFile.length) / PAGE_SIZE;
      const differing: number[] = [];
      for (let n = 1; n <= pages; n++) if (!pageOf(oldFile, n).equals(pageOf(newFile, n))) differing.push(n);
      const sets = [...differing.map((n) => [n]), ...differing.flatMap((a, i) => differing.slice(i + 1).map((b) => [a, b]))];
      for (const set of sets) {
        const file = Buffer.from(newFile);
        for (const n of set) pageOf(oldFile, n).copy(file, (n - 1) * PAGE_SIZE);
        fs.writeFileSync(path, file);
        const out = await openAndRead(path);
        if ('state' in out) assert.equal(out.state, fresh.state, `pages ${set.join(' and ')} of the older copy brought back an older log`);
      }
      t.diagnostic(`differing pages ${differing.join(', ')}; ${sets.length} splices tried`);
      // What does not hold (README): three pages (the log's tail, the seal, meta) together are a
      // consistent older state, which only a witness outside the file can tell from the newer one.
      const olderByThree: string[] = [];
      for (let i = 0; i < differing.length; i++) {
        for (let j = i + 1; j < differing.length; j++) {
          for (let k = j + 1; k < differing.length; k++) {
            const file = Buffer.from(newFile);
            for (const n of [differing[i]!, differing[j]!, differing[k]!]) pageOf(oldFile, n).copy(file, (n - 1) * PAGE_SIZE);
            fs.writeFileSync(path, file);
            const out = await openAndRead(path);
            if ('state' in out && out.state !== fresh.state) olderByThree.push(`${differing[i]}+${differing[j]}+${differing[k]}`);
          }
        }
      }
      assert.ok(olderByThree.length > 0, 'three pages are expected to be enough for a consistent rollback of the log');
      t.diagnostic(`triples that bring back the older log unnoticed (the documented limit): ${olderByThree.join(', ')}`);
    } finally {
      await h.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the seal follows every writer', () => {
  it('inserts, updates, bulk updates and foreign-key cascades keep it current; a stale seal is named', async () => {
    const dir = fs.mkdtempSync(nodePath.join(process.env.TMPDIR ?? '/tmp', 'keyroom-fresh-w-'));
    const path = nodePath.join(dir, 'k.db');
    const ks = await Keystore.create(path, Buffer.from(PASSPHRASE));
    const check = () => ks.read((db) => checkFreshness(db, path));
    try {
      const t = '2026-01-01T00:00:00Z';
      await ks.transaction(async (tx) => {
        await insertKey(tx, {
          key_id: 'k', key_spec: 'AES_256', key_usage: 'ENCRYPT/DECRYPT', origin: 'EXTERNAL', protection_level: 'SOFTWARE', description: '',
          creation_date: t, creator: 'c', key_state: 'Enabled', primary_key_version: 'v', delete_date: null, material_expire_time: null,
          exportable: 0, rotation_status: 'Disabled', rotation_interval: null, last_rotation_date: null, material_binding: null, token_serial: null,
        });
        await insertVersion(tx, { key_version_id: 'v', key_id: 'k', creation_date: t, seq: 1, material: null, public_key: null, hsm_object_id: null });
        await insertAlias(tx, { alias_name: 'alias/a', key_id: 'k', creation_date: t, update_date: t });
        for (const n of [1, 2]) {
          await insertImportParams(tx, { token_hash: Buffer.alloc(32, n), key_id: 'k', wrapping_algorithm: 'RSAES_OAEP_SHA_256', wrapping_key_spec: 'RSA_2048', private_key: Buffer.alloc(8, 1), public_key: Buffer.alloc(8, 2), expire_time: t });
        }
      });
      await check();
      const before = await ks.read((db) => db.get<{ s: number }>("SELECT s0 + s1 + s2 + s3 AS s FROM state_seal WHERE name = 'keys'"));
      await ks.transaction((tx) => updateKey(tx, 'k', { description: 'changed' }));
      const after = await ks.read((db) => db.get<{ s: number }>("SELECT s0 + s1 + s2 + s3 AS s FROM state_seal WHERE name = 'keys'"));
      assert.notEqual(after?.s, before?.s, 'an update draws new tags');
      await check();
      assert.equal(await ks.transaction((tx) => wipeExpiredImportKeys(tx, '2027-01-01T00:00:00Z')), 2);
      await check();
      await ks.transaction((tx) => deleteKeyRow(tx, 'k')); // cascades to the version, the alias, the import parameters
      await check();
      const counts = await ks.read((db) => db.all<{ name: string; row_count: number }>('SELECT name, row_count FROM state_seal ORDER BY name'));
      assert.ok(counts.every((c) => c.row_count === 0), JSON.stringify(counts));
      // A seal that does not match the rows is named, table and all.
      await ks.transaction((tx) => tx.run("UPDATE state_seal SET s0 = s0 + 1 WHERE name = 'aliases'"));
      await assert.rejects(check(), (e: { code?: string; message?: string }) => e.code === 'Keystore.Tampered' && /the aliases table disagrees with its seal/.test(e.message ?? ''));
    } finally {
      await ks.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migration 2 on a keystore made before it', () => {
  it('gives existing rows their tags and seals them, so the check holds at once', async () => {
    const dir = fs.mkdtempSync(nodePath.join(process.env.TMPDIR ?? '/tmp', 'keyroom-fresh-m-'));
    try {
      const path = nodePath.join(dir, 'v1.db');
      fs.writeFileSync(path, '', { mode: 0o600 });
      const conn = await Connection.open(path);
      await conn.exec(`PRAGMA key = '${PASSPHRASE}'`);
      await applyMigrations(conn, MIGRATIONS.slice(0, 1));
      await conn.exec(
        "INSERT INTO keys (key_id, key_spec, key_usage, origin, protection_level, creation_date, creator, key_state) VALUES ('k1', 'AES_256', 'ENCRYPT/DECRYPT', 'Aliyun_KMS', 'SOFTWARE', 't', 'c', 'Enabled'); " +
          "INSERT INTO aliases (alias_name, key_id, creation_date, update_date) VALUES ('alias/a', 'k1', 't', 't'); " +
          "INSERT INTO audit_log (seq, request_id, time, operation, details, result, prev_hash, hash) VALUES (1, 'r', 't', 'CreateKey', '{}', 'Success', '0', 'h1'); " +
          "INSERT INTO meta (name, value) VALUES ('audit_head', '1:h1')",
      );
      await conn.close();
      const ks = await Keystore.open(path, Buffer.from(PASSPHRASE));
      try {
        const tags = await ks.read((db) => db.get<{ a: number; b: number }>('SELECT fresh_0 + fresh_1 + fresh_2 + fresh_3 AS a, (SELECT fresh_0 FROM aliases) AS b FROM keys'));
        assert.ok(tags && tags.a > 0 && tags.b !== 0, 'existing rows got tags');
        const id = await ks.read((db) => db.get<{ value: string }>("SELECT value FROM meta WHERE name = 'keystore_id'"));
        assert.match(id?.value ?? '', /^[0-9a-f]{32}$/);
      } finally {
        await ks.close();
      }
      // And it opens again (the check runs at every open).
      await (await Keystore.open(path, Buffer.from(PASSPHRASE))).close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('while open, a change by another connection is checked before state is used', () => {
  it('a consistent change is accepted and seen; an inconsistent one is Keystore.Tampered at the next call', async () => {
    const h = await openHarness({ start: CLOCK });
    try {
      const k = (await h.call('CreateKey', { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT' })) as { KeyMetadata: { KeyId: string } };
      const other = await Connection.open(h.path);
      try {
        await other.exec(`PRAGMA key = '${PASSPHRASE}'`);
        // Another writer that goes through the schema (the triggers keep the seals).
        await other.run("UPDATE keys SET description = 'changed elsewhere' WHERE key_id = ?", [k.KeyMetadata.KeyId]);
        const d = (await h.call('DescribeKey', { KeyId: k.KeyMetadata.KeyId })) as { KeyMetadata: { Description: string } };
        assert.equal(d.KeyMetadata.Description, 'changed elsewhere');
        // A writer that adds to the log behind the head (as an older file's pages would).
        await other.run("INSERT INTO audit_log (seq, request_id, time, operation, details, result, prev_hash, hash) VALUES (999, 'r', 't', 'X', '{}', 'Success', 'p', 'h')");
      } finally {
        await other.close();
      }
      const r = await dispatch(h.session, 'DescribeKey', { KeyId: k.KeyMetadata.KeyId });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.error.Code, 'Keystore.Tampered');
        assert.match(r.error.Message, /audit log/);
      }
    } finally {
      await h.close();
    }
  });
});
