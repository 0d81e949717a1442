/** Asymmetric keys: GetPublicKey, ExportPublicKey, AsymmetricSign/Verify over a digest, AsymmetricEncrypt/Decrypt. */
import { KmsError } from '../../../src-shared/errors';
import { publicKeyFingerprint } from '../../../src-shared/domain/publicKeyFingerprint';
import { MAX_SIGNED_MESSAGE_BYTES, SIGNING_DIGEST, isAsymmetric, signsMessage, type DigestSigningAlgorithm, type SigningAlgorithm } from '../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import type { KeyRow, VersionRow } from '../../keystore/repository';
import { appendAudit } from '../audit/auditLog';
import { DEFAULT_SSH_NAMESPACE, type PublicKeyFormat } from '../../../src-shared/domain/signatureFormats';
import type { KeySpec } from '../../../src-shared/domain/keySpecs';
import { chooseFormats } from '../ceremony/sign/formats/registry';
import type { KeySigner } from '../ceremony/sign/formats/format';
import { spkiToPem } from '../../crypto/keyEncoding';
import { encryptWithPublicKey, maxAsymmetricPlaintext, verifyDigest } from '../../crypto/publicKeyOps';
import { wipe } from '../../crypto/wipe';
import { createHash } from 'node:crypto';

/** The audit entry names a signed message by its SHA-256, never by content. */
function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
import { outputFilesDetail, planRecordedOutputs, publishRecorded, recordWithStaging, staleReport } from '../audit/outputRecord';
import {
  loadVersion,
  requireAlgorithm,
  requireState,
  requireUsage,
  resolveKey,
  useSecret,
} from './keyAccess';
import { now, type KmsContext } from './context';

async function asymmetricVersion(db: SqlExecutor, keyIdOrAlias: string, keyVersionId: string): Promise<{ key: KeyRow; version: VersionRow }> {
  const key = await resolveKey(db, keyIdOrAlias);
  if (!isAsymmetric(key.key_spec)) {
    throw new KmsError('Rejected.KeySpec', `Key ${key.key_id} is ${key.key_spec}, not an asymmetric key.`);
  }
  return { key, version: await loadVersion(db, key, keyVersionId) };
}

function publicKeyOf(version: VersionRow): Buffer {
  if (!version.public_key) throw new KmsError('Internal', `Key version ${version.key_version_id} has no public key recorded.`);
  return version.public_key;
}

/**
 * What the key signs: the digest, or for ED25519 (pure EdDSA, RFC 8032) the message itself. Each
 * algorithm takes exactly one of the two; the other is refused rather than ignored.
 */
function signedInput(algorithm: SigningAlgorithm, input: { Digest?: string | undefined; Message?: string | undefined }): Buffer {
  if (signsMessage(algorithm)) {
    if (input.Digest !== undefined) {
      throw new KmsError('InvalidParameter.Digest', `${algorithm} signs the message itself (pure Ed25519, RFC 8032), not a digest: give Message (base64, up to ${MAX_SIGNED_MESSAGE_BYTES} bytes) instead of Digest.`);
    }
    if (input.Message === undefined) throw new KmsError('MissingParameter', `${algorithm} signs the message itself: give Message (base64, up to ${MAX_SIGNED_MESSAGE_BYTES} bytes).`);
    const message = Buffer.from(input.Message, 'base64');
    if (message.length > MAX_SIGNED_MESSAGE_BYTES) {
      throw new KmsError('InvalidParameter', `Message is ${message.length} bytes; ${algorithm} takes at most ${MAX_SIGNED_MESSAGE_BYTES} here. Sign a larger file with SignFile.`);
    }
    return message;
  }
  if (input.Message !== undefined) throw new KmsError('InvalidParameter', `${algorithm} signs a digest: give Digest, not Message.`);
  if (input.Digest === undefined) throw new KmsError('MissingParameter', `${algorithm} signs a digest: give Digest (base64).`);
  return checkDigest(algorithm, input.Digest);
}

function checkDigest(algorithm: DigestSigningAlgorithm, b64: string): Buffer {
  const digest = Buffer.from(b64, 'base64');
  const expected = SIGNING_DIGEST[algorithm];
  if (digest.length !== expected.bytes) {
    throw new KmsError(
      'InvalidParameter.Digest',
      `${algorithm} signs a ${expected.digest.toUpperCase()} digest of ${expected.bytes} bytes; this Digest has ${digest.length}.`,
    );
  }
  return digest;
}

export async function getPublicKey(kms: KmsContext, input: OperationInput<'GetPublicKey'>): Promise<OperationOutput<'GetPublicKey'>> {
  const { key, version } = await kms.keystore.read((db) => asymmetricVersion(db, input.KeyId, input.KeyVersionId));
  return { KeyId: key.key_id, KeyVersionId: version.key_version_id, PublicKey: spkiToPem(publicKeyOf(version)) };
}

