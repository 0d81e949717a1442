/** Operations on the keystore as a whole: create, re-key, back up, and the audit log's checks. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { OperationInput, OperationOutput } from '../../src-shared/contract/operations';
import { SCHEMA_VERSION } from '../keystore/schema';
import { appendAudit, exportAuditLog as exportAudit, listAuditEvents as readAuditEvents, verifyAuditChain } from './audit/auditLog';
import { now } from './kms/context';
import { paging } from './kms/keyAccess';
import { wipe } from '../crypto/wipe';
import type { Session } from './session';

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

export async function backupKeystore(session: Session, input: OperationInput<'BackupKeystore'>, requestId: string): Promise<OperationOutput<'BackupKeystore'>> {
  const kms = session.kms;
  await kms.keystore.backup(input.OutputFile);
  const sha256 = createHash('sha256').update(await readFile(input.OutputFile)).digest('hex');
  await kms.keystore.transaction((tx) =>
    appendAudit(tx, { requestId, operation: 'BackupKeystore', details: { OutputFile: input.OutputFile, Sha256: sha256 } }, now(kms)),
  );
  return { OutputFile: input.OutputFile, Sha256: sha256 };
}

export async function verifyAuditLog(session: Session): Promise<OperationOutput<'VerifyAuditLog'>> {
  return session.kms.keystore.read((db) => verifyAuditChain(db));
}

export async function exportAuditLog(session: Session, input: OperationInput<'ExportAuditLog'>): Promise<OperationOutput<'ExportAuditLog'>> {
  const r = await session.kms.keystore.read((db) => exportAudit(db, input.OutputFile));
  return { OutputFile: input.OutputFile, Entries: r.entries, Sha256: r.sha256 };
}


export async function listAuditEvents(session: Session, input: OperationInput<'ListAuditEvents'>): Promise<OperationOutput<'ListAuditEvents'>> {
  const { pageNumber, pageSize, offset } = paging(input);
  const filter = { ...(input.Operation ? { operation: input.Operation } : {}), ...(input.KeyId ? { keyId: input.KeyId } : {}) };
  const { total, events } = await session.kms.keystore.read((db) => readAuditEvents(db, filter, { limit: pageSize, offset }));
  return { Events: events, TotalCount: total, PageNumber: pageNumber, PageSize: pageSize };
}
