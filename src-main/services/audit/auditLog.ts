/**
 * The hash-chained audit log. Every state change and every use of a key appends one entry in the
 * same transaction as the change. Each entry's hash covers its fields and the previous entry's
 * hash, so an edited, removed or reordered entry breaks the chain from there on.
 * Details hold identifiers and parameters only: never secrets, plaintext or key material.
 */
import { createHash } from 'node:crypto';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import type { FileHandle } from 'node:fs/promises';
import type { AuditEvent } from '../../../src-shared/contract/types';

export type AuditDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface AuditRecord {
  requestId: string;
  operation: string;
  keyId?: string | null;
  keyVersionId?: string | null;
  details?: AuditDetails;
  /** 'Success' unless said otherwise: a refusal or failure names its error code here (never a secret). */
  result?: string;
}

export interface AuditEntry {
  seq: number;
  request_id: string;
  time: string;
  operation: string;
  key_id: string | null;
  key_version_id: string | null;
  details: string;
  result: string;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const fields = [e.seq, e.request_id, e.time, e.operation, e.key_id, e.key_version_id, e.details, e.result, e.prev_hash];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

export async function appendAudit(tx: SqlExecutor, rec: AuditRecord, time: string): Promise<void> {
  const last = await tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const entry: Omit<AuditEntry, 'hash'> = {
    seq: (last?.seq ?? 0) + 1,
    request_id: rec.requestId,
    time,
    operation: rec.operation,
    key_id: rec.keyId ?? null,
    key_version_id: rec.keyVersionId ?? null,
    details: JSON.stringify(rec.details ?? {}),
    result: rec.result ?? 'Success',
    prev_hash: last?.hash ?? GENESIS_HASH,
  };
  const hash = entryHash(entry);
  // The head (last seq and hash) is kept beside the chain so that removing the newest entries
  // is noticed too; witnesses can also write HeadHash down at the ceremony (VerifyAuditLog).
  await tx.run("INSERT INTO meta (name, value) VALUES ('audit_head', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", [
    `${entry.seq}:${hash}`,
  ]);
  await tx.run(
    `INSERT INTO audit_log (seq, request_id, time, operation, key_id, key_version_id, details, result, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [entry.seq, entry.request_id, entry.time, entry.operation, entry.key_id, entry.key_version_id, entry.details, entry.result, entry.prev_hash, hash],
  );
}

export interface ChainVerdict {
  Valid: boolean;
  Entries: number;
  /** The newest entry's hash: write it down, and a later truncation or rewrite shows. */
  HeadHash?: string;
  FirstBadEntry?: number;
  Reason?: string;
  ExpectedHeadSeq?: number;
  AnchorSeq?: number;
}

/** What witnesses outside the file say the log must contain. */
export interface Witnesses {
  /** A HeadHash written down earlier: it must be this log's head or an earlier entry. */
  expectedHeadHash?: string;
  /** The head anchored on a token, and which token, for the reason. */
  anchor?: { seq: number; hash: string; token: string };
}

const PAGE = 2000;
const ROLLED_BACK = 'the keystore was rolled back or replaced since that head was written down';

/**
 * Walk the chain in pages (constant memory) and name the first entry that does not hold; then
 * hold the log against what is known outside it: keys with no log at all, a head written down
 * by the witnesses, the anchor on the token.
 */
export async function verifyAuditChain(db: SqlExecutor, witnesses: Witnesses = {}): Promise<ChainVerdict> {
  let verdict = await walkChain(db);
  if (verdict.Valid && verdict.Entries === 0) {
    const keys = (await db.get<{ n: number }>('SELECT count(*) AS n FROM keys'))!.n;
    // Every key was made by an operation that wrote an entry: an empty log lost them all.
    if (keys > 0) verdict = { Valid: false, Entries: 0, FirstBadEntry: 1, Reason: `the log is empty but the keystore holds ${keys} key${keys === 1 ? '' : 's'}: its entries were removed` };
  }
  if (witnesses.expectedHeadHash !== undefined) verdict = await checkExpectedHead(db, verdict, witnesses.expectedHeadHash.toLowerCase());
  if (witnesses.anchor) verdict = await checkAnchor(db, verdict, witnesses.anchor);
  return verdict;
}

async function walkChain(db: SqlExecutor): Promise<ChainVerdict> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (;;) {
    const rows = await db.all<AuditEntry>('SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?', [expectedSeq, PAGE]);
    for (const e of rows) {
      if (e.seq !== expectedSeq) return { Valid: false, Entries: count, FirstBadEntry: expectedSeq, Reason: `entry ${expectedSeq} is missing` };
      if (e.prev_hash !== prev) return { Valid: false, Entries: count, FirstBadEntry: e.seq, Reason: `entry ${e.seq} does not follow the entry before it` };
      const { hash, ...rest } = e;
      if (entryHash(rest) !== hash) return { Valid: false, Entries: count, FirstBadEntry: e.seq, Reason: `entry ${e.seq} was altered` };
      prev = hash;
      expectedSeq++;
      count++;
    }
    if (rows.length < PAGE) break;
  }
  // Rows outside the chain (seq 0, negative) and a removed tail are not reached by the walk.
  const total = (await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))!.n;
  if (total !== count) {
    return { Valid: false, Entries: count, FirstBadEntry: 0, Reason: `${total - count} entries lie outside the chain` };
  }
  const head = await db.get<{ value: string }>("SELECT value FROM meta WHERE name = 'audit_head'");
  if ((head?.value ?? '') !== (count === 0 ? '' : `${count}:${prev}`)) {
    return { Valid: false, Entries: count, FirstBadEntry: count + 1, Reason: `the log ends at entry ${count}, but its recorded head is ${head?.value ?? 'missing'}: newer entries were removed` };
  }
  return count === 0 ? { Valid: true, Entries: 0 } : { Valid: true, Entries: count, HeadHash: prev };
}

/** Valid only if `hash` is an entry of this (unbroken) chain; says which, or why not. */
async function checkExpectedHead(db: SqlExecutor, v: ChainVerdict, hash: string): Promise<ChainVerdict> {
  const found = await db.get<{ seq: number }>('SELECT seq FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1', [hash]);
  if (!found) {
    const why = `no entry of this log has the hash written down (${hash}): ${ROLLED_BACK}`;
    return { ...v, Valid: false, Reason: v.Valid ? why : `${v.Reason}; and ${why}` };
  }
  if (!v.Valid) {
    return { ...v, ExpectedHeadSeq: found.seq, Reason: `${v.Reason}; the hash written down is entry ${found.seq} of this log, but the chain is broken, so it proves nothing` };
  }
  return { ...v, ExpectedHeadSeq: found.seq };
}

/** The log must reach the anchored entry, with the anchored hash. */
async function checkAnchor(db: SqlExecutor, v: ChainVerdict, anchor: { seq: number; hash: string; token: string }): Promise<ChainVerdict> {
  const problem = await anchorProblem(db, anchor, anchor.token);
  if (!problem) return { ...v, AnchorSeq: anchor.seq };
  return { ...v, Valid: false, AnchorSeq: anchor.seq, Reason: v.Valid ? problem : `${v.Reason}; and ${problem}` };
}

/** Why this log is not a continuation of the anchored head, or undefined if it is. */
export async function anchorProblem(db: SqlExecutor, anchor: { seq: number; hash: string }, token: string): Promise<string | undefined> {
  const last = await db.get<{ seq: number }>('SELECT max(seq) AS seq FROM audit_log');
  const headSeq = last?.seq ?? 0;
  if (anchor.seq > headSeq) {
    return `the keystore is older than its anchor on ${token}: the anchor is entry ${anchor.seq}, but the log ends at entry ${headSeq} (the keystore was rolled back or replaced since it was anchored)`;
  }
  const entry = await db.get<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = ?', [anchor.seq]);
  if (entry?.hash !== anchor.hash) {
    return `entry ${anchor.seq} is not the one anchored on ${token}: this log was replaced since it was anchored`;
  }
  return undefined;
}

/** Write the log as JSON lines into `handle` (the output writer's staged file), a page at a time. */
export async function writeAuditLines(db: SqlExecutor, handle: FileHandle): Promise<{ entries: number }> {
  let entries = 0;
  for (let seq = 1; ; ) {
    const rows = await db.all<AuditEntry>('SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?', [seq, PAGE]);
    await handle.write(rows.map((r) => JSON.stringify({ ...r, details: JSON.parse(r.details) as unknown }) + '\n').join(''));
    entries += rows.length;
    if (rows.length < PAGE) break;
    seq = rows[rows.length - 1]!.seq + 1;
  }
  return { entries };
}

export interface AuditFilter {
  operation?: string;
  keyId?: string;
}

/**
 * One page of the log, newest entry first, optionally one operation's or one key's entries.
 * A read: it appends nothing (as VerifyAuditLog appends nothing; ExportAuditLog records the file it wrote).
 */
export async function listAuditEvents(
  db: SqlExecutor,
  filter: AuditFilter,
  page: { limit: number; offset: number },
): Promise<{ total: number; events: AuditEvent[] }> {
  // `? IS NULL OR` keeps one statement for every combination of filters.
  const where = 'WHERE (?1 IS NULL OR operation = ?1) AND (?2 IS NULL OR key_id = ?2)';
  const params = [filter.operation ?? null, filter.keyId?.toLowerCase() ?? null];
  const total = (await db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_log ${where}`, params))!.n;
  const rows = await db.all<AuditEntry>(`SELECT * FROM audit_log ${where} ORDER BY seq DESC LIMIT ?3 OFFSET ?4`, [...params, page.limit, page.offset]);
  return { total, events: rows.map(auditEventOf) };
}

function auditEventOf(r: AuditEntry): AuditEvent {
  const e: AuditEvent = {
    Seq: r.seq,
    RequestId: r.request_id,
    Time: r.time,
    Operation: r.operation,
    Details: JSON.parse(r.details) as AuditEvent['Details'],
    Result: r.result,
  };
  if (r.key_id) e.KeyId = r.key_id;
  if (r.key_version_id) e.KeyVersionId = r.key_version_id;
  return e;
}

/** The operations that point an alias somewhere (or nowhere), as its history shows them. */
const ALIAS_OPERATIONS = ['CreateAlias', 'UpdateAlias', 'DeleteAlias', 'RotateAlias'] as const;

/** Every change of one alias, oldest first, read from the audit log (the alias row keeps only its present). */
export async function aliasHistory(db: SqlExecutor, aliasName: string): Promise<AuditEvent[]> {
  const rows = await db.all<AuditEntry>(`SELECT * FROM audit_log WHERE operation IN (${ALIAS_OPERATIONS.map(() => '?').join(', ')}) ORDER BY seq`, [...ALIAS_OPERATIONS]);
  return rows.map(auditEventOf).filter((e) => e.Details.AliasName === aliasName);
}
