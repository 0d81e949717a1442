/**
 * The keystore: one SQLCipher file, one connection, every statement serialised by a mutex.
 *
 * What holds (DESIGN.md, "Boundaries that hold"):
 * - the file is created 0600 by us before SQLite touches it, and keyed with the operator's
 *   passphrase through SQLCipher 4's default KDF (PBKDF2-HMAC-SHA512, 256000 iterations);
 * - writes happen only inside transaction() (read() runs with PRAGMA query_only);
 * - a missing file, a file that is not a keystore, a wrong passphrase, a page changed without the
 *   key, a page from an older copy of the file (freshness.ts) and a too-new schema each give their
 *   own KmsError, and a failed open writes nothing (the only
 *   exception: SQLite rolls back a hot journal left by a crash before it reads page 1, whatever
 *   the key; that restores the last committed state and needs no key, see pager.c).
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { randomUUID } from 'node:crypto';
import { planOutputs, publishOutputs, stageOutputs } from '../files/outputWriter';
import { outputError } from '../files/outputErrors';
import { AsyncLocalStorage } from 'node:async_hooks';
import { KmsError } from '../../src-shared/errors';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema';
import { checkFreshness } from './freshness';
import { Connection, type SqlExecutor, type SqlParam } from './sqlcipher';
import {
  classifyUnreadable,
  ioError,
  diskFullError,
  keyingError,
  pagesPhrase,
  sqliteCodeOf,
  tamperedError,
  toKmsError,
  unreadableAfterOpen,
} from './sqlcipherErrors';

/** 'KYRM' in PRAGMA application_id (header offset 68): tells our file from other SQLCipher files. */
export const KEYROOM_APPLICATION_ID = 0x4b59524d;
/** SQLCipher 4's page size; every keystore file is a whole number of these. */
export const PAGE_SIZE = 4096;
/** SQLCipher 4's default PBKDF2 cost; the design requires at least this. */
export const MIN_KDF_ITER = 256_000;
/** How long a statement waits for another process's lock before Keystore.Locked. */
const BUSY_TIMEOUT_MS = 2_000;
/** SQLite leaves the page holding the pending-lock byte (offset 2^30) unused and unchecked. */
const PENDING_BYTE = 0x40000000;
const SQLITE_PLAINTEXT_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SALT_SIZE = 16;

type Scope = 'read' | 'transaction';

/** Options for open(); only the benchmark switches the freshness check off. */
export interface OpenOptions {
  /**
   * Check at open (and again whenever another connection changed the file) that every page is
   * from the latest commit (freshness.ts) and that every index agrees with its table
   * (integrity_check rather than quick_check). Default true; false exists so that `npm run bench`
   * can measure what the check costs, and is never used by the front doors.
   */
  freshnessCheck?: boolean;
}

export class Keystore {
  private readonly mutex = new Mutex();
  private closing: Promise<void> | undefined;
  /** PRAGMA data_version when the file was last known fresh; undefined: not checked. */
  private checkedVersion: number | undefined;

  private constructor(
    private readonly conn: Connection,
    readonly path: string,
    private readonly lease: FileLease,
  ) {}

