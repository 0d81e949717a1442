/** Key lifecycle: create, describe, list, enable/disable, deletion window, description, rotation policy. */
import { randomUUID } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { KEY_SPEC_INFO, defaultKeyUsage, isSymmetric } from '../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import { appendAudit } from '../audit/auditLog';
import { countKeys, insertKey, insertVersion, listKeyIds, updateKey, versionHasMaterial, type KeyRow } from '../../keystore/repository';
import { backendFor, keyMetadata, loadPrimaryVersion, requireState, resolveKey, paging } from './keyAccess';
import type { NewMaterial } from '../../backends/backend';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import { DAY_MS, isoTime, now, type KmsContext } from './context';
import { parseRotationInterval } from './rotationInterval';
import { wipe } from '../../crypto/wipe';
import { discardGenerated } from './discardGenerated';
import { UNCONTROLLED, throwIfCancelled, type OperationControl } from '../operationControl';

const EXTERNAL_SPECS = ['AES_256', 'SM4'] as const;

function checkCreateRequest(input: OperationInput<'CreateKey'>): Omit<KeyRow, 'key_id' | 'creation_date' | 'creator' | 'primary_key_version' | 'last_rotation_date'> {
  const spec = input.KeySpec ?? 'AES_256';
  const info = KEY_SPEC_INFO[spec];
  const usage = input.KeyUsage ?? defaultKeyUsage(spec);
  if (!info.usages.includes(usage)) {
    throw new KmsError('InvalidParameter.KeyUsage', `A ${spec} key can be ${info.usages.join(' or ')}, not ${usage}.`);
  }
  const level = input.ProtectionLevel ?? 'SOFTWARE';
  if (!info.protectionLevels.includes(level)) {
    throw new KmsError(
      'InvalidParameter.ProtectionLevel',
      `A ${spec} key cannot be made with ProtectionLevel ${level}; use ${info.protectionLevels.join(' or ')}.`,
    );
  }
  // ECIES needs the raw ECDH secret for its KDF, which a token keeps inside: refuse up front
  // rather than make a key that can never decrypt.
  if (level === 'HSM' && info.family === 'EC' && usage === 'ENCRYPT/DECRYPT') {
    throw new KmsError('Hsm.MechanismUnsupported', `${spec} keys for ECIES encryption cannot live in an HSM; make a SOFTWARE key, or an HSM key with KeyUsage SIGN/VERIFY.`);
  }
  const origin = input.Origin ?? 'Aliyun_KMS';
  if (origin === 'EXTERNAL' && level === 'HSM') {
    // Imported material would sit in the keystore, not in the token: not an HSM key.
    throw new KmsError('InvalidParameter.ProtectionLevel', 'Key material cannot be imported into an HSM key yet; import it into a SOFTWARE key.');
  }
  if (origin === 'EXTERNAL' && !(EXTERNAL_SPECS as readonly string[]).includes(spec)) {
    throw new KmsError('InvalidParameter.Origin', `Key material can be imported for ${EXTERNAL_SPECS.join(' and ')} keys only, not ${spec}.`);
  }
  let rotationInterval: number | null = null;
  if (input.RotationInterval !== undefined) rotationInterval = parseRotationInterval(input.RotationInterval);
  const rotate = input.EnableAutomaticRotation === true;
  if (rotate) {
    if (!isSymmetric(spec)) throw new KmsError('InvalidParameter.RotationInterval', 'Automatic rotation is for symmetric keys (AES_256, SM4) only.');
    if (origin === 'EXTERNAL') throw new KmsError('InvalidParameter.Origin', 'Keys with imported material cannot rotate automatically; rotate them through an alias.');
    rotationInterval ??= 365 * 86400;
  }
  return {
    key_spec: spec,
    key_usage: usage,
    origin,
    protection_level: level,
    description: input.Description ?? '',
    key_state: origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
    delete_date: null,
    material_expire_time: null,
    exportable: input.Exportable ? 1 : 0,
    rotation_status: rotate ? 'Enabled' : 'Disabled',
    rotation_interval: rotationInterval,
    material_binding: null,
    token_serial: null,
  };
}

/**
 * Generation can take seconds (RSA-4096, a slow token), so the caller may cancel it: the signal
 * is checked before generating, after, and inside the transaction just before its commit; a
 * cancelled call destroys what the backend made, wipes the material and writes nothing.
 */
