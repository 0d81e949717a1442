/**
 * Orphan HSM keys. CreateKey (and CreateKeyVersion) generate on the token first and then commit
 * the keystore row; a crash in between leaves key objects labelled keyroom/<KeyId>/<KeyVersionId>
 * that no key version names. They are found by comparing the token's keyroom/ objects with the
 * keystore, and removed only by an explicit, audited DeleteOrphanHsmKey that refuses anything a
 * key version still names (by CKA_ID, or by the KeyVersionId in the label).
 */
import { KmsError } from '../../../src-shared/errors';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import type { OrphanHsmKey } from '../../../src-shared/contract/types';
import type { KeyBackend, KeyroomTokenObject } from '../../backends/backend';
import { hsmVersionRefs, versionNamingHsmObject } from '../../keystore/repository';
import { appendAudit } from '../audit/auditLog';
import { now, type KmsContext } from './context';

const NOTE =
  'An orphan is a key object on this token with a keyroom/ label that no key version in this keystore names, ' +
  'as a crash between generating a key on the token and recording it leaves behind. Another keystore that shares ' +
  'the token has its own keys there, and they show here as orphans too: delete only objects whose KeyId this ' +
  'keystore\'s audit log shows as a CreateKey or CreateKeyVersion that never completed.';

type TokenBackend = Required<Pick<KeyBackend, 'listKeyroomObjects' | 'destroyKeyroomObjects'>>;

function tokenBackend(kms: KmsContext): TokenBackend {
  const b = kms.backends.HSM;
  if (!b?.listKeyroomObjects || !b.destroyKeyroomObjects) {
    throw new KmsError('Hsm.NotConfigured', 'No PKCS#11 token is configured for this session: give --pkcs11-module (or KEYROOM_PKCS11_MODULE) and log in to the token.');
  }
  return b as TokenBackend;
}

/** The objects grouped by CKA_ID: a key pair is one orphan with two objects. */
function byObjectId(objects: readonly KeyroomTokenObject[]): OrphanHsmKey[] {
  const groups = new Map<string, OrphanHsmKey>();
  for (const o of objects) {
    const hex = o.objectId.toString('hex');
    const g = groups.get(hex) ?? {
      ObjectId: hex,
      Label: o.label,
      ...(o.keyId ? { KeyId: o.keyId } : {}),
      ...(o.keyVersionId ? { KeyVersionId: o.keyVersionId } : {}),
      Objects: [],
    };
    if (!g.Objects.includes(o.objectClass)) g.Objects.push(o.objectClass);
    groups.set(hex, g);
  }
  for (const g of groups.values()) g.Objects.sort();
  return [...groups.values()];
}

export async function listOrphanHsmKeys(kms: KmsContext): Promise<OperationOutput<'ListOrphanHsmKeys'>> {
  const { token, objects } = await tokenBackend(kms).listKeyroomObjects();
  const refs = await kms.keystore.read((db) => hsmVersionRefs(db));
  const ids = new Set(refs.map((r) => r.hsm_object_id.toString('hex')));
  const versions = new Set(refs.map((r) => r.key_version_id));
  const orphans = byObjectId(objects).filter((g) => !ids.has(g.ObjectId) && !(g.KeyVersionId && versions.has(g.KeyVersionId)));
  return { Token: { Label: token.label, SerialNumber: token.serial }, KeyroomObjects: objects.length, OrphanHsmKeys: orphans, Note: NOTE };
}

/** The one group of keyroom/ objects the input names (by CKA_ID or by label), or KmsError. */
function named(groups: OrphanHsmKey[], input: OperationInput<'DeleteOrphanHsmKey'>, token: string): OrphanHsmKey {
  if (input.ObjectId === undefined && input.Label === undefined) {
    throw new KmsError('MissingParameter', 'Give ObjectId (the CKA_ID in hex, as ListOrphanHsmKeys shows it) or Label.');
  }
  if (input.ObjectId !== undefined && input.Label !== undefined) {
    throw new KmsError('InvalidParameter', 'Give ObjectId or Label, not both: each names the objects on its own.');
  }
  const matches = input.ObjectId !== undefined ? groups.filter((g) => g.ObjectId === input.ObjectId!.toLowerCase()) : groups.filter((g) => g.Label === input.Label);
  if (matches.length === 0) {
    const what = input.ObjectId !== undefined ? `CKA_ID ${input.ObjectId}` : `label ${input.Label}`;
    throw new KmsError('Hsm.KeyNotFound', `Token ${token} holds no key object with a keyroom/ label and ${what} (CKR_OBJECT_HANDLE_INVALID); ListOrphanHsmKeys shows what it holds.`);
  }
  if (matches.length > 1) {
    throw new KmsError('InvalidParameter', `Label ${input.Label} is on objects with ${matches.length} different CKA_IDs (${matches.map((m) => m.ObjectId).join(', ')}); give the ObjectId of the one to delete.`);
  }
  return matches[0]!;
}

/**
 * Destroy the named orphan's objects on the token and record it, in one keystore transaction
 * that first checks (inside it) that no key version names them: a key that is in the keystore
 * is deleted with ScheduleKeyDeletion, never here.
 */
export async function deleteOrphanHsmKey(kms: KmsContext, input: OperationInput<'DeleteOrphanHsmKey'>, requestId: string): Promise<OperationOutput<'DeleteOrphanHsmKey'>> {
  const backend = tokenBackend(kms);
  const { token, objects } = await backend.listKeyroomObjects();
  const tokenName = `"${token.label}" (serial ${token.serial})`;
  const orphan = named(byObjectId(objects), input, tokenName);
  const objectId = Buffer.from(orphan.ObjectId, 'hex');
  return kms.keystore.transaction(async (tx) => {
    const row = await versionNamingHsmObject(tx, objectId, orphan.KeyVersionId ? [orphan.KeyVersionId] : []);
    if (row) {
      throw new KmsError(
        'Rejected.NotOrphan',
        `The key object ${orphan.Label} (CKA_ID ${orphan.ObjectId}) on token ${tokenName} belongs to key ${row.key_id}, version ${row.key_version_id}, in this keystore; nothing was destroyed. To delete that key, use ScheduleKeyDeletion.`,
      );
    }
    // Token first, then the record, as dueWork.ts does: if the commit then fails, the objects are
    // gone and the next ListOrphanHsmKeys no longer shows them (harmless).
    const destroyed = await backend.destroyKeyroomObjects(objectId);
    if (destroyed.length === 0) throw new KmsError('Hsm.KeyNotFound', `The key object ${orphan.Label} (CKA_ID ${orphan.ObjectId}) left token ${tokenName} before it could be destroyed.`);
    const deleted = byObjectId(destroyed)[0]!;
    await appendAudit(
      tx,
      {
        requestId,
        operation: 'DeleteOrphanHsmKey',
        keyId: deleted.KeyId ?? null,
        keyVersionId: deleted.KeyVersionId ?? null,
        details: { ObjectId: deleted.ObjectId, Label: deleted.Label, Objects: deleted.Objects.join(','), TokenLabel: token.label, TokenSerialNumber: token.serial },
      },
      now(kms),
    );
    return { Token: { Label: token.label, SerialNumber: token.serial }, Deleted: deleted };
  });
}