  /**
   * Creates a new keystore at `path` (its folder must exist) and applies every migration.
   * The caller owns `passphrase` and zeroes it afterwards.
   * @throws KmsError Keystore.AlreadyExists, Keystore.Io, InvalidParameter.Passphrase
   */
  static async create(path: string, passphrase: Buffer): Promise<Keystore> {
    const keyLiteral = passphraseLiteral(passphrase);
    const abs = nodePath.resolve(path);
    assertParentDirectory(abs);
    // A fresh random salt looks like text with probability ~2e-7; such a file would be refused
    // by open()'s text-file check, so it is thrown away and made again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const made = await Keystore.createOnce(abs, keyLiteral);
      if (made !== 'salt-looks-like-text') return made;
    }
    throw new KmsError('Internal', 'Could not draw a usable salt; try again.');
  }

  private static async createOnce(abs: string, keyLiteral: string): Promise<Keystore | 'salt-looks-like-text'> {
    createPrivateFile(abs);
    const lease = FileLease.take(abs, fs.statSync(abs));
    let conn: Connection | undefined;
    try {
      conn = await Connection.open(abs);
      await keyConnection(conn, keyLiteral, abs);
      await configureConnection(conn);
      await assertKdfCost(conn);
      if (looksLikeText(await saltOf(conn))) throw new SaltRetry();
      await applyMigrations(conn, MIGRATIONS);
      fsyncPath(nodePath.dirname(abs));
      const keystore = new Keystore(conn, abs, lease);
      keystore.checkedVersion = await dataVersion(conn);
      return keystore;
    } catch (e) {
      await conn?.close().catch(() => undefined);
      lease.release();
      // We made this file a moment ago, so removing it on failure removes nothing of the user's.
      removeQuietly(abs);
      removeQuietly(`${abs}-journal`);
      if (e instanceof SaltRetry) return 'salt-looks-like-text';
      throw toKmsError(e, abs);
    }
  }

  /**
   * Opens an existing keystore; never creates a file. Applies pending migrations.
   * The caller owns `passphrase` and zeroes it afterwards.
   * @throws KmsError Keystore.NotFound, Keystore.NotAKeystore, IncorrectPassphrase,
   *   Keystore.Tampered, Keystore.SchemaTooNew, Keystore.Locked, Keystore.Io,
   *   InvalidParameter.Passphrase
   */
  static async open(path: string, passphrase: Buffer, options: OpenOptions = {}): Promise<Keystore> {
    const fresh = options.freshnessCheck ?? true;
    const keyLiteral = passphraseLiteral(passphrase);
    const abs = nodePath.resolve(path);
    const lease = FileLease.take(abs, statForOpen(abs));
    let conn: Connection | undefined;
    try {
      assertLooksLikeKeystore(abs);
      conn = await Connection.open(abs);
      await keyConnection(conn, keyLiteral, abs);
      await verifyReadable(conn, abs);
      await verifyIdentity(conn, abs);
      await verifyStructure(conn, abs, fresh ? 'integrity_check' : 'quick_check');
      await configureConnection(conn);
      await applyMigrations(conn, MIGRATIONS);
      const keystore = new Keystore(conn, abs, lease);
      if (fresh) keystore.checkedVersion = await verifyFreshness(conn, abs);
      return keystore;
    } catch (e) {
      await conn?.close().catch(() => undefined);
      lease.release();
      throw toKmsError(e, abs);
    }
  }

  /** Runs `fn` with a read-only executor, in one read transaction, serialised with writes. */
  read<T>(fn: (db: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive('read', async () => {
      await this.conn.exec('PRAGMA query_only = ON');
      try {
        return await this.scoped('read', 'BEGIN DEFERRED', fn);
      } finally {
        await this.conn.exec('PRAGMA query_only = OFF');
      }
    });
  }

  /** BEGIN IMMEDIATE .. COMMIT around `fn`; ROLLBACK and rethrow if it throws. Not reentrant. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive('transaction', () => this.scoped('transaction', 'BEGIN IMMEDIATE', fn));
  }

  /**
   * Re-encrypts every page under a key derived from `newPassphrase` (PRAGMA rekey, one write
   * transaction, so a crash leaves the old passphrase valid). The caller zeroes the Buffer.
   *
   * `record` appends the audit entry in the same transaction as the re-key, so the log never
   * lacks a change that happened (fail-closed). This relies on how SQLCipher runs PRAGMA rekey
   * inside an open BEGIN IMMEDIATE: it marks every page dirty in the current write transaction
   * and commits the b-tree itself, so the entry written before it and the re-encrypted pages
   * reach the file in one journaled commit, or neither does (a failed re-key rolls the b-tree
   * back, entry included). Measured on SQLCipher 4.x: a ROLLBACK issued after the rekey leaves
   * the entry in place, under the new key only. An intent entry before and a result entry after
   * would also be fail-closed, but would leave "intended" entries for re-keys that never happened.
   *
   * sqlite3_rekey_v2 returns SQLITE_OK even when it could not write (for instance another
   * process holds the lock, or the disk is full), and then this connection would encrypt later
   * writes under the new key over pages still under the old one. So the result is verified from
   * the file itself with a second connection; if it does not verify, this keystore is closed and
   * the old passphrase still opens the file (and its log has no entry for a change that did not
   * happen).
   * @throws KmsError IncorrectPassphrase when `currentPassphrase` does not open the file (nothing
   *   changed); Io.DiskFull or Keystore.Locked when the re-key could not be written (nothing changed).
   */
  async changePassphrase(currentPassphrase: Buffer, newPassphrase: Buffer, record: (tx: SqlExecutor) => Promise<void> = async () => undefined): Promise<void> {
    const currentLiteral = passphraseLiteral(currentPassphrase);
    const keyLiteral = passphraseLiteral(newPassphrase);
    return this.exclusive('changePassphrase', async () => {
      if (!(await fileOpensWith(this.path, currentLiteral))) {
        throw new KmsError('IncorrectPassphrase', 'The current passphrase is not the one that opens this keystore; the passphrase was not changed.');
      }
      // Another writer holding the lock stops BEGIN IMMEDIATE (Keystore.Locked) before the
      // re-key starts: the keystore stays open and unchanged.
      let rekeyStarted = false;
      try {
        await this.scoped('transaction', 'BEGIN IMMEDIATE', async (tx) => {
          await record(tx);
          rekeyStarted = true;
          try {
            await this.conn.exec(`PRAGMA rekey = ${keyLiteral}`);
          } catch (e) {
            throw keyingError(e, this.path);
          }
        });
      } catch (e) {
        // A started re-key may have left this connection writing under the new key.
        if (rekeyStarted) await this.shutDown().catch(() => undefined);
        throw e;
      }
      if (await fileOpensWith(this.path, keyLiteral)) return;
      await this.shutDown();
      // The re-key needs room for a journal as large as the file: without it, say so rather
      // than blame another process.
      if (lacksRoomFor(this.path)) throw diskFullError(this.path);
      throw new KmsError(
        'Keystore.Locked',
        'The passphrase was not changed (another process is using the keystore, or it could not be written) and the keystore was closed; close the other process, then open it again with the current passphrase.',
      );
    });
  }

  /**
   * VACUUM INTO `tempPath`, an empty file the output writer created in the destination folder:
   * one consistent snapshot, keyed with this connection's key and salt (so it opens with the same
   * passphrase). BackupKeystore stages its copy with this, records it, then publishes it.
   * @throws KmsError Io.DiskFull, Io.ReadOnly, Io.PermissionDenied, Io.Failed
   */
  snapshotInto(tempPath: string): Promise<void> {
    return this.exclusive('backup', () => this.vacuumInto(tempPath));
  }

  private async vacuumInto(tempPath: string): Promise<void> {
    // A backup must not copy a file someone else changed unchecked.
    await inTransaction(this.conn, 'BEGIN DEFERRED', () => this.recheckIfChangedElsewhere());
    try {
      await this.conn.run('VACUUM INTO ?', [tempPath]);
    } catch (e) {
      throw snapshotError(e, tempPath);
    }
  }

  /**
   * Writes an encrypted, consistent copy (same passphrase) to `destPath`, mode 0600, through the
   * one output writer (never over a file, complete or absent after a crash). It records nothing:
   * the BackupKeystore operation records, then publishes (services/keystoreOps.ts).
   * @throws KmsError AlreadyExists.File, InvalidParameter.OutputFile, Rejected.UnsafeFolder, Io.*
   */
  backup(destPath: string): Promise<void> {
    // The whole write holds the mutex, so the copy is the state when backup() was called.
    return this.exclusive('backup', async () => {
      const plan = await planOutputs([destPath], randomUUID());
      const staged = await stageOutputs(plan, [{ path: plan.paths[0]!, content: { fill: (tmp: string) => this.vacuumInto(tmp) } }]);
      await publishOutputs(staged);
    });
  }

  /** Waits for queued work, then closes. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      try {
        assertNotNested(this, 'close');
      } catch (e) {
        return Promise.reject(e);
      }
      this.closing = this.mutex.run(() => this.shutDown());
    }
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closing ??= Promise.resolve();
    try {
      await this.conn.close();
    } catch (e) {
      throw toKmsError(e, this.path);
    } finally {
      this.lease.release();
    }
  }

  /** Takes the mutex; refuses reentry from inside a callback, which would deadlock. */
  private exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      assertNotNested(this, what);
      this.assertOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.mutex.run(async () => {
      const holder: Holder = { keystore: this, active: true };
      try {
        return await heldBy.run(holder, fn);
      } catch (e) {
        // Errors from a callback pass through as thrown (its executor already mapped native
        // ones); what arrives native is from our own BEGIN, COMMIT or PRAGMA statements.
        throw sqliteCodeOf(e) === undefined ? e : await runtimeError(this.conn, e, this.path, 'other');
      } finally {
        holder.active = false;
      }
    });
  }

  /**
   * The app stays open for hours; a CLI run or anything else may write the file meanwhile.
   * PRAGMA data_version changes only when another connection committed, so the full check runs
   * only then, before any state is used. It runs inside the transaction, after BEGIN (the pragma
   * starts the read snapshot), so nothing can commit between the check and the reads it guards.
   * A failed check closes nothing: every later call fails the same way.
   *
   * Not a defence against pages spliced in while open (SQLite notices only commits, by page 1's
   * change counter): the connection keeps reading the pages it checked at open from its cache
   * (sized to hold the file), and the next open checks the file again.
   */
  private async recheckIfChangedElsewhere(): Promise<void> {
    if (this.checkedVersion === undefined) return;
    const now = await dataVersion(this.conn);
    if (now === this.checkedVersion) return;
    await verifyStructure(this.conn, this.path, 'integrity_check');
    await checkFreshness(this.conn, this.path);
    this.checkedVersion = now;
  }

  private async scoped<T>(scope: Scope, begin: string, fn: (db: SqlExecutor) => Promise<T>): Promise<T> {
    const executor = new ScopedExecutor(this.conn, this.path, scope);
    try {
      return await inTransaction(this.conn, begin, async () => {
        try {
          await this.recheckIfChangedElsewhere();
        } catch (e) {
          throw await recheckError(this.conn, e, this.path);
        }
        return fn(executor);
      });
    } finally {
      executor.end();
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) {
      throw new KmsError('Internal', `The keystore ${this.path} is closed; open it again.`);
    }
  }
}