/**
 * GetPublicKey's PEM, to a new file: plan (the name is free, the folder safe), compute the PEM,
 * record (the staged file's SHA-256 in the audit entry, for the ceremony's list of what left the
 * room), then publish under the final name (files/outputWriter.ts).
 */
/**
 * The public key in the form asked for: PEM (SPKI), DER, an OpenSSH `authorized_keys` line, a
 * minisign or signify public key file (Ed25519; the key number derived as SignFile's). The
 * fingerprint stays the PEM's, whatever the form, so witnesses compare one value.
 */
async function publicKeyInFormat(
  format: PublicKeyFormat,
  key: { keyId: string; spec: KeySpec; spki: Buffer; created: Date },
  pem: Buffer,
  openPgpUserId: string | undefined,
  signer: KeySigner,
): Promise<Buffer> {
  const fromFormat = async (name: 'ssh' | 'minisign' | 'signify' | 'openpgp' | 'jws', index = 0) => {
    const module = chooseFormats([name], key.spec).formats[0]!;
    const file = module.publicKeyFiles(key, { sshNamespace: DEFAULT_SSH_NAMESPACE, time: new Date(0), ...(openPgpUserId !== undefined ? { openPgpUserId } : {}) })[index]!;
    // OpenPGP's certificate is self-signed by the key.
    return Buffer.from(typeof file.content === 'string' ? file.content : await file.content(signer), 'utf8');
  };
  switch (format) {
    case 'PEM':
      return pem;
    case 'DER':
      return Buffer.from(key.spki);
    case 'SSH':
      return fromFormat('ssh');
    case 'MINISIGN':
      return fromFormat('minisign');
    case 'SIGNIFY':
      return fromFormat('signify');
    case 'OPENPGP':
      if (openPgpUserId === undefined) throw new KmsError('MissingParameter', 'The OPENPGP form needs --OpenPgpUserId "Name <email>" (for example "Release Team <release@example.org>") for its certificate.');
      return fromFormat('openpgp');
    case 'JWK':
      return fromFormat('jws');
    default: {
      const never: never = format;
      throw new KmsError('InvalidParameter', `Unknown public key form ${String(never)}.`);
    }
  }
}

export async function exportPublicKey(kms: KmsContext, input: OperationInput<'ExportPublicKey'>, requestId: string): Promise<OperationOutput<'ExportPublicKey'>> {
  const plan = await planRecordedOutputs(kms, [input.OutputFile], requestId);
  const { result: out, staged } = await recordWithStaging(kms, async (tx, stage) => {
    const { key, version } = await asymmetricVersion(tx, input.KeyId, input.KeyVersionId);
    const spki = publicKeyOf(version);
    const pem = Buffer.from(spkiToPem(spki), 'utf8');
    const format = input.Format ?? 'PEM';
    if (input.OpenPgpUserId !== undefined && format !== 'OPENPGP') throw new KmsError('InvalidParameter', 'OpenPgpUserId is for --Format OPENPGP.');
    // Only OPENPGP asks the key to sign (its self-certification): the key must be able to.
    const signer: KeySigner = async (algorithm, data) => {
      requireUsage(key, 'SIGN/VERIFY', 'certify its OpenPGP key');
      requireState(key, ['Enabled'], 'certify its OpenPGP key');
      return useSecret(kms, tx, key, version, (backend, v) => backend.sign(v, algorithm, data));
    };
    const content = await publicKeyInFormat(format, { keyId: key.key_id, spec: key.key_spec, spki, created: new Date(version.creation_date) }, pem, input.OpenPgpUserId, signer);
    const file = (await stage(plan, [{ path: plan.paths[0]!, content }])).files[0]!;
    const out = {
      KeyId: key.key_id,
      KeyVersionId: version.key_version_id,
      OutputFile: input.OutputFile,
      Format: format,
      Sha256: file.sha256,
      Fingerprint: publicKeyFingerprint(pem.toString('utf8')),
    };
    await appendAudit(
      tx,
      {
        requestId,
        operation: 'ExportPublicKey',
        keyId: out.KeyId,
        keyVersionId: out.KeyVersionId,
        details: { OutputFile: out.OutputFile, ...(format !== 'PEM' ? { Format: format } : {}), ...(input.OpenPgpUserId !== undefined ? { OpenPgpUserId: input.OpenPgpUserId } : {}), Sha256: out.Sha256, Fingerprint: out.Fingerprint, OutputFiles: outputFilesDetail([file]) },
      },
      now(kms),
    );
    return out;
  });
  for (const st of staged) await publishRecorded(kms, st, { requestId, operation: 'ExportPublicKey', keyId: out.KeyId, keyVersionId: out.KeyVersionId });
  return { ...out, ...staleReport(plan) };
}

