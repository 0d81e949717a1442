/**
 * Automatic rotation on a machine with no scheduler: a rotation that fell due while the keystore
 * was closed is shown when it opens (ListDueRotations) and carried out only when the operator
 * says so (RotateDueKeys, which the command line offers for scripts). Each key rotates in its own
 * transaction, which checks again inside it that the key is still due, so a rotation happens once
 * and only once after its date, whoever asks and however often.
 */
import { randomUUID } from 'node:crypto';
import { KmsError } from '../../../../src-shared/errors';
import type { OperationOutput } from '../../../../src-shared/contract/operations';
import { getKey, keysWithRotationEnabled, type KeyRow } from '../../../keystore/repository';
import { wipe } from '../../../crypto/wipe';
import { backendFor, nextRotationDate } from '../../kms/keyAccess';
import { addVersion } from '../../kms/versions';
import { discardGenerated } from '../../kms/discardGenerated';
import { now, type KmsContext } from '../../kms/context';

function isDue(key: KeyRow, at: string): boolean {
  const next = nextRotationDate(key);
  return key.key_state === 'Enabled' && key.origin !== 'EXTERNAL' && next !== undefined && next <= at;
}

export async function listDueRotations(kms: KmsContext): Promise<OperationOutput<'ListDueRotations'>> {
  const at = now(kms);
  const keys = await kms.keystore.read((db) => keysWithRotationEnabled(db));
  return { Keys: keys.filter((k) => isDue(k, at)).map((k) => ({ KeyId: k.key_id, KeySpec: k.key_spec, Description: k.description, NextRotationDate: nextRotationDate(k)! })) };
}

export async function rotateDueKeys(kms: KmsContext, requestId: string): Promise<OperationOutput<'RotateDueKeys'>> {
  const { Keys } = await listDueRotations(kms);
  const rotated: { KeyId: string; KeyVersionId: string }[] = [];
  const deferred: { KeyId: string; Reason: string }[] = [];
  for (const due of Keys) {
    const key = await kms.keystore.read((db) => getKey(db, due.KeyId));
    if (!key) continue;
    const keyVersionId = randomUUID();
    const backend = backendFor(kms, key);
    let made;
    try {
      made = await backend.generate(key.key_spec, { exportable: key.exportable === 1, keyId: key.key_id, keyVersionId, usage: key.key_usage });
    } catch (e) {
      // A token that is absent must not stop the other keys' rotations; this one waits for next time.
      if (!(e instanceof KmsError) || e.code.startsWith('Keystore.')) throw e;
      deferred.push({ KeyId: key.key_id, Reason: e.message });
      continue;
    }
    try {
      const done = await kms.keystore.transaction(async (tx) => {
        const fresh = await getKey(tx, key.key_id);
        if (!fresh || !isDue(fresh, now(kms))) return undefined;
        return addVersion(kms, tx, fresh, requestId, 'RotateKey', { keyVersionId, ...made });
      });
      if (done) rotated.push({ KeyId: done.KeyId, KeyVersionId: done.KeyVersionId });
      else await discardGenerated(backend, key, keyVersionId, made);
    } catch (e) {
      await discardGenerated(backend, key, keyVersionId, made);
      throw e;
    } finally {
      wipe(made.material);
    }
  }
  return { Rotated: rotated, Deferred: deferred };
}
