/**
 * The SQLCipher keystore against real files: creation, every open failure (with the file left
 * byte-identical and no journal behind), transactions, rekey and backup.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import crypto from 'node:crypto';
import sqlcipher from '@journeyapps/sqlcipher';
import { KmsError, type ErrorCode } from '../../../src-shared/errors';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src-main/keystore/schema';
import { KEYROOM_APPLICATION_ID, Keystore, PAGE_SIZE, applyMigrations } from '../../../src-main/keystore/keystore';
import { Connection, type SqlExecutor } from '../../../src-main/keystore/sqlcipher';
import { classifyUnreadable, toKmsError } from '../../../src-main/keystore/sqlcipherErrors';

const PASS = 'correct horse battery staple';
const pass = (s: string = PASS): Buffer => Buffer.from(s, 'utf8');

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'keyroom-keystore-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function sha256(path: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

function mode(path: string): number {
  return fs.statSync(path).mode & 0o777;
}

/** A keystore with a few rows in meta, closed, so tests can look at or damage the file. */
async function makeKeystore(t: TestContext, passphrase: Buffer = pass(), rows = 50): Promise<string> {
  const path = nodePath.join(tempDir(t), 'keystore.db');
  const ks = await Keystore.create(path, passphrase);
  await ks.transaction(async (tx) => {
    for (let i = 0; i < rows; i++) await tx.run('INSERT INTO meta (name, value) VALUES (?, ?)', [`row${i}`, 'v'.repeat(300)]);
  });
  await ks.close();
  return path;
}

async function withKeystore<T>(path: string, fn: (ks: Keystore) => Promise<T>, passphrase: Buffer = pass()): Promise<T> {
  const ks = await Keystore.open(path, passphrase);
  try {
    return await fn(ks);
  } finally {
    await ks.close();
  }
}

/** Rejects with a KmsError of this code whose message is one sentence and holds no passphrase. */
async function rejectsWith(p: Promise<unknown>, code: ErrorCode, secrets: readonly string[] = [PASS]): Promise<KmsError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof KmsError, `expected KmsError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const s of secrets) assert.ok(!caught.message.includes(s), 'the message must not contain the passphrase');
  assert.ok(!/SQLITE_|\n/.test(caught.message) || code === 'Internal', `message is for people: ${caught.message}`);
  return caught;
}

/** The failure leaves the file byte-identical and no journal behind. */
async function assertOpenFailsCleanly(path: string, passphrase: Buffer, code: ErrorCode): Promise<KmsError> {
  const before = fs.existsSync(path) && fs.statSync(path).isFile() ? sha256(path) : undefined;
  const err = await rejectsWith(Keystore.open(path, passphrase), code, [passphrase.toString('utf8')]);
  if (before !== undefined) assert.equal(sha256(path), before, 'a failed open must not change the file');
  assert.ok(!fs.existsSync(`${path}-journal`), 'a failed open must not leave a journal');
  return err;
}

function flipByte(path: string, offset: number): void {
  const bytes = fs.readFileSync(path);
  bytes[offset] = bytes[offset]! ^ 0x01;
  fs.writeFileSync(path, bytes);
}

/** An SQLCipher connection that is not the Keystore: another process, or an independent check. */
async function rawConnection(path: string, keyPragmaValue: string): Promise<Connection> {
  const conn = await Connection.open(path);
  await conn.exec(`PRAGMA cipher_log = off; PRAGMA key = ${keyPragmaValue}`);
  return conn;
}

function plaintextSqlite(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlcipher.Database(path, (err) => {
      if (err) return reject(err);
      db.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)', (e) => {
        if (e) return reject(e);
        db.close((c) => (c ? reject(c) : resolve()));
      });
    });
  });
}

/** The keystore's own rows in meta (its id, the audit head, the seal's copy), which tests do not count. */
const OWN_META = "name NOT IN ('keystore_id', 'audit_head') AND name NOT LIKE 'seal:%'";
/** Rows of a table; for meta, the rows the test wrote. */
const count = (db: SqlExecutor, table: string): Promise<number> =>
  db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}${table === 'meta' ? ` WHERE ${OWN_META}` : ''}`).then((r) => r?.n ?? -1);

