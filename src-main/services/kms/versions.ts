/** Key versions: CreateKeyVersion (new primary for symmetric keys, a new pair for asymmetric), describe, list. */
import { randomUUID } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { isAsymmetric } from '../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import { appendAudit } from '../audit/auditLog';
import { insertVersion, listVersions, nextVersionSeq, updateKey, type KeyRow } from '../../keystore/repository';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import { backendFor, keyVersionOf, loadVersion, requireState, resolveKey, paging } from './keyAccess';
import { now, type KmsContext } from './context';
import { wipe } from '../../crypto/wipe';
import { discardGenerated } from './discardGenerated';

function checkCanVersion(key: KeyRow): void {
  if (key.origin === 'EXTERNAL') {
    throw new KmsError('Rejected.Origin', `Key ${key.key_id} has imported material and cannot get new versions; rotate it through an alias instead.`);
  }
  requireState(key, ['Enabled'], 'get a new version');
}

/**
 * Adds a version inside the caller's transaction. The material is generated before the
 * transaction by `createKeyVersion`; automatic rotation (a later issue) reuses this.
 */
export async function addVersion(
  ctx: KmsContext,
  tx: SqlExecutor,
  key: KeyRow,
  requestId: string,
  operation: string,
  material: { keyVersionId: string; material: Buffer | null; publicKey: Buffer | null; hsmObjectId: Buffer | null },
): Promise<{ KeyId: string; KeyVersionId: string; CreationDate: string }> {
  const created = now(ctx);
  await insertVersion(tx, {
    key_version_id: material.keyVersionId,
    key_id: key.key_id,
    creation_date: created,
    seq: await nextVersionSeq(tx, key.key_id),
    material: material.material,
    public_key: material.publicKey,
    hsm_object_id: material.hsmObjectId,
  });
  await updateKey(tx, key.key_id, {
    last_rotation_date: created,
    ...(isAsymmetric(key.key_spec) ? {} : { primary_key_version: material.keyVersionId }),
  });
  await appendAudit(tx, { requestId, operation, keyId: key.key_id, keyVersionId: material.keyVersionId }, created);
  return { KeyId: key.key_id, KeyVersionId: material.keyVersionId, CreationDate: created };
}

export async function createKeyVersion(ctx: KmsContext, input: OperationInput<'CreateKeyVersion'>, requestId: string): Promise<OperationOutput<'CreateKeyVersion'>> {
  // Check first, generate outside the transaction (RSA-4096 takes seconds), then re-check inside it.
  const before = await ctx.keystore.read((db) => resolveKey(db, input.KeyId));
  checkCanVersion(before);
  const keyVersionId = randomUUID();
  const backend = backendFor(ctx, before);
  const generated = await backend.generate(before.key_spec, {
    exportable: before.exportable === 1,
    keyId: before.key_id,
    keyVersionId,
    usage: before.key_usage,
  });
  try {
    const version = await ctx.keystore.transaction(async (tx) => {
      const key = await resolveKey(tx, before.key_id);
      checkCanVersion(key);
      return addVersion(ctx, tx, key, requestId, 'CreateKeyVersion', { keyVersionId, ...generated });
    });
    return { KeyVersion: version };
  } catch (e) {
    await discardGenerated(backend, before, keyVersionId, generated);
    throw e;
  } finally {
    wipe(generated.material);
  }
}

export async function describeKeyVersion(ctx: KmsContext, input: OperationInput<'DescribeKeyVersion'>): Promise<OperationOutput<'DescribeKeyVersion'>> {
  return ctx.keystore.read(async (db) => {
    const key = await resolveKey(db, input.KeyId);
    return { KeyVersion: keyVersionOf(await loadVersion(db, key, input.KeyVersionId)) };
  });
}

export async function listKeyVersions(ctx: KmsContext, input: OperationInput<'ListKeyVersions'>): Promise<OperationOutput<'ListKeyVersions'>> {
  const { pageNumber, pageSize, offset } = paging(input);
  return ctx.keystore.read(async (db) => {
    const key = await resolveKey(db, input.KeyId);
    const all = await listVersions(db, key.key_id);
    const page = all.slice(offset, offset + pageSize);
    return { KeyVersions: { KeyVersion: page.map(keyVersionOf) }, TotalCount: all.length, PageNumber: pageNumber, PageSize: pageSize };
  });
}