/** Applies each pending migration in its own transaction, with PRAGMA user_version as the mark. */
export async function applyMigrations(conn: Connection, migrations: readonly Migration[]): Promise<void> {
  assertMigrationList(migrations);
  for (const migration of migrations) {
    if (migration.version <= (await userVersion(conn))) continue;
    await inTransaction(conn, 'BEGIN IMMEDIATE', async () => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      if (migration.version <= (await userVersion(conn))) return;
      await conn.exec(migration.sql);
      // Integers from our own code, checked above; PRAGMA values cannot be bound.
      await conn.exec(`PRAGMA application_id = ${KEYROOM_APPLICATION_ID}`);
      await conn.exec(`PRAGMA user_version = ${migration.version}`);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// create / open steps

class SaltRetry extends Error {}

/**
 * Keys the connection. PRAGMA key runs the KDF lazily, at the first page read.
 * cipher_memory_security makes SQLCipher wipe (and lock) the memory it allocates, which holds
 * the key; it is process-wide and can only be switched on. cipher_log off: SQLCipher otherwise
 * writes HMAC failures to stderr, where the CLI prints only its JSON error.
 */
async function keyConnection(conn: Connection, keyLiteral: string, path: string): Promise<void> {
  await conn.exec('PRAGMA cipher_log = off; PRAGMA cipher_memory_security = ON');
  try {
    await conn.exec(`PRAGMA key = ${keyLiteral}`);
  } catch (e) {
    throw keyingError(e, path);
  }
  conn.setBusyTimeout(BUSY_TIMEOUT_MS);
}

/**
 * Connection settings. open() sets them only after the key is proven; none writes to the file.
 * DELETE journal: the whole state is one file between transactions (backup and the file mode
 * rely on it). FULL sync: a commit that returned survives power loss. secure_delete: freed pages
 * are zeroed. temp_store MEMORY: no temporary files for sorts or indices.
 */
async function configureConnection(conn: Connection): Promise<void> {
  await conn.exec(
    'PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; ' +
      'PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY',
  );
}

async function assertKdfCost(conn: Connection): Promise<void> {
  const row = await conn.get<{ kdf_iter: string | number }>('PRAGMA kdf_iter');
  if (Number(row?.kdf_iter) < MIN_KDF_ITER) {
    throw new KmsError('Internal', `This SQLCipher build derives keys with fewer than ${MIN_KDF_ITER} iterations.`);
  }
}

async function saltOf(conn: Connection): Promise<Buffer> {
  const row = await conn.get<{ cipher_salt: string }>('PRAGMA cipher_salt');
  return Buffer.from(row?.cipher_salt ?? '', 'hex');
}

/**
 * Proves the key. The first read decrypts page 1: SQLITE_NOTADB means its HMAC failed. Then
 * PRAGMA cipher_integrity_check (HMAC of every page straight from the file, ~2 ms per MB)
 * tells a wrong passphrase (every page fails) from tampering (some pages fail); see
 * classifyUnreadable for what SQLCipher does and what cannot be told apart.
 */
async function verifyReadable(conn: Connection, path: string): Promise<void> {
  try {
    await conn.get('SELECT count(*) AS n FROM sqlite_master');
  } catch (e) {
    if (sqliteCodeOf(e) !== 'SQLITE_NOTADB') throw e;
    const { failedPages, otherProblems } = await hmacCheck(conn);
    if (otherProblems.length > 0) throw tamperedError(path, otherProblems[0]!);
    throw classifyUnreadable(failedPages, checkedPageCount(path), path);
  }
  const { failedPages, otherProblems } = await hmacCheck(conn);
  if (failedPages.length > 0) throw tamperedError(path, `${pagesPhrase(failedPages)} failed authentication`);
  if (otherProblems.length > 0) throw tamperedError(path, otherProblems[0]!);
}

async function hmacCheck(conn: Connection): Promise<{ failedPages: number[]; otherProblems: string[] }> {
  const rows = await conn.all<{ cipher_integrity_check: string }>('PRAGMA cipher_integrity_check');
  const failedPages: number[] = [];
  const otherProblems: string[] = [];
  for (const { cipher_integrity_check: line } of rows) {
    const m = /^HMAC verification failed for page (\d+)$/.exec(line);
    if (m) failedPages.push(Number(m[1]));
    else otherProblems.push(line);
  }
  return { failedPages, otherProblems };
}

/**
 * Maps a native error after open. A page that no longer decrypts (SQLCipher answers NOTADB, or
 * NOMEM when it is page 1 at BEGIN) is told apart by checking every page's HMAC with this
 * connection's key: all failing means another process re-keyed or replaced the file, which is
 * not tampering (see unreadableAfterOpen).
 */
async function runtimeError(conn: Connection, e: unknown, path: string, during: 'read' | 'other'): Promise<KmsError> {
  const code = sqliteCodeOf(e);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_NOMEM' || code === 'SQLITE_CORRUPT') {
    const check = await hmacCheck(conn).catch(() => undefined);
    if (check && check.failedPages.length > 0) {
      const mapped = unreadableAfterOpen(check.failedPages, checkedPageCount(path), path);
      (mapped as Error).cause = e;
      return mapped;
    }
  }
  return toKmsError(e, path, during);
}

/**
 * The re-check after another connection's commit fails the same way when that connection re-keyed
 * the file (every page then fails under our key): that is said as such (Keystore.Locked, "open it
 * again"), as runtimeError does for a failing statement; only some pages failing stays Tampered.
 */
async function recheckError(conn: Connection, e: unknown, path: string): Promise<unknown> {
  if (sqliteCodeOf(e) !== undefined) return runtimeError(conn, e, path, 'read');
  if (e instanceof KmsError && e.code === 'Keystore.Tampered') {
    const check = await hmacCheck(conn).catch(() => undefined);
    if (check && check.failedPages.length > 0) return unreadableAfterOpen(check.failedPages, checkedPageCount(path), path);
  }
  return e;
}

/** Pages cipher_integrity_check looks at: all of them but the pending-byte page. */
function checkedPageCount(path: string): number {
  const size = fs.statSync(path).size;
  return Math.floor(size / PAGE_SIZE) - (size > PENDING_BYTE ? 1 : 0);
}

/** Our application id, a non-empty database, and a schema this build understands. */
async function verifyIdentity(conn: Connection, path: string): Promise<void> {
  const pages = (await conn.get<{ page_count: number }>('PRAGMA page_count'))?.page_count ?? 0;
  if (pages === 0) {
    // Only a crash during create's first commit leaves this (SQLite just rolled it back).
    throw notAKeystore(path, 'it is empty, probably from an interrupted InitKeystore; delete it and create the keystore again');
  }
  const appId = (await conn.get<{ application_id: number }>('PRAGMA application_id'))?.application_id;
  if (appId !== KEYROOM_APPLICATION_ID) {
    throw notAKeystore(path, 'it is an SQLCipher database, but not one Keyroom made; choose the keystore file');
  }
  const version = await userVersion(conn);
  if (version > SCHEMA_VERSION) {
    throw new KmsError(
      'Keystore.SchemaTooNew',
      `The keystore ${path} has schema version ${version}, newer than this Keyroom understands (${SCHEMA_VERSION}); open it with a newer Keyroom.`,
    );
  }
}

/**
 * b-tree structure; every page already passed its HMAC, so this finds what was written with the
 * key. integrity_check also proves every index holds exactly its table's rows, which an older
 * index page spliced in would break (quick_check skips that; the row tags cannot see indexes).
 * The page cache is made large enough first that the freshness sums that follow read pages this
 * check has already decrypted.
 */
async function verifyStructure(conn: Connection, path: string, pragma: 'integrity_check' | 'quick_check'): Promise<void> {
  await conn.exec(`PRAGMA cache_size = ${-CACHE_KIB}`);
  const rows = await conn.all<Record<string, string>>(`PRAGMA ${pragma}`);
  const first = rows[0]?.[pragma];
  if (rows.length !== 1 || first !== 'ok') {
    throw tamperedError(path, `${pragma}: ${first ?? 'no result'}`);
  }
}

/** Up to 64 MiB of decrypted pages (SQLite allocates them as used; the default is 2 MiB). */
const CACHE_KIB = 65_536;

/** Runs checkFreshness in a read transaction (one snapshot); returns the data_version it saw. */
async function verifyFreshness(conn: Connection, path: string): Promise<number> {
  return inTransaction(conn, 'BEGIN DEFERRED', async () => {
    await checkFreshness(conn, path);
    return dataVersion(conn);
  });
}

async function dataVersion(conn: Connection): Promise<number> {
  return (await conn.get<{ data_version: number }>('PRAGMA data_version'))?.data_version ?? 0;
}

async function userVersion(conn: Connection): Promise<number> {
  return (await conn.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
}

function assertMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (!Number.isSafeInteger(m.version) || m.version !== i + 1) {
      throw new KmsError('Internal', `Migration ${i} has version ${m.version}; versions must be 1, 2, 3, ...`);
    }
  });
}

