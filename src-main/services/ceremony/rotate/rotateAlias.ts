/**
 * RotateAlias: manual rotation as the reference describes it. A new key with the same KeySpec,
 * KeyUsage, ProtectionLevel, Exportable flag and rotation policy (for HSM keys, on the same token)
 * is made, and the alias moves to it, in one keystore transaction with one audit entry; the
 * previous key is optionally disabled or scheduled for deletion in the same transaction.
 * Ciphertext made under the previous key still decrypts (decryption needs no KeyId). An
 * EXTERNAL key's successor is EXTERNAL and PendingImport: its material is imported next.
 *
 * The material is generated before the transaction (RSA-4096 takes seconds; a token call must not
 * hold the keystore); if anything after that fails, the generated token objects are destroyed, so
 * the alias never points at a key that was not created and no orphan is left on the token.
 */
import { randomUUID } from 'node:crypto';
import { KmsError } from '../../../../src-shared/errors';
import { isAsymmetric } from '../../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import { getAlias, rebindAlias, updateKey, type KeyRow } from '../../../keystore/repository';
import { recordNewKey } from '../../kms/keys';
import { wipe } from '../../../crypto/wipe';
import { appendAudit } from '../../audit/auditLog';
import { backendFor, keyMetadata, requireState, resolveKey } from '../../kms/keyAccess';
import { discardGenerated } from '../../kms/discardGenerated';
import { DAY_MS, isoTime, type KmsContext } from '../../kms/context';

/** What rotation leaves the previous key as. */
function previousPatch(input: OperationInput<'RotateAlias'>, at: Date): Partial<KeyRow> {
  if (input.SchedulePreviousDeletionInDays !== undefined) {
    return { key_state: 'PendingDeletion', delete_date: isoTime(new Date(at.getTime() + input.SchedulePreviousDeletionInDays * DAY_MS)) };
  }
  if (input.DisablePrevious) return { key_state: 'Disabled' };
  return {};
}

export async function rotateAlias(ctx: KmsContext, input: OperationInput<'RotateAlias'>, requestId: string): Promise<OperationOutput<'RotateAlias'>> {
  if (input.DisablePrevious && input.SchedulePreviousDeletionInDays !== undefined) {
    throw new KmsError('InvalidParameter', 'Choose one for the previous key: DisablePrevious, or SchedulePreviousDeletionInDays (which disables it too, until it is destroyed).');
  }
  const previous = await ctx.keystore.read(async (db) => {
    const alias = await getAlias(db, input.AliasName);
    if (!alias) throw new KmsError('NotFound.Alias', `No alias ${input.AliasName}; CreateAlias makes one, ListAliases shows them.`);
    return resolveKey(db, alias.key_id);
  });
  // A rotation replaces a key in use; one that is already on its way out is not rotated from.
  requireState(previous, ['Enabled', 'Disabled', 'PendingImport'], 'be rotated from');

  const keyId = randomUUID();
  const keyVersionId = randomUUID();
  const at = ctx.clock();
  const created = isoTime(at);
  const external = previous.origin === 'EXTERNAL';
  const symmetricLike = !isAsymmetric(previous.key_spec);
  const key: KeyRow = {
    key_id: keyId,
    key_spec: previous.key_spec,
    key_usage: previous.key_usage,
    origin: previous.origin,
    protection_level: previous.protection_level,
    description: input.Description ?? `Rotated from ${previous.key_id} for ${input.AliasName}${previous.description ? ` (was: ${previous.description})` : ''}`.slice(0, 8192),
    creation_date: created,
    creator: ctx.creator,
    key_state: external ? 'PendingImport' : 'Enabled',
    primary_key_version: symmetricLike ? keyVersionId : null,
    delete_date: null,
    material_expire_time: null,
    exportable: previous.exportable,
    rotation_status: previous.rotation_status,
    rotation_interval: previous.rotation_interval,
    last_rotation_date: created,
    material_binding: null,
    token_serial: null,
  };
  const backend = backendFor(ctx, key);
  const material = external
    ? { material: null, publicKey: null, hsmObjectId: null }
    : await backend.generate(key.key_spec, { exportable: key.exportable === 1, keyId, keyVersionId, usage: key.key_usage });
  key.token_serial = material.tokenSerial ?? null;
  try {
    if (previous.protection_level === 'HSM' && previous.token_serial && key.token_serial !== previous.token_serial) {
      throw new KmsError(
        'Hsm.TokenNotPresent',
        `${input.AliasName}'s key lives on the token with serial ${previous.token_serial}; the token logged in now is ${key.token_serial ?? 'another'}. Log in to that token and rotate again.`,
      );
    }
    const patch = previousPatch(input, at);
    await ctx.keystore.transaction(async (tx) => {
      // Checked again inside the transaction: the alias must still name the key we rotate from.
      const alias = await getAlias(tx, input.AliasName);
      if (!alias || alias.key_id !== previous.key_id) {
        throw new KmsError('Rejected.KeyState', `${input.AliasName} moved while the new key was being made; look at it again and rotate again.`);
      }
      await recordNewKey(tx, key, keyVersionId, material);
      await rebindAlias(tx, input.AliasName, keyId, created);
      if (Object.keys(patch).length) await updateKey(tx, previous.key_id, patch);
      await appendAudit(
        tx,
        {
          requestId,
          operation: 'RotateAlias',
          keyId,
          keyVersionId,
          details: {
            AliasName: input.AliasName,
            PreviousKeyId: previous.key_id,
            KeySpec: key.key_spec,
            ProtectionLevel: key.protection_level,
            Origin: key.origin,
            PreviousKeyState: patch.key_state ?? previous.key_state,
            PreviousDeleteDate: patch.delete_date ?? null,
          },
        },
        created,
      );
    });
  } catch (e) {
    await discardGenerated(backend, key, keyVersionId, material);
    throw e;
  } finally {
    wipe(material.material);
  }
  const out: OperationOutput<'RotateAlias'> = { AliasName: input.AliasName, PreviousKeyId: previous.key_id, KeyId: keyId, KeyMetadata: keyMetadata(key) };
  const p = previousPatch(input, at);
  if (p.key_state) out.PreviousKeyState = p.key_state;
  if (p.delete_date) out.PreviousDeleteDate = p.delete_date;
  return out;
}
