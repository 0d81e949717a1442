/**
 * VerifyFile: a detached signature over a file, checked with a keystore key or with a public key
 * PEM from outside (signatures made elsewhere). A signature that does not verify, including one
 * with trailing bytes or non-canonical DER, is `Value: false`; a missing file, an unreadable
 * public key or an algorithm that does not fit the key is an error.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KmsError } from '../../../../src-shared/errors';
import { KEY_SPEC_INFO, type KeySpec } from '../../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import { spkiFromPem } from '../../../../src-shared/domain/publicKeyFingerprint';
import { keySpecOfSpki } from '../../../crypto/keyEncoding';
import { verifyDigest } from '../../../crypto/publicKeyOps';
import { requireAlgorithm, requireState, requireUsage, resolveKey, resolveVersion } from '../../kms/keyAccess';
import { now, type KmsContext } from '../../kms/context';
import { appendAudit } from '../../audit/auditLog';
import type { OperationControl } from '../../operationControl';
import { describeErrno, unreadable } from '../../../files/readFile';
import { digestForSignature, userIdBytes } from './fileDigest';

/** Far above any signature Keyroom checks (RSA-4096: 512 bytes); a bigger file is not a signature. */
const MAX_SIGNATURE_BYTES = 16 * 1024;

async function signerOf(kms: KmsContext, input: OperationInput<'VerifyFile'>): Promise<{ spec: KeySpec; spki: Uint8Array; keyId?: string; keyVersionId?: string }> {
  if ((input.KeyId === undefined) === (input.PublicKey === undefined)) {
    throw new KmsError('MissingParameter', 'Give the signer as exactly one of KeyId (a keystore key) or PublicKey (a PEM, or @file on the command line).');
  }
  if (input.PublicKey !== undefined) {
    let spki: Uint8Array;
    try {
      spki = spkiFromPem(input.PublicKey);
    } catch {
      throw new KmsError('InvalidParameter.PublicKey', 'PublicKey is not a PEM public key (-----BEGIN PUBLIC KEY-----).');
    }
    const spec = keySpecOfSpki(spki);
    if (!(KEY_SPEC_INFO[spec].signingAlgorithms as readonly string[]).includes(input.Algorithm)) {
      throw new KmsError('Rejected.Algorithm', `${input.Algorithm} does not fit a ${spec} public key; use ${KEY_SPEC_INFO[spec].signingAlgorithms.join(' or ')}.`);
    }
    return { spec, spki };
  }
  return kms.keystore.read(async (db) => {
    const key = await resolveKey(db, input.KeyId!);
    requireUsage(key, 'SIGN/VERIFY', 'verify signatures');
    requireState(key, ['Enabled'], 'verify signatures');
    requireAlgorithm(key, 'signing', input.Algorithm);
    const version = await resolveVersion(db, key, input.KeyVersionId);
    if (!version.public_key) throw new KmsError('Internal', `Key version ${version.key_version_id} has no public key recorded.`);
    return { spec: key.key_spec, spki: version.public_key, keyId: key.key_id, keyVersionId: version.key_version_id };
  });
}

export async function verifyFile(kms: KmsContext, input: OperationInput<'VerifyFile'>, requestId: string, control: OperationControl): Promise<OperationOutput<'VerifyFile'>> {
  const userId = userIdBytes(input.Algorithm, input.UserId);
  const { spec, spki, keyId, keyVersionId } = await signerOf(kms, input);
  const sigPath = resolve(input.SignatureFile);
  const sigStat = await stat(sigPath).catch((e: unknown) => {
    throw unreadable(sigPath, describeErrno(e));
  });
  if (!sigStat.isFile()) throw unreadable(sigPath, 'it is not a regular file');
  if (sigStat.size > MAX_SIGNATURE_BYTES) throw new KmsError('InvalidParameter', `${sigPath} is ${sigStat.size} bytes: not a signature.`);
  const signature = await readFile(sigPath);
  const file = resolve(input.File);
  const d = await digestForSignature(file, input.Algorithm, spki, userId, false, control, 'VerifyFile', (done, total) =>
    control.progress({ Phase: 'Hashing', Done: done, Total: total }),
  );
  const value = verifyDigest(spec, spki, input.Algorithm, d.signed, signature);
  // A keystore key was used, so the use is recorded (as AsymmetricVerify's is); a PEM from outside is not a key of ours.
  if (keyId) {
    await kms.keystore.transaction((tx) =>
      appendAudit(tx, { requestId, operation: 'VerifyFile', keyId, keyVersionId, details: { Algorithm: input.Algorithm, File: file, Size: d.size, Digest: d.recorded.toString('hex'), Value: value } }, now(kms)),
    );
  }
  return { Value: value, File: file, Digest: d.recorded.toString('hex') };
}
