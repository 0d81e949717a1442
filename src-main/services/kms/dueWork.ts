/**
 * An offline keystore has no scheduler: whatever fell due is carried out when it opens and
 * before every operation while it stays open (a ceremony can outlast a short expiry). Keys past their DeleteDate are destroyed (token objects too), imported material
 * past its expiry is deleted, and expired import parameters lose their wrapping private keys.
 * Each destruction is its own transaction with its own audit entry.
 */
import { randomUUID } from 'node:crypto';
import { KmsError, type ErrorCode } from '../../../src-shared/errors';
import {
  countExpiredImportParams,
  wipeExpiredImportKeys,
  deleteKeyRow,
  keysWithDeleteDateBefore,
  keysWithMaterialExpiredBefore,
  listVersions,
} from '../../keystore/repository';
import { appendAudit } from '../audit/auditLog';
import { storedVersion } from './keyAccess';
import { removeMaterial } from './importMaterial';
import { now, type KmsContext } from './context';

const TOKEN_UNREACHABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'Hsm.NotConfigured',
  'Hsm.ModuleNotFound',
  'Hsm.TokenNotPresent',
  'Hsm.PinIncorrect',
  'Hsm.PinLocked',
  'Hsm.DeviceError',
]);

export interface DueWorkReport {
  destroyedKeys: string[];
  expiredMaterial: string[];
  /** Due HSM keys whose token is not reachable now: destroyed at a later open. */
  deferredKeys: string[];
}

export async function carryOutDueWork(kms: KmsContext): Promise<DueWorkReport> {
  const at = now(kms);
  const report: DueWorkReport = { destroyedKeys: [], expiredMaterial: [], deferredKeys: [] };
  const dueDeletions = await kms.keystore.read((db) => keysWithDeleteDateBefore(db, at));
  for (const key of dueDeletions) {
    const backend = kms.backends[key.protection_level];
    if (!backend) {
      report.deferredKeys.push(key.key_id);
      continue;
    }
    try {
      // Token objects first: if the commit then fails, the next attempt finds them gone (harmless).
      await kms.keystore.transaction(async (tx) => {
        for (const v of await listVersions(tx, key.key_id)) await backend.destroy(storedVersion(key, v));
        await deleteKeyRow(tx, key.key_id);
        await appendAudit(tx, { requestId: randomUUID(), operation: 'DestroyKey', keyId: key.key_id, details: { DeleteDate: key.delete_date } }, at);
      });
      report.destroyedKeys.push(key.key_id);
    } catch (e) {
      // A token that cannot be reached now must not block every other operation.
      if (!(e instanceof KmsError && TOKEN_UNREACHABLE.has(e.code))) throw e;
      report.deferredKeys.push(key.key_id);
    }
  }
  const expired = await kms.keystore.read((db) => keysWithMaterialExpiredBefore(db, at));
  for (const key of expired) {
    await kms.keystore.transaction(async (tx) => {
      const keyVersionId = await removeMaterial(tx, key);
      await appendAudit(
        tx,
        { requestId: randomUUID(), operation: 'DeleteKeyMaterial', keyId: key.key_id, keyVersionId, details: { Reason: 'MaterialExpired', MaterialExpireTime: key.material_expire_time } },
        at,
      );
    });
    report.expiredMaterial.push(key.key_id);
  }
  // Reads first: an operation with nothing due writes nothing.
  if ((await kms.keystore.read((db) => countExpiredImportParams(db, at))) > 0) {
    await kms.keystore.transaction((tx) => wipeExpiredImportKeys(tx, at));
  }
  return report;
}