export async function asymmetricSign(kms: KmsContext, input: OperationInput<'AsymmetricSign'>, requestId: string): Promise<OperationOutput<'AsymmetricSign'>> {
  const digest = signedInput(input.Algorithm, input);
  return kms.keystore.transaction(async (tx) => {
    const { key, version } = await asymmetricVersion(tx, input.KeyId, input.KeyVersionId);
    requireUsage(key, 'SIGN/VERIFY', 'sign');
    requireState(key, ['Enabled'], 'sign');
    requireAlgorithm(key, 'signing', input.Algorithm);
    const signature = await useSecret(kms, tx, key, version, (backend, v) => backend.sign(v, input.Algorithm, digest));
    await appendAudit(
      tx,
      { requestId, operation: 'AsymmetricSign', keyId: key.key_id, keyVersionId: version.key_version_id, details: { Algorithm: input.Algorithm, ...(input.Digest !== undefined ? { Digest: input.Digest } : { MessageSha256: sha256Hex(digest), MessageBytes: digest.length }) } },
      now(kms),
    );
    return { KeyId: key.key_id, KeyVersionId: version.key_version_id, Algorithm: input.Algorithm, Value: signature.toString('base64') };
  });
}

export async function asymmetricVerify(kms: KmsContext, input: OperationInput<'AsymmetricVerify'>, requestId: string): Promise<OperationOutput<'AsymmetricVerify'>> {
  const digest = signedInput(input.Algorithm, input);
  return kms.keystore.transaction(async (tx) => {
    const { key, version } = await asymmetricVersion(tx, input.KeyId, input.KeyVersionId);
    requireUsage(key, 'SIGN/VERIFY', 'verify');
    requireState(key, ['Enabled'], 'verify');
    requireAlgorithm(key, 'signing', input.Algorithm);
    const valid = verifyDigest(key.key_spec, publicKeyOf(version), input.Algorithm, digest, Buffer.from(input.Value, 'base64'));
    await appendAudit(
      tx,
      { requestId, operation: 'AsymmetricVerify', keyId: key.key_id, keyVersionId: version.key_version_id, details: { Algorithm: input.Algorithm, Value: valid } },
      now(kms),
    );
    return { KeyId: key.key_id, KeyVersionId: version.key_version_id, Algorithm: input.Algorithm, Value: valid };
  });
}

export async function asymmetricEncrypt(kms: KmsContext, input: OperationInput<'AsymmetricEncrypt'>, requestId: string): Promise<OperationOutput<'AsymmetricEncrypt'>> {
  const plaintext = Buffer.from(input.Plaintext, 'base64');
  try {
    return await kms.keystore.transaction(async (tx) => {
      const { key, version } = await asymmetricVersion(tx, input.KeyId, input.KeyVersionId);
      requireUsage(key, 'ENCRYPT/DECRYPT', 'encrypt');
      requireState(key, ['Enabled'], 'encrypt');
      requireAlgorithm(key, 'encryption', input.Algorithm);
      const max = maxAsymmetricPlaintext(key.key_spec, input.Algorithm);
      if (plaintext.length === 0) throw new KmsError('InvalidParameter', 'Plaintext is empty; give at least one byte.');
      if (plaintext.length > max) {
        throw new KmsError('InvalidParameter', `${input.Algorithm} with a ${key.key_spec} key takes at most ${max} bytes of Plaintext; this has ${plaintext.length}.`);
      }
      const ciphertext = encryptWithPublicKey(key.key_spec, publicKeyOf(version), input.Algorithm, plaintext);
      await appendAudit(
        tx,
        { requestId, operation: 'AsymmetricEncrypt', keyId: key.key_id, keyVersionId: version.key_version_id, details: { Algorithm: input.Algorithm } },
        now(kms),
      );
      return { KeyId: key.key_id, KeyVersionId: version.key_version_id, Algorithm: input.Algorithm, CiphertextBlob: ciphertext.toString('base64') };
    });
  } finally {
    wipe(plaintext);
  }
}

export async function asymmetricDecrypt(kms: KmsContext, input: OperationInput<'AsymmetricDecrypt'>, requestId: string): Promise<OperationOutput<'AsymmetricDecrypt'>> {
  return kms.keystore.transaction(async (tx) => {
    const { key, version } = await asymmetricVersion(tx, input.KeyId, input.KeyVersionId);
    requireUsage(key, 'ENCRYPT/DECRYPT', 'decrypt');
    requireState(key, ['Enabled'], 'decrypt');
    requireAlgorithm(key, 'encryption', input.Algorithm);
    const plaintext = await useSecret(kms, tx, key, version, (backend, v) =>
      backend.asymmetricDecrypt(v, input.Algorithm, Buffer.from(input.CiphertextBlob, 'base64')),
    );
    try {
      await appendAudit(
        tx,
        { requestId, operation: 'AsymmetricDecrypt', keyId: key.key_id, keyVersionId: version.key_version_id, details: { Algorithm: input.Algorithm } },
        now(kms),
      );
      return { KeyId: key.key_id, KeyVersionId: version.key_version_id, Algorithm: input.Algorithm, Plaintext: plaintext.toString('base64') };
    } finally {
      wipe(plaintext);
    }
  });
}
