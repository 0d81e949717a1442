/**
 * Record first, then publish. Every operation that writes files commits audit entries naming each
 * final path with the SHA-256 read back from its staged temporary (detail `OutputFiles`, in
 * sha256sum's format with absolute paths) before any file takes its final name. If publishing
 * then fails, a second entry (its own transaction, Result `NotPublished`) lists the paths, and
 * VerifyAuditLog lists them as recorded but not published (unpublished.ts).
 */
import { KmsError } from '../../../src-shared/errors';
import {
  discardOutputs,
  planOutputs,
  publishOutputs,
  stageOutputs,
  type OutputContent,
  type OutputPlan,
  type PlanOptions,
  type PublishedOutput,
  type StaleAudit,
  type StagedOutputs,
} from '../../files/outputWriter';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import type { StaleReport } from '../../../src-shared/contract/types';
import { appendAudit } from './auditLog';
import { now, type KmsContext } from '../kms/context';

export const NOT_PUBLISHED = 'NotPublished';

/** The `OutputFiles` detail: one `<sha256>  <absolute path>` line per file. */
export function outputFilesDetail(files: readonly { path: string; sha256: string }[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}`).join('\n');
}

export function parseOutputFiles(detail: unknown): { sha256: string; path: string }[] {
  if (typeof detail !== 'string' || detail === '') return [];
  return detail.split('\n').flatMap((line) => {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    return m ? [{ sha256: m[1]!, path: m[2]! }] : [];
  });
}

export interface OutputRecordSubject {
  requestId: string;
  operation: string;
  keyId?: string | null;
  keyVersionId?: string | null;
}

/** The second entry: these recorded outputs never reached their names, and why (an error code). */
export async function recordNotPublished(kms: KmsContext, rec: OutputRecordSubject, files: readonly string[], error: string): Promise<void> {
  await kms.keystore.transaction((tx) =>
    appendAudit(
      tx,
      { requestId: rec.requestId, operation: rec.operation, keyId: rec.keyId ?? null, keyVersionId: rec.keyVersionId ?? null, details: { Error: error, Files: files.join('\n') }, result: NOT_PUBLISHED },
      now(kms),
    ),
  );
}

async function recordedEntries(db: SqlExecutor, requestId: string): Promise<{ operation: string; key_id: string | null; key_version_id: string | null; details: string }[]> {
  return db.all('SELECT operation, key_id, key_version_id, details FROM audit_log WHERE request_id = ? AND result = ? ORDER BY seq', [requestId, 'Success']);
}

/** The audit log's answer to the writer's cleanup: is a leftover's request recorded, and record what never got published. */
export function staleAudit(kms: KmsContext): StaleAudit {
  return {
    async recorded(requestId, path) {
      const rows = await kms.keystore.read((db) => recordedEntries(db, requestId));
      return rows.some((r) => parseOutputFiles((JSON.parse(r.details) as Record<string, unknown>).OutputFiles).some((f) => f.path === path));
    },
    async notPublished(items) {
      for (const requestId of new Set(items.map((i) => i.requestId))) {
        const rows = await kms.keystore.read((db) => recordedEntries(db, requestId));
        const first = rows[0];
        if (!first) continue;
        const files = items.filter((i) => i.requestId === requestId).map((i) => i.path);
        await recordNotPublished(kms, { requestId, operation: first.operation, keyId: first.key_id, keyVersionId: first.key_version_id }, files, 'Interrupted');
      }
    },
  };
}

/** planOutputs with the audit log as the judge of stale leftovers. */
export function planRecordedOutputs(kms: KmsContext, paths: readonly string[], requestId: string, options: Omit<PlanOptions, 'stale'> = {}): Promise<OutputPlan> {
  return planOutputs(paths, requestId, { ...options, stale: staleAudit(kms) });
}

export type Stage = (plan: OutputPlan, contents: readonly { path: string; content: OutputContent }[]) => Promise<StagedOutputs>;

/**
 * The record step: `record` runs in one keystore transaction, stages its outputs with `stage`
 * (so the entries it appends can name each file's SHA-256) and appends them. If anything fails,
 * including the commit itself (a full disk under the keystore), the staged temporaries are removed.
 */
export async function recordWithStaging<T>(kms: KmsContext, record: (tx: SqlExecutor, stage: Stage) => Promise<T>): Promise<{ result: T; staged: StagedOutputs[] }> {
  const staged: StagedOutputs[] = [];
  const stage: Stage = async (plan, contents) => {
    const s = await stageOutputs(plan, contents);
    staged.push(s);
    return s;
  };
  try {
    const result = await kms.keystore.transaction((tx) => record(tx, stage));
    return { result, staged };
  } catch (e) {
    for (const s of staged) await discardOutputs(s);
    throw e;
  }
}

/** The record step for outputs staged outside the transaction (a backup's VACUUM INTO cannot run inside one). */
export async function recordStaged(kms: KmsContext, staged: StagedOutputs, record: (tx: SqlExecutor) => Promise<void>): Promise<void> {
  try {
    await kms.keystore.transaction(record);
  } catch (e) {
    await discardOutputs(staged);
    throw e;
  }
}

/** Publish after the record is committed; on failure the second entry says so, then the error goes on. */
export async function publishRecorded(kms: KmsContext, staged: StagedOutputs, rec: OutputRecordSubject): Promise<PublishedOutput[]> {
  try {
    return await publishOutputs(staged);
  } catch (e) {
    const code = e instanceof KmsError ? e.code : 'Internal';
    // If even this entry cannot be written (the keystore's disk is full too), the publish error
    // is still the one the caller sees; VerifyAuditLog then cannot list these files.
    await recordNotPublished(
      kms,
      rec,
      staged.files.map((f) => f.path),
      code,
    ).catch(() => undefined);
    throw e;
  }
}

/** What an output of the contract says about stale leftovers removed by the plan. */
export function staleReport(plan: OutputPlan): StaleReport {
  return {
    ...(plan.removedStaleFiles.length > 0 ? { RemovedStaleFiles: [...plan.removedStaleFiles] } : {}),
    ...(plan.warnings.length > 0 ? { StaleFileWarnings: [...plan.warnings] } : {}),
  };
}
