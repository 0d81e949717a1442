/** Operations on the keystore as a whole: create, re-key, back up, and the audit log's checks. */
import type { FileHandle } from 'node:fs/promises';
import type { OperationInput, OperationOutput } from '../../src-shared/contract/operations';
import { SCHEMA_VERSION } from '../keystore/schema';
import { appendAudit, listAuditEvents as readAuditEvents, verifyAuditChain, writeAuditLines } from './audit/auditLog';
import { outputFilesDetail, planRecordedOutputs, publishRecorded, recordStaged, staleReport } from './audit/outputRecord';
import { listUnpublished } from './audit/unpublished';
import { stageOutputs } from '../files/outputWriter';
import { now } from './kms/context';
import { paging } from './kms/keyAccess';
import { wipe } from '../crypto/wipe';
import type { Session } from './session';
import { tokenAnchor } from './audit/anchor';

export async function initKeystore(session: Session, input: OperationInput<'InitKeystore'>, requestId: string): Promise<OperationOutput<'InitKeystore'>> {
  const passphrase = Buffer.from(input.Passphrase, 'utf8');
  try {
    await session.create(passphrase);
  } finally {
    wipe(passphrase);
  }
  const kms = session.kms;
  await kms.keystore.transaction((tx) => appendAudit(tx, { requestId, operation: 'InitKeystore', details: { SchemaVersion: SCHEMA_VERSION } }, now(kms)));
  return { Keystore: session.keystorePath, SchemaVersion: SCHEMA_VERSION };
}

export async function changePassphrase(session: Session, input: OperationInput<'ChangePassphrase'>, requestId: string): Promise<OperationOutput<'ChangePassphrase'>> {
  const kms = session.kms;
  const current = Buffer.from(input.CurrentPassphrase, 'utf8');
  const passphrase = Buffer.from(input.NewPassphrase, 'utf8');
  try {
    // The entry is committed with the re-key itself (see Keystore.changePassphrase).
    await kms.keystore.changePassphrase(current, passphrase, (tx) => appendAudit(tx, { requestId, operation: 'ChangePassphrase' }, now(kms)));
  } finally {
    wipe(current, passphrase);
  }
  return { Keystore: session.keystorePath };
}

/**
 * Plan, compute, record, publish: the name is checked free, VACUUM INTO writes the copy to a
 * temporary beside it (read back and hashed), the entry naming it with that SHA-256 is committed,
 * and only then does the copy take its name. The copy holds the log up to the entry before.
 */
export async function backupKeystore(session: Session, input: OperationInput<'BackupKeystore'>, requestId: string): Promise<OperationOutput<'BackupKeystore'>> {
  const kms = session.kms;
  const plan = await planRecordedOutputs(kms, [input.OutputFile], requestId);
  const staged = await stageOutputs(plan, [{ path: plan.paths[0]!, content: { fill: (tmp: string) => kms.keystore.snapshotInto(tmp) } }]);
  const file = staged.files[0]!;
  await recordStaged(kms, staged, (tx) =>
    appendAudit(tx, { requestId, operation: 'BackupKeystore', details: { OutputFile: input.OutputFile, Sha256: file.sha256, OutputFiles: outputFilesDetail([file]) } }, now(kms)),
  );
  await publishRecorded(kms, staged, { requestId, operation: 'BackupKeystore' });
  return { OutputFile: input.OutputFile, Sha256: file.sha256, ...staleReport(plan) };
}

export async function verifyAuditLog(session: Session, input: OperationInput<'VerifyAuditLog'> = {}): Promise<OperationOutput<'VerifyAuditLog'>> {
  const anchor = await tokenAnchor(session);
  return session.kms.keystore.read(async (db) => {
    const verdict = await verifyAuditChain(db, { expectedHeadHash: input.ExpectedHeadHash, anchor });
    const unpublished = await listUnpublished(db);
    return unpublished.length > 0 ? { ...verdict, Unpublished: unpublished } : verdict;
  });
}

/** The log as JSON lines, staged, recorded (file, entries, SHA-256), then published. */
export async function exportAuditLog(session: Session, input: OperationInput<'ExportAuditLog'>, requestId: string): Promise<OperationOutput<'ExportAuditLog'>> {
  const kms = session.kms;
  const plan = await planRecordedOutputs(kms, [input.OutputFile], requestId);
  let entries = 0;
  const staged = await stageOutputs(plan, [
    {
      path: plan.paths[0]!,
      content: {
        write: async (handle: FileHandle) => {
          entries = (await kms.keystore.read((db) => writeAuditLines(db, handle))).entries;
        },
      },
    },
  ]);
  const file = staged.files[0]!;
  await recordStaged(kms, staged, (tx) =>
    appendAudit(tx, { requestId, operation: 'ExportAuditLog', details: { OutputFile: input.OutputFile, Entries: entries, Sha256: file.sha256, OutputFiles: outputFilesDetail([file]) } }, now(kms)),
  );
  await publishRecorded(kms, staged, { requestId, operation: 'ExportAuditLog' });
  return { OutputFile: input.OutputFile, Entries: entries, Sha256: file.sha256, ...staleReport(plan) };
}

export async function listAuditEvents(session: Session, input: OperationInput<'ListAuditEvents'>): Promise<OperationOutput<'ListAuditEvents'>> {
  const { pageNumber, pageSize, offset } = paging(input);
  const filter = { ...(input.Operation ? { operation: input.Operation } : {}), ...(input.KeyId ? { keyId: input.KeyId } : {}) };
  const { total, events } = await session.kms.keystore.read((db) => readAuditEvents(db, filter, { limit: pageSize, offset }));
  return { Events: events, TotalCount: total, PageNumber: pageNumber, PageSize: pageSize };
}
