/**
 * Freshness: is every part of the file from the same, latest commit?
 *
 * SQLCipher's page HMACs prove that a page was written with the key, not that it is the newest
 * version of that page: an older copy of the file can lend pages to a newer one. Migration 2 gives
 * every stateful row a random tag that triggers renew on each write, and keeps a seal (its own
 * table, and a copy in meta: two pages) of each table's row count and tag sums, and of the audit
 * log's head. This
 * module recomputes them from the rows and compares; the b-tree's own check (integrity_check,
 * which also proves every index agrees with its table) runs beside it in keystore.ts.
 *
 * What disagrees is named: a table (an older page of its rows, or of a seal), or the audit log
 * (an older page of the log, of a seal, or of meta). What cannot be seen here: an older copy of
 * the whole file, or of every page that changed since (see the README): that needs a witness
 * outside the file (VerifyAuditLog --ExpectedHeadHash, the token anchor). A keystore made before
 * migration 2 is sealed as it is found at its first open with it: older splices are not seen.
 */
import { KmsError } from '../../src-shared/errors';
import type { SqlExecutor } from './sqlcipher';
import { SEAL_COPY_PREFIX, SEAL_TABLE, STATEFUL_TABLES } from './schema';

interface SealRow {
  name: string;
  row_count: number;
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  head_hash: string;
}

/** As SEAL_TEXT prints it in SQL. The sums stay below 2^53 (exact in a JS number) up to 2^21 rows. */
function sealText(r: Omit<SealRow, 'name'>): string {
  return `${r.row_count}:${r.s0}:${r.s1}:${r.s2}:${r.s3}:${r.head_hash}`;
}

/**
 * Throws Keystore.Tampered naming what disagrees. Cost: one aggregate per table (run in C over
 * the row tags) and a few short reads.
 * @throws KmsError Keystore.Tampered
 */
export async function checkFreshness(db: SqlExecutor, path: string): Promise<void> {
  const seal = new Map((await db.all<SealRow>(`SELECT * FROM ${SEAL_TABLE}`)).map((r) => [r.name, sealText(r)]));
  const copy = new Map(
    (await db.all<{ name: string; value: string }>('SELECT name, value FROM meta WHERE name LIKE ?', [`${SEAL_COPY_PREFIX}%`])).map((r) => [
      r.name.slice(SEAL_COPY_PREFIX.length),
      r.value,
    ]),
  );
  const compare = (name: string, now: string, what: string) => {
    if (seal.get(name) !== now) throw staleError(path, `${what} disagrees with its seal (${SEAL_TABLE})`);
    if (copy.get(name) !== now) throw staleError(path, `${what} disagrees with the seal's copy in meta`);
  };
  for (const table of STATEFUL_TABLES) {
    const now = await db.get<Omit<SealRow, 'name' | 'head_hash'>>(
      `SELECT count(*) AS row_count, coalesce(sum(fresh_0), 0) AS s0, coalesce(sum(fresh_1), 0) AS s1,
              coalesce(sum(fresh_2), 0) AS s2, coalesce(sum(fresh_3), 0) AS s3 FROM ${table}`,
    );
    compare(table, sealText({ ...now!, head_hash: '' }), `the ${table} table`);
  }
  const last = await db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const count = (await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))?.n ?? 0;
  const headSeq = last?.seq ?? 0;
  const headHash = last?.hash ?? '';
  if (count !== headSeq) {
    throw staleError(path, `the audit log holds ${count} entries but its newest is entry ${headSeq}`);
  }
  compare('audit_log', sealText({ row_count: headSeq, s0: 0, s1: 0, s2: 0, s3: 0, head_hash: headHash }), `the audit log (ending at entry ${headSeq})`);
  const meta = (await db.get<{ value: string }>("SELECT value FROM meta WHERE name = 'audit_head'"))?.value ?? '';
  if (meta !== (headSeq === 0 ? '' : `${headSeq}:${headHash}`)) {
    throw staleError(path, `the audit log ends at entry ${headSeq}, but meta records ${meta === '' ? 'no entry' : `entry ${meta.split(':')[0]}`}`);
  }
}
function staleError(path: string, what: string): KmsError {
  return new KmsError(
    'Keystore.Tampered',
    `The keystore ${path} is not one consistent state: ${what}. Part of the file was replaced by an older copy of it (or changed by something other than Keyroom); do not use it, and restore it from a backup you trust.`,
  );
}
