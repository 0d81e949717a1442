/**
 * The one place where native SQLite/SQLCipher errors become KmsError.
 *
 * The binding rejects with an Error whose `code` is the SQLite primary result code name
 * ('SQLITE_BUSY', ...; see sqlite_code_string in the binding's node_sqlite3.cc). Messages below
 * say what to do. They never include a passphrase: the only statements that carry one
 * (PRAGMA key / rekey) are mapped with `keyingError`, which drops the native text altogether.
 */
import { KmsError, isKmsError } from '../../src-shared/errors';

const SQLITE_CODES = [
  'SQLITE_ERROR',
  'SQLITE_INTERNAL',
  'SQLITE_PERM',
  'SQLITE_ABORT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_NOMEM',
  'SQLITE_READONLY',
  'SQLITE_INTERRUPT',
  'SQLITE_IOERR',
  'SQLITE_CORRUPT',
  'SQLITE_NOTFOUND',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
  'SQLITE_EMPTY',
  'SQLITE_SCHEMA',
  'SQLITE_TOOBIG',
  'SQLITE_CONSTRAINT',
  'SQLITE_MISMATCH',
  'SQLITE_MISUSE',
  'SQLITE_NOLFS',
  'SQLITE_AUTH',
  'SQLITE_FORMAT',
  'SQLITE_RANGE',
  'SQLITE_NOTADB',
  'SQLITE_ROW',
  'SQLITE_DONE',
  'UNKNOWN',
] as const;

export type SqliteCode = (typeof SQLITE_CODES)[number];

/** The SQLite code of a native error, or undefined for anything else (a JS error, a KmsError). */
export function sqliteCodeOf(e: unknown): SqliteCode | undefined {
  if (!(e instanceof Error) || isKmsError(e)) return undefined;
  const code: unknown = (e as { code?: unknown }).code;
  return SQLITE_CODES.find((c) => c === code);
}

export const LOCKED_MESSAGE =
  'The keystore is in use by another Keyroom process; close it and try again.';

/**
 * Maps any error thrown by a statement to a KmsError. A KmsError passes through unchanged; a
 * non-SQLite error (a bug in our own code) becomes Internal with its message, which never holds
 * a secret because no secret is ever interpolated into SQL or thrown.
 */
export function toKmsError(e: unknown, path: string, during: 'read' | 'other' = 'other'): KmsError {
  if (isKmsError(e)) return e;
  const code = sqliteCodeOf(e);
  const sysCode = systemErrorCode(e);
  const mapped =
    code !== undefined
      ? fromSqliteCode(code, nativeMessage(e), path, during)
      : sysCode !== undefined
        ? ioError(path, sysCode)
        : new KmsError('Internal', `Keystore operation failed: ${describe(e)}.`);
  // The native error holds only SQLite's own text (statement parameters are bound, never
  // interpolated), so keeping it as the cause is safe and helps whoever reads a stack trace.
  (mapped as Error).cause = e;
  return mapped;
}

function fromSqliteCode(code: SqliteCode, native: string, path: string, during: 'read' | 'other'): KmsError {
  switch (code) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new KmsError('Keystore.Locked', LOCKED_MESSAGE);
    case 'SQLITE_FULL':
      return diskFullError(path);
    case 'SQLITE_IOERR':
      // SQLite reports ENOSPC while writing the journal or a page as an I/O error whose text says so.
      if (/disk (is )?full|ENOSPC|no space/i.test(native)) return diskFullError(path);
      return ioError(path, code);
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
    case 'SQLITE_NOLFS':
    case 'SQLITE_PROTOCOL':
      return ioError(path, code);
    case 'SQLITE_READONLY':
      // Inside Keystore.read() the connection is query_only: a write there is our own bug.
      if (during === 'read') {
        return new KmsError('Internal', 'A statement inside Keystore.read() tried to write; write only inside transaction().');
      }
      return new KmsError(
        'Keystore.Io',
        `The keystore ${path} cannot be written (${native}); check the permissions of the file and its folder.`,
      );
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
    case 'SQLITE_FORMAT':
      // After a successful open the key is known good, so a page that fails its HMAC or a
      // broken b-tree means the file changed on disk underneath us.
      return tamperedError(path, 'a page failed authentication or the b-tree is damaged');
    case 'SQLITE_ERROR':
    case 'SQLITE_INTERNAL':
    case 'SQLITE_ABORT':
    case 'SQLITE_NOMEM':
    case 'SQLITE_INTERRUPT':
    case 'SQLITE_NOTFOUND':
    case 'SQLITE_EMPTY':
    case 'SQLITE_SCHEMA':
    case 'SQLITE_TOOBIG':
    case 'SQLITE_CONSTRAINT':
    case 'SQLITE_MISMATCH':
    case 'SQLITE_MISUSE':
    case 'SQLITE_AUTH':
    case 'SQLITE_RANGE':
    case 'SQLITE_ROW':
    case 'SQLITE_DONE':
    case 'UNKNOWN':
      return new KmsError('Internal', `Keystore statement failed (${native}).`);
    default:
      return assertNever(code);
  }
}

