/**
 * An offline keystore has no scheduler: whatever fell due is carried out when it opens and
 * before every operation while it stays open (a ceremony can outlast a short expiry). Keys past
 * their DeleteDate are destroyed (token objects too), imported material past its expiry is
 * deleted, and expired import parameters lose their wrapping private keys. Each item is its own
 * transaction with its own audit entry, and re-checks inside it that it is still due, so two
 * callers (or the app and the command line) never carry out the same item twice.
 */
import { randomUUID } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import {
  countExpiredImportParams,
  deleteImportParamsExpiredBefore,
  deleteKeyRow,
  getKey,
  keysWithDeleteDateBefore,
  keysWithMaterialExpiredBefore,
  listVersions,
  wipeExpiredImportKeys,
} from '../../keystore/repository';
import { appendAudit } from '../audit/auditLog';
import { storedVersion } from './keyAccess';
import { removeMaterial } from './importMaterial';
import { DAY_MS, isoTime, now, type KmsContext } from './context';

export interface DueWorkReport {
  destroyedKeys: string[];
  expiredMaterial: string[];
  /** Due items that could not be carried out now (e.g. the key's token is absent); retried later. */
  deferredKeys: string[];
}

/** How long an expired import token is still recognised as expired (then it is unknown). */
const EXPIRED_TOKEN_MEMORY_MS = 30 * DAY_MS;

export async function carryOutDueWork(kms: KmsContext): Promise<DueWorkReport> {
  const at = now(kms);
  const report: DueWorkReport = { destroyedKeys: [], expiredMaterial: [], deferredKeys: [] };
  // One read finds everything due; the common case (nothing) writes nothing.
  const due = await kms.keystore.read(async (db) => ({
    deletions: await keysWithDeleteDateBefore(db, at),
    expired: await keysWithMaterialExpiredBefore(db, at),
    importKeys: await countExpiredImportParams(db, at),
  }));
  for (const k of due.deletions) {
    await deferOnFailure(report, k.key_id, async () => {
      const done = await kms.keystore.transaction(async (tx) => {
        const key = await getKey(tx, k.key_id);
        if (!key || key.key_state !== 'PendingDeletion' || !key.delete_date || key.delete_date > at) return false;
        const backend = kms.backends[key.protection_level];
        if (!backend) throw new KmsError('Hsm.NotConfigured', `Key ${key.key_id} is due for destruction, but its backend is not configured.`);
        // Token objects first: if the commit then fails, the next attempt finds them gone (harmless).
        for (const v of await listVersions(tx, key.key_id)) await backend.destroy(storedVersion(key, v));
        await deleteKeyRow(tx, key.key_id);
        await appendAudit(tx, { requestId: randomUUID(), operation: 'DestroyKey', keyId: key.key_id, details: { DeleteDate: key.delete_date } }, at);
        return true;
      });
      if (done) report.destroyedKeys.push(k.key_id);
    });
  }
  for (const k of due.expired) {
    await deferOnFailure(report, k.key_id, async () => {
      const done = await kms.keystore.transaction(async (tx) => {
        const key = await getKey(tx, k.key_id);
        if (!key?.material_expire_time || key.material_expire_time > at) return false;
        const keyVersionId = await removeMaterial(tx, key);
        await appendAudit(
          tx,
          { requestId: randomUUID(), operation: 'DeleteKeyMaterial', keyId: key.key_id, keyVersionId, details: { Reason: 'MaterialExpired', MaterialExpireTime: key.material_expire_time } },
          at,
        );
        return true;
      });
      if (done) report.expiredMaterial.push(k.key_id);
    });
  }
  if (due.importKeys > 0) {
    const forgetBefore = isoTime(new Date(kms.clock().getTime() - EXPIRED_TOKEN_MEMORY_MS));
    await kms.keystore.transaction(async (tx) => {
      await wipeExpiredImportKeys(tx, at);
      await deleteImportParamsExpiredBefore(tx, forgetBefore);
    });
  }
  return report;
}

/**
 * One item that cannot be carried out now (a token that is absent, a backend not configured)
 * must not lock the operator out of everything else: it is reported and retried next time.
 * Keystore failures are not the item's: they propagate.
 */
async function deferOnFailure(report: DueWorkReport, keyId: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (!(e instanceof KmsError) || e.code.startsWith('Keystore.') || e.code === 'IncorrectPassphrase') throw e;
    report.deferredKeys.push(keyId);
  }
}