/** A new key's row and its first version (material null for an EXTERNAL key awaiting import). */
export async function recordNewKey(tx: SqlExecutor, key: KeyRow, keyVersionId: string, material: Omit<NewMaterial, 'tokenSerial'>): Promise<void> {
  await insertKey(tx, key);
  await insertVersion(tx, {
    key_version_id: keyVersionId,
    key_id: key.key_id,
    creation_date: key.creation_date,
    seq: 1,
    material: material.material,
    public_key: material.publicKey,
    hsm_object_id: material.hsmObjectId,
  });
}

export async function createKey(
  ctx: KmsContext,
  input: OperationInput<'CreateKey'>,
  requestId: string,
  control: OperationControl = UNCONTROLLED,
): Promise<OperationOutput<'CreateKey'>> {
  const base = checkCreateRequest(input);
  const keyId = randomUUID();
  const keyVersionId = randomUUID();
  const created = now(ctx);
  const key: KeyRow = {
    ...base,
    key_id: keyId,
    creation_date: created,
    creator: ctx.creator,
    primary_key_version: isSymmetric(base.key_spec) || KEY_SPEC_INFO[base.key_spec].family === 'HMAC' ? keyVersionId : null,
    last_rotation_date: created,
  };
  const backend = backendFor(ctx, key);
  throwIfCancelled(control, 'CreateKey');
  control.progress({ Phase: 'Generating' });
  // EXTERNAL keys start without material (PendingImport); everything else gets its first version now.
  const material =
    base.origin === 'EXTERNAL'
      ? { material: null, publicKey: null, hsmObjectId: null }
      : await backend.generate(base.key_spec, { exportable: base.exportable === 1, keyId, keyVersionId, usage: base.key_usage });
  key.token_serial = material.tokenSerial ?? null;
  try {
    throwIfCancelled(control, 'CreateKey');
    control.progress({ Phase: 'Writing' });
    await ctx.keystore.transaction(async (tx) => {
      await recordNewKey(tx, key, keyVersionId, material);
      await appendAudit(tx, {
        requestId,
        operation: 'CreateKey',
        keyId,
        keyVersionId,
        details: { KeySpec: key.key_spec, KeyUsage: key.key_usage, Origin: key.origin, ProtectionLevel: key.protection_level, Exportable: key.exportable === 1 },
      }, created);
      // The last moment a cancel is honoured: throwing here rolls the writes back.
      throwIfCancelled(control, 'CreateKey');
    });
  } catch (e) {
    // No token objects without their keystore record (a failed write, or a cancel).
    await discardGenerated(backend, key, keyVersionId, material);
    throw e;
  } finally {
    wipe(material.material);
  }
  return { KeyMetadata: keyMetadata(key) };
}

export async function describeKey(ctx: KmsContext, input: OperationInput<'DescribeKey'>): Promise<OperationOutput<'DescribeKey'>> {
  const key = await ctx.keystore.read((db) => resolveKey(db, input.KeyId));
  return { KeyMetadata: keyMetadata(key) };
}

export async function listKeys(ctx: KmsContext, input: OperationInput<'ListKeys'>): Promise<OperationOutput<'ListKeys'>> {
  const { pageNumber, pageSize, offset } = paging(input);
  return ctx.keystore.read(async (db) => {
    const total = await countKeys(db);
    const ids = await listKeyIds(db, pageSize, offset);
    return { Keys: { Key: ids.map((KeyId) => ({ KeyId })) }, TotalCount: total, PageNumber: pageNumber, PageSize: pageSize };
  });
}

/** One state change of one key, with its audit entry, in one transaction. */
async function changeKey(
  ctx: KmsContext,
  keyIdOrAlias: string,
  requestId: string,
  operation: string,
  change: (key: KeyRow, tx: SqlExecutor) => Partial<KeyRow> | Promise<Partial<KeyRow>>,
  details: Record<string, string | number | boolean | null> = {},
): Promise<KeyRow> {
  return ctx.keystore.transaction(async (tx) => {
    const key = await resolveKey(tx, keyIdOrAlias);
    const patch = await change(key, tx);
    await updateKey(tx, key.key_id, patch);
    await appendAudit(tx, { requestId, operation, keyId: key.key_id, details }, now(ctx));
    return { ...key, ...patch };
  });
}