export function ioError(path: string, reason: string): KmsError {
  if (reason === 'ENOSPC' || reason === 'EDQUOT') return diskFullError(path);
  return new KmsError(
    'Keystore.Io',
    `The keystore ${path} could not be read or written (${reason}); check the disk, its free space and the file's permissions, then try again.`,
  );
}

/**
 * SQLITE_FULL, ENOSPC or a quota: the disk under the keystore (or its journal beside it) has no
 * room. SQLite rolled the statement's transaction back, so nothing was changed.
 */
export function diskFullError(path: string): KmsError {
  return new KmsError(
    'Io.DiskFull',
    `The disk holding the keystore ${path} is full (its journal is written beside it); nothing was changed. Free space on that disk, then try again.`,
  );
}

/**
 * A page that no longer authenticates with the key this connection proved at open. When every
 * page fails, the file as a whole is under another key: another process changed the passphrase
 * (ChangePassphrase) or put another keystore in its place. Restoring a backup would then lose
 * that process's work, so it is said plainly and the operator opens it again instead. When only
 * some pages fail, the file was altered.
 */
export function unreadableAfterOpen(failedPages: readonly number[], totalPages: number, path: string): KmsError {
  if (failedPages.length > 0 && failedPages.length >= totalPages) {
    return new KmsError(
      'Keystore.Locked',
      `The keystore ${path} is no longer under the passphrase it was opened with: another process changed its passphrase or replaced the file. Nothing was written; lock it and open it again with its current passphrase.`,
    );
  }
  return tamperedError(path, failedPages.length ? `${pagesPhrase(failedPages)} failed authentication` : 'a page failed authentication or the b-tree is damaged');
}

export function tamperedError(path: string, what: string): KmsError {
  return new KmsError(
    'Keystore.Tampered',
    `The keystore ${path} was altered or damaged on disk (${what}); restore it from a backup.`,
  );
}

export function incorrectPassphraseError(): KmsError {
  return new KmsError('IncorrectPassphrase', 'The passphrase is incorrect; enter it again.');
}

/**
 * For PRAGMA key / rekey only: SQLite's text for a failed statement can quote the statement
 * ("near ...: syntax error"), and that statement holds the passphrase. So only the code is kept,
 * and no cause is attached.
 */
export function keyingError(e: unknown, path: string): KmsError {
  const code = sqliteCodeOf(e) ?? 'UNKNOWN';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new KmsError('Keystore.Locked', LOCKED_MESSAGE);
  }
  if (code === 'SQLITE_FULL') return diskFullError(path);
  return new KmsError('Internal', `Setting the keystore key failed for ${path} (${code}).`);
}

/**
 * Classifies SQLCipher's per-page HMAC failures on a file that SQLite refused to read with the
 * key we set (SQLITE_NOTADB), as reported by PRAGMA cipher_integrity_check.
 *
 * Measured on SQLCipher 4.14: a wrong passphrase fails every page; an altered byte in page 1
 * (outside the 16-byte salt) fails page 1 only; an altered later page fails that page only
 * (and the open itself succeeds). An altered salt changes the derived key, so it fails every
 * page and cannot be told from a wrong passphrase; neither can a one-page file whose only page
 * was altered, nor random bytes of a page-multiple size (SQLCipher files have no magic number).
 */
export function classifyUnreadable(
  failedPages: readonly number[],
  totalPages: number,
  path: string,
): KmsError {
  if (failedPages.length === 0) {
    // Every HMAC verifies but SQLite still cannot read page 1: written by someone holding the key.
    return tamperedError(path, 'page 1 authenticates but is not a valid database page');
  }
  if (failedPages.length >= totalPages) return incorrectPassphraseError();
  return tamperedError(path, `${pagesPhrase(failedPages)} failed authentication`);
}

export function pagesPhrase(pages: readonly number[]): string {
  const shown = pages.slice(0, 10).join(', ');
  const more = pages.length > 10 ? ` and ${pages.length - 10} more` : '';
  return `${pages.length === 1 ? 'page' : 'pages'} ${shown}${more}`;
}

/** Node's own file-system errors (ENOENT, EACCES, ENOSPC, ...), which carry a syscall name. */
function systemErrorCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const { code, syscall } = e as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && typeof syscall === 'string' ? code : undefined;
}

function nativeMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message.replace(/\.$/, '') : String(e);
}

function assertNever(x: never): never {
  throw new Error(`Unhandled SQLite code: ${String(x)}`);
}