describe('Keystore.create', () => {
  test('makes a 0600, encrypted file with the default SQLCipher 4 KDF and the current schema', async (t) => {
    const path = nodePath.join(tempDir(t), 'ks.db');
    const ks = await Keystore.create(path, pass());
    try {
      assert.equal(mode(path), 0o600);
      const settings = await ks.read((db) => db.all<{ pragma: string }>('PRAGMA cipher_settings'));
      const s = settings.map((r) => r.pragma);
      const iter = Number(/PRAGMA kdf_iter = (\d+);/.exec(s.join(' '))?.[1]);
      assert.ok(iter >= 256_000, `kdf_iter ${iter}`);
      assert.ok(s.includes('PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512;'), s.join(' '));
      assert.ok(s.includes('PRAGMA cipher_hmac_algorithm = HMAC_SHA512;'));
      assert.ok(s.includes(`PRAGMA cipher_page_size = ${PAGE_SIZE};`));
      assert.ok(s.includes('PRAGMA cipher_use_hmac = 1;'));
      const kdfIter = await ks.read((db) => db.get<{ kdf_iter: string }>('PRAGMA kdf_iter'));
      assert.ok(Number(kdfIter?.kdf_iter) >= 256_000);

      const pragma = (name: string): Promise<unknown> =>
        ks.read((db) => db.get<Record<string, unknown>>(`PRAGMA ${name}`)).then((r) => r?.[name]);
      assert.equal(await pragma('journal_mode'), 'delete');
      assert.equal(await pragma('synchronous'), 2); // FULL
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('secure_delete'), 1);
      assert.equal(await pragma('temp_store'), 2); // MEMORY
      assert.equal(await pragma('cipher_memory_security'), '1');
      assert.equal(await pragma('user_version'), SCHEMA_VERSION);
      assert.equal(await pragma('application_id'), KEYROOM_APPLICATION_ID);
      const tables = await ks.read((db) => db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'"));
      for (const name of ['meta', 'keys', 'key_versions', 'aliases', 'import_parameters', 'audit_log']) {
        assert.ok(tables.some((r) => r.name === name), name);
      }
      assert.equal(ks.path, path);
    } finally {
      await ks.close();
    }
    const bytes = fs.readFileSync(path);
    assert.equal(bytes.length % PAGE_SIZE, 0);
    assert.ok(!bytes.subarray(0, 16).equals(Buffer.from('SQLite format 3\0', 'latin1')));
    assert.ok(!bytes.includes('audit_log'), 'the schema must not be readable in the file');
  });

  test('gives the rollback journal the same 0600 mode while a transaction writes', async (t) => {
    const path = nodePath.join(tempDir(t), 'ks.db');
    const oldUmask = process.umask(0o022); // a common umask that would make new files 0644
    t.after(() => process.umask(oldUmask));
    const ks = await Keystore.create(path, pass());
    try {
      const journalMode = await ks.transaction(async (tx) => {
        await tx.run("INSERT INTO meta (name, value) VALUES ('j', 'x')");
        return mode(`${path}-journal`);
      });
      assert.equal(journalMode, 0o600);
      assert.ok(!fs.existsSync(`${path}-journal`), 'DELETE journal mode removes the journal at commit');
    } finally {
      await ks.close();
    }
  });

  test('refuses a path that exists (Keystore.AlreadyExists) and leaves it untouched', async (t) => {
    const dir = tempDir(t);
    const path = nodePath.join(dir, 'existing');
    fs.writeFileSync(path, 'precious');
    await rejectsWith(Keystore.create(path, pass()), 'Keystore.AlreadyExists');
    assert.equal(fs.readFileSync(path, 'utf8'), 'precious');
    assert.deepEqual(fs.readdirSync(dir), ['existing']);
  });

  test('refuses a folder that does not exist (Keystore.Io) and creates nothing', async (t) => {
    const dir = tempDir(t);
    const err = await rejectsWith(Keystore.create(nodePath.join(dir, 'no', 'ks.db'), pass()), 'Keystore.Io');
    assert.match(err.message, /does not exist/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('refuses an empty, non-UTF-8 or NUL-holding passphrase and creates nothing', async (t) => {
    const dir = tempDir(t);
    const path = nodePath.join(dir, 'ks.db');
    for (const bad of [Buffer.alloc(0), Buffer.from([0x66, 0xff, 0xfe]), Buffer.from('a\0b')]) {
      await rejectsWith(Keystore.create(path, bad), 'InvalidParameter.Passphrase');
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test("keys with exactly the passphrase's bytes: quotes, non-ASCII, a leading BOM", async (t) => {
    const passphrases = [`O'Brien''s "ключ" 🔑 café -- ; \\ '`, '\uFEFFzero-width\u200Bspace'];
    for (const text of passphrases) {
      const buf = pass(text);
      const path = await makeKeystore(t, buf, 3);
      // Independent check: derive the key ourselves (PBKDF2-HMAC-SHA512, 256000, salt = the file's
      // first 16 bytes) and open with it as a raw key, bypassing SQLCipher's KDF and our quoting.
      const salt = fs.readFileSync(path).subarray(0, 16);
      const rawKey = crypto.pbkdf2Sync(buf, salt, 256_000, 32, 'sha512').toString('hex');
      const raw = await rawConnection(path, `"x'${rawKey}'"`);
      try {
        assert.equal(await count(raw, 'meta'), 3);
      } finally {
        await raw.close();
      }
      assert.equal(await withKeystore(path, (ks) => ks.read((db) => count(db, 'meta')), buf), 3);
      // Near misses are different passphrases.
      for (const near of [text.replaceAll("'", ''), text.normalize('NFD'), text.slice(1)]) {
        if (near === text) continue;
        await assertOpenFailsCleanly(path, pass(near), 'IncorrectPassphrase');
      }
    }
  });
});

describe('Keystore.open', () => {
  test('opens with the right passphrase; the KDF dominates the time', async (t) => {
    const path = await makeKeystore(t);
    const started = performance.now();
    const ks = await Keystore.open(path, pass());
    t.diagnostic(`open took ${(performance.now() - started).toFixed(0)} ms`);
    try {
      assert.equal(await ks.read((db) => count(db, 'meta')), 50);
    } finally {
      await ks.close();
    }
  });

  test('Keystore.NotFound for a missing file or folder, and creates nothing', async (t) => {
    const dir = tempDir(t);
    const err = await assertOpenFailsCleanly(nodePath.join(dir, 'missing.db'), pass(), 'Keystore.NotFound');
    assert.match(err.message, /InitKeystore/);
    await assertOpenFailsCleanly(nodePath.join(dir, 'no', 'missing.db'), pass(), 'Keystore.NotFound');
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('IncorrectPassphrase for a wrong passphrase, writing nothing', async (t) => {
    const path = await makeKeystore(t);
    await assertOpenFailsCleanly(path, pass('wrong passphrase'), 'IncorrectPassphrase');
    await assertOpenFailsCleanly(path, pass(PASS + ' '), 'IncorrectPassphrase');
    assert.equal(await withKeystore(path, (ks) => ks.read((db) => count(db, 'meta'))), 50);
  });

  test('Keystore.NotAKeystore for files that are not keystores, writing nothing', async (t) => {
    const dir = tempDir(t);
    const cases: Record<string, () => Promise<void> | void> = {
      'plain.sqlite': () => plaintextSqlite(nodePath.join(dir, 'plain.sqlite')),
      'empty': () => fs.writeFileSync(nodePath.join(dir, 'empty'), ''),
      'notes.txt': () => fs.writeFileSync(nodePath.join(dir, 'notes.txt'), 'my passwords\n'.repeat(40)),
      'page-sized.txt': () => fs.writeFileSync(nodePath.join(dir, 'page-sized.txt'), 'x'.repeat(2 * PAGE_SIZE)),
      'zeros': () => fs.writeFileSync(nodePath.join(dir, 'zeros'), Buffer.alloc(PAGE_SIZE)),
      'odd-size': () => fs.writeFileSync(nodePath.join(dir, 'odd-size'), crypto.randomBytes(PAGE_SIZE + 1)),
      'a-folder': () => fs.mkdirSync(nodePath.join(dir, 'a-folder')),
    };
    for (const [name, make] of Object.entries(cases)) {
      await make();
      const err = await assertOpenFailsCleanly(nodePath.join(dir, name), pass(), 'Keystore.NotAKeystore');
      assert.match(err.message, /is not a Keyroom keystore/, name);
    }
    // A keystore with bytes appended, so it is no longer whole pages.
    const grown = await makeKeystore(t);
    fs.appendFileSync(grown, 'x');
    await assertOpenFailsCleanly(grown, pass(), 'Keystore.NotAKeystore');
  });

  test('Keystore.NotAKeystore for an SQLCipher database that Keyroom did not make', async (t) => {
    const path = nodePath.join(tempDir(t), 'other-app.db');
    fs.writeFileSync(path, '');
    const other = await rawConnection(path, `'${PASS}'`);
    await other.exec('CREATE TABLE other (a); INSERT INTO other VALUES (1)');
    await other.close();
    await assertOpenFailsCleanly(path, pass(), 'Keystore.NotAKeystore');
  });

  test('Keystore.Tampered for an altered page 1 (outside the salt), told apart from a wrong passphrase', async (t) => {
    const path = await makeKeystore(t);
    flipByte(path, 100);
    const err = await assertOpenFailsCleanly(path, pass(), 'Keystore.Tampered');
    assert.match(err.message, /page 1 failed/);
    // The same file with a wrong passphrase is still "incorrect passphrase": every page fails.
    await assertOpenFailsCleanly(path, pass('wrong'), 'IncorrectPassphrase');
  });

  test('Keystore.Tampered for an altered later page, a swapped page, an added or a removed page', async (t) => {
    const path = await makeKeystore(t);
    const original = fs.readFileSync(path);
    const pages = original.length / PAGE_SIZE;
    assert.ok(pages > 4);

    flipByte(path, (pages - 1) * PAGE_SIZE + 200);
    assert.match((await assertOpenFailsCleanly(path, pass(), 'Keystore.Tampered')).message, new RegExp(`page ${pages} failed`));

    const swapped = Buffer.from(original);
    original.copy(swapped, 2 * PAGE_SIZE, 3 * PAGE_SIZE, 4 * PAGE_SIZE); // page 4's bytes as page 3
    fs.writeFileSync(path, swapped);
    assert.match((await assertOpenFailsCleanly(path, pass(), 'Keystore.Tampered')).message, /page 3 failed/);

    fs.writeFileSync(path, Buffer.concat([original, crypto.randomBytes(PAGE_SIZE)]));
    await assertOpenFailsCleanly(path, pass(), 'Keystore.Tampered');

    fs.writeFileSync(path, original.subarray(0, original.length - PAGE_SIZE));
    await assertOpenFailsCleanly(path, pass(), 'Keystore.Tampered');

    fs.writeFileSync(path, original);
    assert.equal(await withKeystore(path, (ks) => ks.read((db) => count(db, 'meta'))), 50);
  });

  test('documented limits: an altered salt, or random bytes, read as a wrong passphrase', async (t) => {
    // The salt feeds the KDF, so altering it changes the key and every page fails its HMAC,
    // exactly as with a wrong passphrase. Random bytes have no magic number to tell them apart.
    const path = await makeKeystore(t);
    flipByte(path, 3);
    await assertOpenFailsCleanly(path, pass(), 'IncorrectPassphrase');
    const random = nodePath.join(tempDir(t), 'random.bin');
    fs.writeFileSync(random, crypto.randomBytes(3 * PAGE_SIZE));
    await assertOpenFailsCleanly(random, pass(), 'IncorrectPassphrase');
  });

  test('Keystore.SchemaTooNew for a keystore from a newer Keyroom, writing nothing', async (t) => {
    const path = await makeKeystore(t);
    await withKeystore(path, (ks) => ks.transaction((tx) => tx.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`)));
    const err = await assertOpenFailsCleanly(path, pass(), 'Keystore.SchemaTooNew');
    assert.match(err.message, /newer Keyroom/);
  });

  test('Keystore.Locked when the same file is already open in this process', async (t) => {
    const path = await makeKeystore(t);
    await withKeystore(path, async () => {
      await rejectsWith(Keystore.open(path, pass()), 'Keystore.Locked');
    });
    await withKeystore(path, async () => undefined); // released on close
  });

  test('runs pending migrations at open', async (t) => {
    const path = await makeKeystore(t);
    await withKeystore(path, (ks) =>
      ks.transaction((tx) =>
        tx.exec(
          'DROP TABLE aliases; DROP TABLE import_parameters; DROP TABLE key_versions; DROP TABLE keys; ' +
            'DROP TABLE meta; DROP TABLE audit_log; DROP TABLE state_seal; PRAGMA user_version = 0',
        ),
      ),
    );
    const version = await withKeystore(path, (ks) =>
      ks.read(async (db) => {
        assert.equal(await count(db, 'audit_log'), 0);
        return (await db.get<{ user_version: number }>('PRAGMA user_version'))?.user_version;
      }),
    );
    assert.equal(version, SCHEMA_VERSION);
  });
});

describe('applyMigrations', () => {
  test('applies each pending migration in its own transaction and stops at a failing one', async (t) => {
    const path = nodePath.join(tempDir(t), 'm.db');
    fs.writeFileSync(path, '');
    const conn = await rawConnection(path, "'m'");
    try {
      const migrations = [
        { version: 1, description: 'one', sql: 'CREATE TABLE one (a)' },
        { version: 2, description: 'two', sql: 'CREATE TABLE two (a)' },
        { version: 3, description: 'bad', sql: 'CREATE TABLE three (a); INSERT INTO nowhere VALUES (1)' },
      ];
      await assert.rejects(applyMigrations(conn, migrations), /no such table: nowhere/);
      assert.equal((await conn.get<{ user_version: number }>('PRAGMA user_version'))?.user_version, 2);
      const tables = (await conn.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name);
      assert.deepEqual(tables.sort(), ['one', 'two'], 'migration 3 rolled back whole');
      await applyMigrations(conn, migrations.slice(0, 2)); // nothing pending: a no-op
      await assert.rejects(applyMigrations(conn, [migrations[1]!]), /versions must be 1, 2, 3/);
      assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await conn.close();
    }
  });
});

describe('Keystore.transaction and read', () => {
  test('commits, and a throw inside rolls back and rethrows the same error', async (t) => {
    const path = await makeKeystore(t, pass(), 0);
    await withKeystore(path, async (ks) => {
      await ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('kept', '1')"));
      const boom = new Error('boom');
      await assert.rejects(
        ks.transaction(async (tx) => {
          await tx.run("INSERT INTO meta (name, value) VALUES ('lost', '1')");
          assert.equal(await count(tx, 'meta'), 2);
          throw boom;
        }),
        (e) => e === boom,
      );
      const names = await ks.read((db) => db.all<{ name: string }>(`SELECT name FROM meta WHERE ${OWN_META}`));
      assert.deepEqual(names.map((r) => r.name), ['kept']);
      // A failing statement is mapped, and the transaction is rolled back too.
      await rejectsWith(
        ks.transaction(async (tx) => {
          await tx.run("INSERT INTO meta (name, value) VALUES ('dup', '1')");
          await tx.run("INSERT INTO meta (name, value) VALUES ('dup', '2')");
        }),
        'Internal',
      );
      assert.equal(await ks.read((db) => count(db, 'meta')), 1);
    });
  });

  test('serialises concurrent callers on the one connection', async (t) => {
    const path = await makeKeystore(t, pass(), 0);
    await withKeystore(path, async (ks) => {
      await ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('counter', '0')"));
      const bump = (): Promise<void> =>
        ks.transaction(async (tx) => {
          const row = await tx.get<{ value: string }>("SELECT value FROM meta WHERE name = 'counter'");
          await new Promise((r) => setImmediate(r)); // give other callers every chance to interleave
          await tx.run("UPDATE meta SET value = ? WHERE name = 'counter'", [String(Number(row?.value) + 1)]);
        });
      const reads: Promise<number>[] = [];
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 25; i++) {
        writes.push(bump());
        reads.push(ks.read((db) => db.get<{ value: string }>("SELECT value FROM meta WHERE name = 'counter'").then((r) => Number(r?.value))));
      }
      await Promise.all(writes);
      assert.deepEqual(await Promise.all(reads), Array.from({ length: 25 }, (_, i) => i + 1), 'each read sees whole transactions');
    });
  });

  test('refuses nesting, writes inside read(), transaction control inside, and a leaked executor', async (t) => {
    const path = await makeKeystore(t, pass(), 0);
    await withKeystore(path, async (ks) => {
      let leaked: SqlExecutor | undefined;
      await ks.transaction(async (tx) => {
        leaked = tx;
        await rejectsWith(ks.transaction(async () => undefined), 'Internal');
        await rejectsWith(ks.read(async () => undefined), 'Internal');
        await rejectsWith(ks.backup(nodePath.join(nodePath.dirname(path), 'b.db')), 'Internal');
        await rejectsWith(ks.close(), 'Internal');
        await rejectsWith(tx.exec('COMMIT'), 'Internal');
        await rejectsWith(tx.exec("PRAGMA rekey = 'x'"), 'Internal');
        await tx.run("INSERT INTO meta (name, value) VALUES ('outer', '1')");
      });
      assert.equal(await ks.read((db) => count(db, 'meta')), 1, 'the outer transaction still commits');
      await rejectsWith(leaked!.get('SELECT 1'), 'Internal');
      await rejectsWith(ks.read((db) => db.run("INSERT INTO meta (name, value) VALUES ('r', '1')")), 'Internal');
      assert.equal(await ks.read((db) => count(db, 'meta')), 1);
      // After a refused write the connection is writable again outside read().
      await ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('w', '1')"));
    });
  });

  test('maps SQLITE_BUSY from another process to Keystore.Locked', async (t) => {
    const path = await makeKeystore(t, pass(), 0);
    await withKeystore(path, async (ks) => {
      const other = await rawConnection(path, `'${PASS}'`);
      try {
        await other.exec('BEGIN IMMEDIATE');
        await rejectsWith(ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('x', '1')")), 'Keystore.Locked');
        await other.exec('COMMIT');
      } finally {
        await other.close();
      }
      await ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('x', '1')"));
    });
  });

  test('close waits for queued work, is idempotent, and later calls fail', async (t) => {
    const path = await makeKeystore(t, pass(), 0);
    const ks = await Keystore.open(path, pass());
    const queued = ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('q', '1')"));
    await Promise.all([ks.close(), ks.close(), queued]);
    await rejectsWith(ks.read(async () => 1), 'Internal');
    assert.equal(await withKeystore(path, (k) => k.read((db) => count(db, 'meta'))), 1);
  });
});

describe('sqlcipherErrors', () => {
  const native = (code: string): Error => Object.assign(new Error(`${code}: something`), { errno: 1, code });
  test('maps each class of native error once', () => {
    const cases: [Error, ErrorCode][] = [
      [native('SQLITE_BUSY'), 'Keystore.Locked'],
      [native('SQLITE_LOCKED'), 'Keystore.Locked'],
      [native('SQLITE_IOERR'), 'Keystore.Io'],
      [native('SQLITE_FULL'), 'Io.DiskFull'],
      [native('SQLITE_CANTOPEN'), 'Keystore.Io'],
      [native('SQLITE_READONLY'), 'Keystore.Io'],
      [native('SQLITE_NOTADB'), 'Keystore.Tampered'],
      [native('SQLITE_CORRUPT'), 'Keystore.Tampered'],
      [native('SQLITE_CONSTRAINT'), 'Internal'],
      [native('UNKNOWN'), 'Internal'],
      [Object.assign(new Error('ENOSPC: no space'), { code: 'ENOSPC', syscall: 'write' }), 'Io.DiskFull'],
      [native('SQLITE_IOERR'), 'Keystore.Io'],
      [new TypeError('bug'), 'Internal'],
    ];
    for (const [e, code] of cases) assert.equal(toKmsError(e, '/k.db').code, code, String(e));
    assert.equal(toKmsError(native('SQLITE_READONLY'), '/k.db', 'read').code, 'Internal');
    const own = new KmsError('NotFound.Key', 'x');
    assert.equal(toKmsError(own, '/k.db'), own);
  });

  test('tells a wrong passphrase from tampering by how many pages fail', () => {
    assert.equal(classifyUnreadable([1, 2, 3], 3, '/k').code, 'IncorrectPassphrase');
    assert.equal(classifyUnreadable([1], 3, '/k').code, 'Keystore.Tampered');
    assert.equal(classifyUnreadable([], 3, '/k').code, 'Keystore.Tampered');
  });
});

describe('Keystore.changePassphrase', () => {
  test('rekeys: the old passphrase is refused, the new one opens, the data is intact', async (t) => {
    const path = await makeKeystore(t);
    const next = pass("n€w 'passphrase'");
    await withKeystore(path, (ks) => ks.changePassphrase(pass(), next));
    await assertOpenFailsCleanly(path, pass(), 'IncorrectPassphrase');
    const [rows, iter] = await withKeystore(
      path,
      (ks) => ks.read(async (db) => [await count(db, 'meta'), Number((await db.get<{ kdf_iter: string }>('PRAGMA kdf_iter'))?.kdf_iter)]),
      next,
    );
    assert.equal(rows, 50);
    assert.ok(iter >= 256_000);
  });

  test('a wrong current passphrase is refused and changes nothing', async (t) => {
    const path = await makeKeystore(t, pass(), 3);
    const before = fs.readFileSync(path);
    await withKeystore(path, (ks) => rejectsWith(ks.changePassphrase(pass('not the current one'), pass('second')), 'IncorrectPassphrase'));
    assert.deepEqual(fs.readFileSync(path), before);
    assert.equal(await withKeystore(path, (ks) => ks.read((db) => count(db, 'meta'))), 3);
  });

  test('the keystore stays usable after a rekey, and a bad new passphrase changes nothing', async (t) => {
    const path = await makeKeystore(t, pass(), 1);
    await withKeystore(path, async (ks) => {
      await rejectsWith(ks.changePassphrase(pass(), Buffer.alloc(0)), 'InvalidParameter.Passphrase');
      await ks.changePassphrase(pass(), pass('second'));
      await ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('after', '1')"));
    });
    assert.equal(await withKeystore(path, (ks) => ks.read((db) => count(db, 'meta')), pass('second')), 2);
  });

  test('when another process holds the write lock, the passphrase is unchanged, nothing is recorded, and the keystore stays usable', async (t) => {
    const path = await makeKeystore(t, pass(), 5);
    const ks = await Keystore.open(path, pass());
    const other = await rawConnection(path, `'${PASS}'`);
    let recorded = 0;
    try {
      await other.exec('BEGIN IMMEDIATE');
      await rejectsWith(ks.changePassphrase(pass(), pass('never'), async () => void recorded++), 'Keystore.Locked');
      await other.exec('ROLLBACK');
    } finally {
      await other.close();
    }
    assert.equal(recorded, 0, 'the re-key never started, so nothing was recorded');
    assert.equal(await ks.read((db) => count(db, 'meta')), 5);
    await ks.close();
    await assertOpenFailsCleanly(path, pass('never'), 'IncorrectPassphrase');
  });

  test('when another process is reading, the re-key cannot commit: unchanged, its record rolled back, the keystore closes', async (t) => {
    const path = await makeKeystore(t, pass(), 5);
    const ks = await Keystore.open(path, pass());
    const other = await rawConnection(path, `'${PASS}'`);
    try {
      // A shared lock lets BEGIN IMMEDIATE through but keeps the re-key's commit from writing.
      await other.exec('BEGIN');
      await other.get('SELECT count(*) FROM meta');
      await rejectsWith(
        ks.changePassphrase(pass(), pass('never'), (tx) => tx.run("INSERT INTO meta (name, value) VALUES ('changed', '1')").then(() => undefined)),
        'Keystore.Locked',
      );
      await other.exec('ROLLBACK');
    } finally {
      await other.close();
    }
    await rejectsWith(ks.read(async () => 1), 'Internal'); // closed
    await ks.close();
    // The failed commit leaves its rollback journal with a zeroed header (not hot: the file was
    // never written); the next transaction that writes removes it.
    const check = await withKeystore(path, (k) => k.read(async (db) => [await count(db, 'meta'), (await db.get<{ integrity_check: string }>('PRAGMA integrity_check'))?.integrity_check]));
    assert.deepEqual(check, [5, 'ok'], 'the record written before the re-key was rolled back with it');
    await rejectsWith(Keystore.open(path, pass('never')), 'IncorrectPassphrase', ['never']);
  });

  test('the record written in the re-key transaction is committed with it, under the new key only', async (t) => {
    const path = await makeKeystore(t, pass(), 1);
    await withKeystore(path, (ks) => ks.changePassphrase(pass(), pass('second'), (tx) => tx.run("INSERT INTO meta (name, value) VALUES ('changed', '1')").then(() => undefined)));
    assert.equal(await withKeystore(path, (ks) => ks.read((db) => count(db, 'meta')), pass('second')), 2);
  });

  test('a process whose keystore was re-keyed by another is told so, not that the file was tampered with', async (t) => {
    const path = await makeKeystore(t, pass(), 3);
    const ks = await Keystore.open(path, pass());
    try {
      const other = await rawConnection(path, `'${PASS}'`);
      await other.exec("PRAGMA rekey = 'someone else changed it'");
      await other.close();
      for (const attempt of [() => ks.read((db) => count(db, 'meta')), () => ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('x', 'y')"))]) {
        const e = await rejectsWith(attempt(), 'Keystore.Locked');
        assert.match(e.message, /changed its passphrase/);
        assert.doesNotMatch(e.message, /backup/);
      }
    } finally {
      await ks.close();
    }
  });
});

describe('Keystore.backup', () => {
  test('writes a 0600 encrypted copy that opens with the same passphrase', async (t) => {
    const path = await makeKeystore(t);
    const dir = nodePath.dirname(path);
    const dest = nodePath.join(dir, 'backup.db');
    await withKeystore(path, (ks) => ks.backup(dest));
    assert.equal(mode(dest), 0o600);
    const bytes = fs.readFileSync(dest);
    assert.ok(!bytes.subarray(0, 16).equals(Buffer.from('SQLite format 3\0', 'latin1')));
    assert.ok(!bytes.includes('audit_log'));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['backup.db', 'keystore.db'], 'no temporary file left');
    const [original, copy] = await Promise.all([
      withKeystore(path, (ks) => ks.read((db) => db.all('SELECT * FROM meta ORDER BY name'))),
      withKeystore(dest, (ks) => ks.read((db) => db.all('SELECT * FROM meta ORDER BY name'))),
    ]);
    assert.equal(copy.filter((r) => /^row\d+$/.test((r as { name: string }).name)).length, 50);
    assert.deepEqual(copy, original);
    await assertOpenFailsCleanly(dest, pass('wrong'), 'IncorrectPassphrase');
  });

  test('refuses an existing destination (AlreadyExists.File) or a missing folder, writing nothing', async (t) => {
    const path = await makeKeystore(t);
    const dir = nodePath.dirname(path);
    const dest = nodePath.join(dir, 'taken');
    fs.writeFileSync(dest, 'keep me');
    const before = sha256(path);
    await withKeystore(path, async (ks) => {
      await rejectsWith(ks.backup(dest), 'AlreadyExists.File');
      await rejectsWith(ks.backup(path), 'AlreadyExists.File');
      await rejectsWith(ks.backup(nodePath.join(dir, 'no', 'b.db')), 'InvalidParameter.OutputFile');
    });
    assert.equal(fs.readFileSync(dest, 'utf8'), 'keep me');
    assert.equal(sha256(path), before);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['keystore.db', 'taken']);
  });

  test('is consistent when taken between writes', async (t) => {
    const path = await makeKeystore(t, pass(), 0);
    const dir = nodePath.dirname(path);
    await withKeystore(path, async (ks) => {
      await ks.transaction((tx) => tx.run("INSERT INTO meta (name, value) VALUES ('counter', '0')"));
      const work: Promise<void>[] = [];
      for (let i = 1; i <= 30; i++) {
        work.push(
          ks.transaction(async (tx) => {
            await tx.run('INSERT INTO audit_log (seq, request_id, time, operation, details, result, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
              i, `r${i}`, 't', 'Test', '{}', 'ok', 'p', 'h',
            ]);
            // The head beside the log, as appendAudit keeps it (the freshness check compares them).
            await tx.run("INSERT INTO meta (name, value) VALUES ('audit_head', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", [`${i}:h`]);
            await new Promise((r) => setImmediate(r));
            await tx.run("UPDATE meta SET value = ? WHERE name = 'counter'", [String(i)]);
          }),
        );
        if (i % 10 === 5) work.push(ks.backup(nodePath.join(dir, `b${i}.db`)));
      }
      await Promise.all(work);
    });
    for (const i of [5, 15, 25]) {
      const [counter, rows] = await withKeystore(nodePath.join(dir, `b${i}.db`), (ks) =>
        ks.read(async (db) => [Number((await db.get<{ value: string }>("SELECT value FROM meta WHERE name = 'counter'"))?.value), await count(db, 'audit_log')]),
      );
      assert.equal(counter, i);
      assert.equal(rows, i);
    }
  });
});
