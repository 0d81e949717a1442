/**
 * What VerifyAuditLog lists as "recorded but not published": outputs whose audit entry was
 * committed but which never reached their final names (a publish that failed, or a crash found
 * by a later run's cleanup), from the `NotPublished` entries that say so.
 */
import type { SqlExecutor } from '../../keystore/sqlcipher';
import type { UnpublishedFile } from '../../../src-shared/contract/types';
import { NOT_PUBLISHED } from './outputRecord';

export async function listUnpublished(db: SqlExecutor): Promise<UnpublishedFile[]> {
  const rows = await db.all<{ seq: number; request_id: string; operation: string; details: string }>(
    'SELECT seq, request_id, operation, details FROM audit_log WHERE result = ? ORDER BY seq',
    [NOT_PUBLISHED],
  );
  return rows.flatMap((r) => {
    const files = (JSON.parse(r.details) as { Files?: unknown }).Files;
    return typeof files === 'string' && files !== '' ? files.split('\n').map((File) => ({ Seq: r.seq, RequestId: r.request_id, Operation: r.operation, File })) : [];
  });
}