/** Opens a second connection with the given key and reads every page's HMAC: true if all pass. */
async function fileOpensWith(path: string, keyLiteral: string): Promise<boolean> {
  let probe: Connection | undefined;
  try {
    probe = await Connection.open(path);
    await keyConnection(probe, keyLiteral, path);
    await probe.get('SELECT count(*) AS n FROM sqlite_master');
    const { failedPages, otherProblems } = await hmacCheck(probe);
    return failedPages.length === 0 && otherProblems.length === 0;
  } catch {
    return false;
  } finally {
    await probe?.close().catch(() => undefined);
  }
}

/** BEGIN .. COMMIT around fn; on any failure ROLLBACK (best effort) and rethrow fn's error. */
async function inTransaction<T>(conn: Connection, begin: string, fn: () => Promise<T>): Promise<T> {
  await conn.exec(begin);
  let result: T;
  try {
    result = await fn();
    await conn.exec('COMMIT');
  } catch (e) {
    // Fails harmlessly when SQLite already rolled back (it does on some I/O and full-disk errors).
    await conn.exec('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// executor, mutex, reentry guard

/**
 * The executor a callback receives. It maps native errors, refuses statements that would end
 * the surrounding transaction or change the key, and stops working when its scope ends, so a
 * leaked executor cannot run statements outside the mutex.
 */
class ScopedExecutor implements SqlExecutor {
  private live = true;

  constructor(
    private readonly conn: Connection,
    private readonly path: string,
    private readonly scope: Scope,
  ) {}

  end(): void {
    this.live = false;
  }

  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number; lastID: number }> {
    return this.call(sql, () => this.conn.run(sql, params));
  }

  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.call(sql, () => this.conn.get<T>(sql, params));
  }

  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.call(sql, () => this.conn.all<T>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.call(sql, () => this.conn.exec(sql));
  }

  private async call<T>(sql: string, op: () => Promise<T>): Promise<T> {
    if (!this.live) {
      throw new KmsError('Internal', `A ${this.scope} executor was used after its ${this.scope} ended; use it only inside the callback.`);
    }
    if (FORBIDDEN_IN_SCOPE.test(sql)) {
      throw new KmsError('Internal', `Statements that end the ${this.scope} or change the key are not allowed inside it; the Keystore does that.`);
    }
    try {
      return await op();
    } catch (e) {
      throw await runtimeError(this.conn, e, this.path, this.scope === 'read' ? 'read' : 'other');
    }
  }
}

/** A guard against mistakes, not a parser: leading BEGIN/COMMIT/END/ROLLBACK (not ROLLBACK TO), key pragmas. */
const FORBIDDEN_IN_SCOPE =
  /^\s*(BEGIN|COMMIT|END|ROLLBACK(?!\s+(TRANSACTION\s+)?TO\b)|PRAGMA\s+(\w+\.)?(key|rekey|query_only|hexkey|hexrekey)\b)/i;

/** FIFO lock over one connection: async callers never interleave statements. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

interface Holder {
  keystore: Keystore;
  active: boolean;
}

/** Which keystore's mutex the current async context holds (only while its callback runs). */
const heldBy = new AsyncLocalStorage<Holder>();

function assertNotNested(keystore: Keystore, what: string): void {
  const holder = heldBy.getStore();
  if (holder?.keystore === keystore && holder.active) {
    throw new KmsError(
      'Internal',
      `Keystore.${what}() was called inside a read() or transaction() callback of the same keystore; use the executor you were given instead.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// passphrase

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The SQL string literal for PRAGMA key / rekey. SQLCipher hands the literal's UTF-8 bytes to
 * its KDF, so these are exactly the Buffer's bytes: the Buffer must be valid UTF-8 (ignoreBOM
 * keeps a leading U+FEFF) with no NUL (SQLite would stop the key there); quotes are doubled.
 *
 * JavaScript strings cannot be wiped: the string made here (and the SQL text holding it) stays
 * in the heap until the garbage collector reuses that memory. The caller zeroes the Buffer;
 * this copy is kept as short-lived as we can, and never logged or put in an error.
 */
function passphraseLiteral(passphrase: Buffer): string {
  if (!Buffer.isBuffer(passphrase) || passphrase.length === 0 || passphrase.includes(0)) {
    throw invalidPassphrase();
  }
  let text: string;
  try {
    text = strictUtf8.decode(passphrase);
  } catch {
    throw invalidPassphrase();
  }
  return `'${text.replaceAll("'", "''")}'`;
}

function invalidPassphrase(): KmsError {
  // An empty key would leave SQLCipher's file unencrypted, hence the refusal.
  return new KmsError(
    'InvalidParameter.Passphrase',
    'The passphrase must be non-empty UTF-8 text without NUL characters; enter another.',
  );
}

// ---------------------------------------------------------------------------------------------
// files

/**
 * One open Keystore per file per process. Closing any descriptor of a file drops every POSIX
 * lock this process holds on it (fcntl semantics; SQLite's "How To Corrupt", 2.2), so a second
 * open here that reads the header would silently unlock the first connection.
 */
class FileLease {
  private static readonly held = new Set<string>();
  private released = false;

  private constructor(private readonly id: string) {}

  static take(path: string, st: fs.Stats): FileLease {
    const id = `${st.dev}:${st.ino}`;
    if (FileLease.held.has(id)) {
      throw new KmsError('Keystore.Locked', `The keystore ${path} is already open in this process; use that instance.`);
    }
    FileLease.held.add(id);
    return new FileLease(id);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    FileLease.held.delete(this.id);
  }
}

/** Whether the disk under `path` has less free space than the file's size (what a re-key journals). */
function lacksRoomFor(path: string): boolean {
  try {
    const st = fs.statfsSync(nodePath.dirname(path));
    return st.bavail * st.bsize < fs.statSync(path).size;
  } catch {
    return false;
  }
}

function statForOpen(path: string): fs.Stats {
  try {
    return fs.statSync(path);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new KmsError('Keystore.NotFound', `There is no keystore at ${path}; check the path, or create one with InitKeystore.`);
    }
    throw ioError(path, code ?? 'stat failed');
  }
}

/** Checks that need no key: regular file, non-empty, whole pages, not plaintext SQLite, not text. */
function assertLooksLikeKeystore(path: string): void {
  const st = fs.statSync(path);
  if (!st.isFile()) throw notAKeystore(path, 'it is not a regular file');
  if (st.size === 0) {
    throw notAKeystore(path, 'it is empty, perhaps from an interrupted InitKeystore; delete it and create the keystore again');
  }
  if (st.size % PAGE_SIZE !== 0) {
    throw notAKeystore(path, `its size is not a multiple of ${PAGE_SIZE} bytes; choose the keystore file`);
  }
  const head = readHead(path, SALT_SIZE);
  if (head.equals(SQLITE_PLAINTEXT_MAGIC)) {
    throw notAKeystore(path, 'it is an unencrypted SQLite database; choose the keystore file');
  }
  if (looksLikeText(head)) throw notAKeystore(path, 'it looks like a text file; choose the keystore file');
}

/**
 * True if the first bytes are printable ASCII or whitespace, or all zero. A keystore starts
 * with its random 16-byte salt, which create() redraws in the unlikely case it looks like this.
 */
function looksLikeText(head: Buffer): boolean {
  if (head.length < SALT_SIZE) return false;
  if (head.every((b) => b === 0)) return true;
  return head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e));
}

