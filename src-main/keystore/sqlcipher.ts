/**
 * A small promise wrapper over @journeyapps/sqlcipher's callback API.
 *
 * It knows nothing of passphrases, keystores or KmsError: it opens one connection, runs
 * statements in the order they are issued, and rejects with the binding's native Error (which
 * carries `code`, e.g. 'SQLITE_NOTADB'). Mapping those errors is the job of sqlcipherErrors.ts,
 * called by keystore.ts: native codes are mapped once, in the module that owns them.
 */
import sqlcipher from '@journeyapps/sqlcipher';

export type SqlParam = string | number | bigint | null | Uint8Array;

export interface SqlExecutor {
  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number; lastID: number }>;
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

type NativeDatabase = InstanceType<typeof sqlcipher.Database>;
/** What the binding accepts for one bound value (it has no BigInt or plain Uint8Array case). */
type NativeParam = string | number | null | Buffer;

/** One open SQLCipher connection. Not safe for interleaved transactions: see Keystore's mutex. */
export class Connection implements SqlExecutor {
  private closed = false;

  private constructor(
    private readonly db: NativeDatabase,
    readonly path: string,
  ) {}

  /**
   * Opens an existing file read-write. OPEN_CREATE is deliberately absent: a mistyped path must
   * fail (SQLITE_CANTOPEN), never leave an empty database behind.
   */
  static open(path: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const db: NativeDatabase = new sqlcipher.Database(path, sqlcipher.OPEN_READWRITE, (err) => {
        if (err) reject(err);
        else resolve(new Connection(db, path));
      });
      // Serialized mode: statements run in the order they are issued, so a COMMIT queued after
      // an un-awaited statement still runs after it.
      db.serialize();
    });
  }

  /** Milliseconds SQLite retries when another process holds the lock before SQLITE_BUSY. */
  setBusyTimeout(ms: number): void {
    this.db.configure('busyTimeout', ms);
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, toNativeParams(params), function (this: sqlcipher.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(sql, toNativeParams(params), (err: Error | null, row: unknown) => {
        if (err) reject(err);
        else resolve(row as T | undefined);
      });
    });
  }

  all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, toNativeParams(params), (err: Error | null, rows: unknown[]) => {
        if (err) reject(err);
        else resolve(rows as T[]);
      });
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err: Error | null) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Idempotent, so error paths can always call it. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => {
      this.db.close((err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }
}

function toNativeParams(params: readonly SqlParam[]): NativeParam[] {
  return params.map(toNativeParam);
}

function toNativeParam(value: SqlParam): NativeParam {
  if (typeof value === 'bigint') return bigintParam(value);
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    // A view, not a copy: the binding copies the bytes when it binds them.
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The binding has no 64-bit integer input. A safe integer goes as a number; a larger one goes
 * as its decimal text, which SQLite converts back to the exact INTEGER when the column (or the
 * column it is compared with) has INTEGER affinity.
 */
function bigintParam(value: bigint): number | string {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new RangeError('A bigint SQL parameter must fit in a signed 64-bit integer.');
  }
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}