export async function enableKey(ctx: KmsContext, input: OperationInput<'EnableKey'>, requestId: string): Promise<OperationOutput<'EnableKey'>> {
  await changeKey(ctx, input.KeyId, requestId, 'EnableKey', (key) => {
    requireState(key, ['Enabled', 'Disabled'], 'be enabled');
    return { key_state: 'Enabled' };
  });
  return {};
}

export async function disableKey(ctx: KmsContext, input: OperationInput<'DisableKey'>, requestId: string): Promise<OperationOutput<'DisableKey'>> {
  await changeKey(ctx, input.KeyId, requestId, 'DisableKey', (key) => {
    requireState(key, ['Enabled', 'Disabled'], 'be disabled');
    return { key_state: 'Disabled' };
  });
  return {};
}

export async function scheduleKeyDeletion(
  ctx: KmsContext,
  input: OperationInput<'ScheduleKeyDeletion'>,
  requestId: string,
): Promise<OperationOutput<'ScheduleKeyDeletion'>> {
  const days = input.PendingWindowInDays ?? 30;
  const deleteDate = isoTime(new Date(ctx.clock().getTime() + days * DAY_MS));
  const key = await changeKey(
    ctx,
    input.KeyId,
    requestId,
    'ScheduleKeyDeletion',
    (k) => {
      requireState(k, ['Enabled', 'Disabled', 'PendingImport'], 'be scheduled for deletion');
      return { key_state: 'PendingDeletion', delete_date: deleteDate };
    },
    { PendingWindowInDays: days, DeleteDate: deleteDate },
  );
  return { KeyId: key.key_id, DeleteDate: deleteDate };
}

export async function cancelKeyDeletion(ctx: KmsContext, input: OperationInput<'CancelKeyDeletion'>, requestId: string): Promise<OperationOutput<'CancelKeyDeletion'>> {
  await changeKey(ctx, input.KeyId, requestId, 'CancelKeyDeletion', async (key, tx) => {
    if (key.key_state !== 'PendingDeletion') {
      throw new KmsError('Rejected.KeyState', `Key ${key.key_id} is ${key.key_state}, not PendingDeletion: there is no deletion to cancel.`);
    }
    // As in the reference the key returns to Enabled; an EXTERNAL key without material cannot be.
    const hasMaterial = key.origin !== 'EXTERNAL' || (await versionHasMaterial(tx, (await loadPrimaryVersion(tx, key)).key_version_id));
    return { key_state: hasMaterial ? 'Enabled' : 'PendingImport', delete_date: null };
  });
  return {};
}

export async function updateKeyDescription(
  ctx: KmsContext,
  input: OperationInput<'UpdateKeyDescription'>,
  requestId: string,
): Promise<OperationOutput<'UpdateKeyDescription'>> {
  await changeKey(ctx, input.KeyId, requestId, 'UpdateKeyDescription', () => ({ description: input.Description }));
  return {};
}

export async function updateRotationPolicy(
  ctx: KmsContext,
  input: OperationInput<'UpdateRotationPolicy'>,
  requestId: string,
): Promise<OperationOutput<'UpdateRotationPolicy'>> {
  const interval = input.RotationInterval !== undefined ? parseRotationInterval(input.RotationInterval) : undefined;
  await changeKey(
    ctx,
    input.KeyId,
    requestId,
    'UpdateRotationPolicy',
    (key) => {
      if (!isSymmetric(key.key_spec)) throw new KmsError('Rejected.KeySpec', `Automatic rotation is for symmetric keys (AES_256, SM4), not ${key.key_spec}.`);
      if (key.origin === 'EXTERNAL') throw new KmsError('Rejected.Origin', 'Keys with imported material cannot rotate automatically; rotate them through an alias.');
      if (!input.EnableAutomaticRotation) return { rotation_status: 'Disabled', ...(interval ? { rotation_interval: interval } : {}) };
      return { rotation_status: 'Enabled', rotation_interval: interval ?? key.rotation_interval ?? 365 * 86400 };
    },
    { EnableAutomaticRotation: input.EnableAutomaticRotation, RotationInterval: interval ?? null },
  );
  return {};
}
