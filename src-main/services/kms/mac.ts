/** GenerateMac / VerifyMac with HMAC keys. */
import { timingSafeEqual } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { KEY_SPEC_INFO, type MacAlgorithm } from '../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import type { KeyRow } from '../../keystore/repository';
import { appendAudit } from '../audit/auditLog';
import { loadPrimaryVersion, loadVersion, requireState, requireUsage, resolveKey, useSecret } from './keyAccess';
import { now, type KmsContext } from './context';

const MAX_MESSAGE_BYTES = 4096;

function macAlgorithmFor(key: KeyRow, requested: MacAlgorithm | undefined, action: string): MacAlgorithm {
  requireUsage(key, 'GENERATE/VERIFY_MAC', action);
  requireState(key, ['Enabled'], action);
  const fixed = KEY_SPEC_INFO[key.key_spec].macAlgorithm!;
  if (requested && requested !== fixed) {
    throw new KmsError('Rejected.Algorithm', `A ${key.key_spec} key computes ${fixed}, not ${requested}.`);
  }
  return fixed;
}

function messageBytes(b64: string): Buffer {
  const message = Buffer.from(b64, 'base64');
  if (message.length > MAX_MESSAGE_BYTES) throw new KmsError('InvalidParameter', `Message has at most ${MAX_MESSAGE_BYTES} bytes.`);
  return message;
}

export async function generateMac(kms: KmsContext, input: OperationInput<'GenerateMac'>, requestId: string): Promise<OperationOutput<'GenerateMac'>> {
  const message = messageBytes(input.Message);
  return kms.keystore.transaction(async (tx) => {
    const key = await resolveKey(tx, input.KeyId);
    const algorithm = macAlgorithmFor(key, input.MacAlgorithm, 'generate a MAC');
    const version = await loadPrimaryVersion(tx, key);
    const mac = await useSecret(kms, tx, key, version, (backend, v) => backend.mac(v, algorithm, message));
    await appendAudit(tx, { requestId, operation: 'GenerateMac', keyId: key.key_id, keyVersionId: version.key_version_id }, now(kms));
    return { KeyId: key.key_id, KeyVersionId: version.key_version_id, MacAlgorithm: algorithm, Mac: mac.toString('base64') };
  });
}

export async function verifyMac(kms: KmsContext, input: OperationInput<'VerifyMac'>, requestId: string): Promise<OperationOutput<'VerifyMac'>> {
  const message = messageBytes(input.Message);
  const given = Buffer.from(input.Mac, 'base64');
  return kms.keystore.transaction(async (tx) => {
    const key = await resolveKey(tx, input.KeyId);
    const algorithm = macAlgorithmFor(key, input.MacAlgorithm, 'verify a MAC');
    const version = input.KeyVersionId ? await loadVersion(tx, key, input.KeyVersionId) : await loadPrimaryVersion(tx, key);
    const mac = await useSecret(kms, tx, key, version, (backend, v) => backend.mac(v, algorithm, message));
    const valid = given.length === mac.length && timingSafeEqual(given, mac);
    await appendAudit(
      tx,
      { requestId, operation: 'VerifyMac', keyId: key.key_id, keyVersionId: version.key_version_id, details: { MacValid: valid } },
      now(kms),
    );
    return { KeyId: key.key_id, KeyVersionId: version.key_version_id, MacAlgorithm: algorithm, MacValid: valid };
  });
}
