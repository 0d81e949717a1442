/**
 * Freshness: is every part of the file from the same, latest commit?
 *
 * SQLCipher's page HMACs prove that a page was written with the key, not that it is the newest
 * version of that page: an older copy of the file can lend pages to a newer one. Migration 2 gives
 * every stateful row a random tag that triggers renew on each write, and keeps two seals (two
 * tables, so two pages) of each table's row count and tag sums, and of the audit log's head. This
 * module recomputes them from the rows and compares; the b-tree's own check (integrity_check,
 * which also proves every index agrees with its table) runs beside it in keystore.ts.
 *
 * What disagrees is named: a table (an older page of its rows, or of a seal), or the audit log
 * (an older page of the log, of a seal, or of meta). What cannot be seen here: an older copy of
 * the whole file, or of every page that changed since (see the README): that needs a witness
 * outside the file (VerifyAuditLog --ExpectedHeadHash, the token anchor).
 */
import { KmsError } from '../../src-shared/errors';
import type { SqlExecutor } from './sqlcipher';
import { SEAL_TABLES, STATEFUL_TABLES } from './schema';

interface SealRow {
  name: string;
  row_count: number;
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  head_hash: string;
}

/**
 * Throws Keystore.Tampered naming what disagrees. Cost: one aggregate per table (run in C over
 * the row tags) and two short reads of the audit log.
 * @throws KmsError Keystore.Tampered
 */
export async function checkFreshness(db: SqlExecutor, path: string): Promise<void> {
  const seals = await Promise.all(SEAL_TABLES.map((t) => db.all<SealRow>(`SELECT * FROM ${t}`)));
  const sealOf = (i: number, name: string) => seals[i]!.find((r) => r.name === name);
  for (const table of STATEFUL_TABLES) {
    const now = await db.get<Omit<SealRow, 'name' | 'head_hash'>>(
      `SELECT count(*) AS row_count, coalesce(sum(fresh_0), 0) AS s0, coalesce(sum(fresh_1), 0) AS s1,
              coalesce(sum(fresh_2), 0) AS s2, coalesce(sum(fresh_3), 0) AS s3 FROM ${table}`,
    );
    SEAL_TABLES.forEach((sealTable, i) => {
      const seal = sealOf(i, table);
      const same = seal && now && seal.row_count === now.row_count && seal.s0 === now.s0 && seal.s1 === now.s1 && seal.s2 === now.s2 && seal.s3 === now.s3;
      if (!same) throw staleError(path, `the ${table} table disagrees with its seal in ${sealTable}`);
    });
  }
  const last = await db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const count = (await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))?.n ?? 0;
  const headSeq = last?.seq ?? 0;
  const headHash = last?.hash ?? '';
  if (count !== headSeq) {
    throw staleError(path, `the audit log holds ${count} entries but its newest is entry ${headSeq}`);
  }
  SEAL_TABLES.forEach((sealTable, i) => {
    const seal = sealOf(i, 'audit_log');
    if (!seal || seal.row_count !== headSeq || seal.head_hash !== headHash) {
      throw staleError(path, `the audit log ends at entry ${headSeq}, but ${sealTable} records entry ${seal?.row_count ?? 'none'}`);
    }
  });
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
