import type { KeyBackend, NewMaterial } from '../../backends/backend';
import type { KeyRow } from '../../keystore/repository';

/**
 * When the keystore write after a generate() fails, destroy what the backend made (token
 * objects) so nothing is left on a token without its record. Best effort: the original error
 * is what the caller reports.
 */
export async function discardGenerated(backend: KeyBackend, key: Pick<KeyRow, 'key_id' | 'key_spec'>, keyVersionId: string, made: NewMaterial): Promise<void> {
  if (!made.hsmObjectId) return;
  await backend
    .destroy({
      keyId: key.key_id,
      keyVersionId,
      keySpec: key.key_spec,
      material: null,
      publicKey: made.publicKey,
      hsmObjectId: made.hsmObjectId,
      tokenSerial: made.tokenSerial ?? null,
    })
    .catch(() => undefined);
}