function readHead(path: string, length: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const head = Buffer.alloc(length);
    const n = fs.readSync(fd, head, 0, length, 0);
    return head.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function notAKeystore(path: string, why: string): KmsError {
  return new KmsError('Keystore.NotAKeystore', `${path} is not a Keyroom keystore: ${why}.`);
}

function assertParentDirectory(path: string): void {
  const dir = nodePath.dirname(path);
  if (!isDirectory(dir)) {
    throw new KmsError('Keystore.Io', `The folder ${dir} does not exist; create it first or choose another path.`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Creates an empty file that only its owner can read ('wx': fails if anything is there).
 * fchmod because the mode given to open() is filtered by the umask. SQLite gives the journal
 * the database file's mode (unixOpen -> findCreateFileMode), so it is 0600 too.
 */
function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx', 0o600);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EEXIST') {
      throw new KmsError('Keystore.AlreadyExists', `A file already exists at ${path}; choose another path, or open it instead.`);
    }
    throw ioError(path, code ?? 'create failed');
  }
  try {
    fs.fchmodSync(fd, 0o600);
  } finally {
    fs.closeSync(fd);
  }
}

/** SQLite's answer while writing a backup copy, in the output writer's words. */
function snapshotError(e: unknown, path: string): KmsError {
  switch (sqliteCodeOf(e)) {
    case 'SQLITE_FULL':
      return outputError({ code: 'ENOSPC' }, path);
    case 'SQLITE_READONLY':
      return outputError({ code: 'EROFS' }, path);
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
      return outputError({ code: 'EACCES' }, path);
    case undefined:
      return outputError(e, path);
    default:
      return outputError({ code: sqliteCodeOf(e) }, path);
  }
}

/** fsync a file or a folder (the folder so that a new or renamed entry survives power loss). */
function fsyncPath(path: string): void {
  const fd = fs.openSync(path, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Already gone, or never made.
  }
}

function errnoOf(e: unknown): string | undefined {
  const code: unknown = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

