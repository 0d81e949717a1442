/** Aliases: unique names that point at one key each; a key may have many. */
import { KmsError } from '../../../src-shared/errors';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import type { AliasEntry } from '../../../src-shared/contract/types';
import { aliasHistory, appendAudit } from '../audit/auditLog';
import { deleteAlias as deleteAliasRow, getAlias, insertAlias, listAliases as listAliasRows, rebindAlias, type AliasRow } from '../../keystore/repository';
import { resolveKey, paging } from './keyAccess';
import { now, type KmsContext } from './context';

function aliasEntry(a: AliasRow): AliasEntry {
  return { AliasName: a.alias_name, KeyId: a.key_id, CreationDate: a.creation_date, UpdateDate: a.update_date };
}

function targetKeyId(keyId: string): string {
  // An alias may not point at another alias: it names one key.
  if (keyId.startsWith('alias/')) throw new KmsError('InvalidParameter', 'Give the KeyId the alias should point at, not another alias.');
  return keyId;
}

export async function createAlias(ctx: KmsContext, input: OperationInput<'CreateAlias'>, requestId: string): Promise<OperationOutput<'CreateAlias'>> {
  await ctx.keystore.transaction(async (tx) => {
    const key = await resolveKey(tx, targetKeyId(input.KeyId));
    if (await getAlias(tx, input.AliasName)) {
      throw new KmsError('AlreadyExists.Alias', `${input.AliasName} already exists; UpdateAlias points it at another key.`);
    }
    const when = now(ctx);
    await insertAlias(tx, { alias_name: input.AliasName, key_id: key.key_id, creation_date: when, update_date: when });
    await appendAudit(tx, { requestId, operation: 'CreateAlias', keyId: key.key_id, details: { AliasName: input.AliasName } }, when);
  });
  return {};
}

export async function updateAlias(ctx: KmsContext, input: OperationInput<'UpdateAlias'>, requestId: string): Promise<OperationOutput<'UpdateAlias'>> {
  await ctx.keystore.transaction(async (tx) => {
    const alias = await getAlias(tx, input.AliasName);
    if (!alias) throw new KmsError('NotFound.Alias', `No alias ${input.AliasName}; CreateAlias makes it.`);
    const key = await resolveKey(tx, targetKeyId(input.KeyId));
    const when = now(ctx);
    await rebindAlias(tx, input.AliasName, key.key_id, when);
    await appendAudit(
      tx,
      { requestId, operation: 'UpdateAlias', keyId: key.key_id, details: { AliasName: input.AliasName, PreviousKeyId: alias.key_id } },
      when,
    );
  });
  return {};
}

export async function deleteAlias(ctx: KmsContext, input: OperationInput<'DeleteAlias'>, requestId: string): Promise<OperationOutput<'DeleteAlias'>> {
  await ctx.keystore.transaction(async (tx) => {
    const alias = await getAlias(tx, input.AliasName);
    if (!alias) throw new KmsError('NotFound.Alias', `No alias ${input.AliasName}; ListAliases shows the aliases.`);
    await deleteAliasRow(tx, input.AliasName);
    await appendAudit(tx, { requestId, operation: 'DeleteAlias', keyId: alias.key_id, details: { AliasName: input.AliasName } }, now(ctx));
  });
  return {};
}

export async function listAliases(ctx: KmsContext, input: OperationInput<'ListAliases'>): Promise<OperationOutput<'ListAliases'>> {
  const { pageNumber, pageSize, offset } = paging(input);
  const { rows, total } = await ctx.keystore.read((db) => listAliasRows(db, null, pageSize, offset));
  return { Aliases: { Alias: rows.map(aliasEntry) }, TotalCount: total, PageNumber: pageNumber, PageSize: pageSize };
}

export async function listAliasesByKeyId(ctx: KmsContext, input: OperationInput<'ListAliasesByKeyId'>): Promise<OperationOutput<'ListAliasesByKeyId'>> {
  const { pageNumber, pageSize, offset } = paging(input);
  const { rows, total } = await ctx.keystore.read(async (db) => {
    const key = await resolveKey(db, input.KeyId);
    return listAliasRows(db, key.key_id, pageSize, offset);
  });
  return { Aliases: { Alias: rows.map(aliasEntry) }, TotalCount: total, PageNumber: pageNumber, PageSize: pageSize };
}

/** The alias's past, from the audit log: each time it was created, moved (by hand or by rotation) or deleted. */
export async function getAliasHistory(ctx: KmsContext, input: OperationInput<'GetAliasHistory'>): Promise<OperationOutput<'GetAliasHistory'>> {
  const events = await ctx.keystore.read((db) => aliasHistory(db, input.AliasName));
  return {
    AliasName: input.AliasName,
    History: events.map((e) => ({
      Time: e.Time,
      Operation: e.Operation,
      RequestId: e.RequestId,
      ...(e.KeyId ? { KeyId: e.KeyId } : {}),
      ...(typeof e.Details.PreviousKeyId === 'string' ? { PreviousKeyId: e.Details.PreviousKeyId } : {}),
    })),
  };
}
