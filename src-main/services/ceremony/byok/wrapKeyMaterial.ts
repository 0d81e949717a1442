/**
 * WrapKeyMaterial: an exportable key's material leaves Keyroom wrapped under a cloud's import
 * public key, as the files that cloud's CLI takes plus a manifest.json for the record. Plan,
 * compute, record, publish: the folder and every name are checked first; the material is wrapped,
 * the files staged (temporaries, read back and hashed) and the audit entry naming each with its
 * SHA-256 committed; only then do the files take their names (files/outputWriter.ts), all or none.
 * The audit records what left (files, hashes, KCV), never the material or the wrapped blob.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { KmsError } from '../../../../src-shared/errors';
import { BYOK_TARGET_NAMES, materialForm } from '../../../../src-shared/domain/byokTargets';
import { KEY_SPEC_INFO, isAsymmetric, type KeySpec } from '../../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import type { WrittenFile } from '../../../../src-shared/contract/types';
import type { ExportWrapRequest } from '../../../backends/backend';
import type { SqlExecutor } from '../../../keystore/sqlcipher';
import type { KeyRow, VersionRow } from '../../../keystore/repository';
import type { OutputPlan } from '../../../files/outputWriter';
import { KEYROOM_VERSION } from '../../../version';
import { appendAudit } from '../../audit/auditLog';
import { outputFilesDetail, planRecordedOutputs, publishRecorded, recordWithStaging, staleReport } from '../../audit/outputRecord';
import { requireState, resolveKey, resolveVersion, useSecret } from '../../kms/keyAccess';
import { now, type KmsContext } from '../../kms/context';
import { checkImportParameters } from './importParameters';
import { cloudOutput, type CloudFile } from './cloudFiles';

export const MANIFEST_FILE = 'manifest.json';

/** What the manifest says the KCV is, so a witness knows how to recompute it. */
export function checkValueKind(keySpec: KeySpec): string {
  const family = KEY_SPEC_INFO[keySpec].family;
  if (family === 'AES' || family === 'SM4') return `first 3 bytes of ${family}-ECB of one zero block under the material, hex`;
  if (family === 'HMAC') return 'first 3 bytes of HMAC(material, 16 zero bytes), hex';
  return 'SHA-256 of the key\'s public half (DER SubjectPublicKeyInfo), hex';
}

/** The KCV of a version: computed by its backend (inside the token for HSM keys), or from the public key. */
async function checkValueOf(kms: KmsContext, db: SqlExecutor, key: KeyRow, version: VersionRow): Promise<string> {
  if (isAsymmetric(key.key_spec)) return sha256(requirePublicKey(version));
  return useSecret(kms, db, key, version, async (backend, v) => (await backend.keyCheckValue(v)).toString('hex'));
}

/** GetKeyCheckValue: what witnesses compare before and after an export, without the material. */
export async function getKeyCheckValue(kms: KmsContext, input: OperationInput<'GetKeyCheckValue'>): Promise<OperationOutput<'GetKeyCheckValue'>> {
  return kms.keystore.read(async (db) => {
    const key = await resolveKey(db, input.KeyId);
    requireState(key, ['Enabled', 'Disabled'], 'give a key check value');
    const version = await resolveVersion(db, key, input.KeyVersionId);
    return { KeyId: key.key_id, KeyVersionId: version.key_version_id, KeyCheckValue: await checkValueOf(kms, db, key, version), Kind: checkValueKind(key.key_spec) };
  });
}

/**
 * Every name this target may write (with and without the second wrapped field some layouts have),
 * plus the manifest: all checked free before the key is touched. cloudOutput also refuses a bad
 * import token here, before any work.
 */
async function planWrapOutputs(kms: KmsContext, input: OperationInput<'WrapKeyMaterial'>, outputDir: string, requestId: string): Promise<OutputPlan> {
  const names = new Set<string>([MANIFEST_FILE]);
  for (const privateKeyField of [undefined, Buffer.alloc(1)]) {
    const probe = cloudOutput({
      target: input.Target,
      keySpec: 'AES_256',
      keyUsage: 'ENCRYPT/DECRYPT',
      wrapped: privateKeyField ? { blob: Buffer.alloc(1), privateKeyField } : { blob: Buffer.alloc(1) },
      ...(input.ImportToken !== undefined ? { importToken: input.ImportToken } : {}),
      ...(input.KeyEncryptionKeyId !== undefined ? { keyEncryptionKeyId: input.KeyEncryptionKeyId } : {}),
    });
    for (const f of probe.files) names.add(f.name);
  }
  return planRecordedOutputs(kms, [...names].map((n) => join(outputDir, n)), requestId, { missingFolder: 'InvalidParameter.OutputDir' });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The key to wrap, and the import parameters checked against it. */
async function exportableKey(db: SqlExecutor, kms: KmsContext, input: OperationInput<'WrapKeyMaterial'>) {
  const key = await resolveKey(db, input.KeyId);
  const checked = checkImportParameters({ ...input, KeySpec: key.key_spec }, kms.clock());
  if (key.exportable !== 1) {
    throw new KmsError(
      'Rejected.NotExportable',
      `Key ${key.key_id} was not created Exportable, so its material never leaves Keyroom, not even wrapped. Create a new key with Exportable true for BYOK.`,
    );
  }
  requireState(key, ['Enabled'], 'be wrapped for export');
  return { key, ...checked };
}

export interface WrapOptions {
  /** Whether the wrapping key is a rehearsal's stand-in (said in the manifest and the audit log). */
  isRehearsalKey?: (fingerprint: string) => boolean;
}

export async function wrapKeyMaterial(
  kms: KmsContext,
  input: OperationInput<'WrapKeyMaterial'>,
  requestId: string,
  options: WrapOptions = {},
): Promise<OperationOutput<'WrapKeyMaterial'>> {
  const outputDir = resolve(input.OutputDir);
  // The key's refusals come before the folder's (checked again inside the transaction).
  await kms.keystore.read((db) => exportableKey(db, kms, input));
  const plan = await planWrapOutputs(kms, input, outputDir, requestId);
  const { result: out, staged } = await recordWithStaging(kms, async (tx, stage) => {
    const { key, row, wrappingKey, report } = await exportableKey(tx, kms, input);
    if (input.Target === 'AZURE' && !input.KeyEncryptionKeyId) {
      throw new KmsError('MissingParameter', 'Azure needs the key-exchange key\'s id (KeyEncryptionKeyId, https://<vault>.vault.azure.net/keys/<kek>/<version>) to put in the .byok file.');
    }
    const version = await resolveVersion(tx, key, input.KeyVersionId);

    const request: ExportWrapRequest = {
      scheme: row.scheme,
      wrappingKey: wrappingKey.spki,
      materialForm: materialForm(row, key.key_spec),
      ...(row.oaepHash ? { oaepHash: row.oaepHash } : {}),
      ...(row.sm2Encoding ? { sm2Encoding: input.Sm2CiphertextEncoding ?? row.sm2Encoding } : {}),
    };
    const wrapped = await useSecret(kms, tx, key, version, (backend, v) => backend.wrapForExport(v, request));
    const kcv = await checkValueOf(kms, tx, key, version);

    const rehearsal = options.isRehearsalKey?.(report.PublicKeyFingerprint) === true;
    const cloud = cloudOutput({
      target: input.Target,
      keySpec: key.key_spec,
      keyUsage: key.key_usage,
      wrapped,
      ...(input.ImportToken !== undefined ? { importToken: input.ImportToken } : {}),
      ...(input.CloudKeyId !== undefined ? { cloudKeyId: input.CloudKeyId } : {}),
      ...(input.KeyEncryptionKeyId !== undefined ? { keyEncryptionKeyId: input.KeyEncryptionKeyId } : {}),
      ...(input.Base64UrlPadding !== undefined ? { base64UrlPadding: input.Base64UrlPadding } : {}),
    });
    // The SHA-256 the cloud's files are listed with in the manifest: of the bytes, checked again below from the staged files.
    const listed: WrittenFile[] = cloud.files.map((f) => ({ File: join(outputDir, f.name), Sha256: sha256(f.content), Purpose: f.purpose }));
    const time = now(kms);
    const manifest = {
      Generator: `Keyroom ${KEYROOM_VERSION}`,
      Rehearsal: rehearsal,
      CreatedAt: time,
      RequestId: requestId,
      Target: input.Target,
      TargetName: BYOK_TARGET_NAMES[input.Target],
      CloudKeyId: input.CloudKeyId ?? null,
      KeyEncryptionKeyId: input.KeyEncryptionKeyId ?? null,
      KeySpec: key.key_spec,
      KeyUsage: key.key_usage,
      KeyId: key.key_id,
      KeyVersionId: version.key_version_id,
      ProtectionLevel: key.protection_level,
      WrappingAlgorithm: row.algorithm,
      WrappingKeySpec: wrappingKey.spec,
      Layout: row.scheme,
      ...(request.sm2Encoding ? { Sm2CiphertextEncoding: request.sm2Encoding } : {}),
      WrappingPublicKeyFingerprint: report.PublicKeyFingerprint,
      KeyCheckValue: kcv,
      KeyCheckValueKind: checkValueKind(key.key_spec),
      TokenExpireTime: report.TokenExpireTime ?? null,
      Files: listed.map((f) => ({ File: f.File.slice(outputDir.length + 1), Sha256: f.Sha256, Purpose: f.Purpose })),
      ImportCommand: cloud.command,
      Unconfirmed: row.unconfirmed ?? null,
    };
    const manifestFile: CloudFile = { name: MANIFEST_FILE, content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'), purpose: 'manifest: what was wrapped, for whom, and how to check it' };
    const files = [...cloud.files, manifestFile];
    listed.push({ File: join(outputDir, MANIFEST_FILE), Sha256: sha256(manifestFile.content), Purpose: manifestFile.purpose });
    const written = await stage(
      plan,
      files.map((f) => ({ path: join(outputDir, f.name), content: f.content })),
    );
    // What is recorded and reported is what was read back from the staged files.
    for (const [i, f] of written.files.entries()) listed[i]!.Sha256 = f.sha256;

    await appendAudit(
      tx,
      {
        requestId,
        operation: 'WrapKeyMaterial',
        keyId: key.key_id,
        keyVersionId: version.key_version_id,
        details: {
          Target: input.Target,
          CloudKeyId: input.CloudKeyId ?? null,
          WrappingAlgorithm: row.algorithm,
          WrappingKeySpec: wrappingKey.spec,
          WrappingPublicKeyFingerprint: report.PublicKeyFingerprint,
          KeyCheckValue: kcv,
          Rehearsal: rehearsal,
          OutputDir: outputDir,
          // sha256sum's format, one line per file written.
          Files: listed.map((f) => `${f.Sha256}  ${f.File.slice(outputDir.length + 1)}`).join('\n'),
          OutputFiles: outputFilesDetail(written.files),
        },
      },
      time,
    );

    const out: OperationOutput<'WrapKeyMaterial'> = {
      KeyId: key.key_id,
      KeyVersionId: version.key_version_id,
      Target: input.Target,
      WrappingAlgorithm: row.algorithm,
      WrappingKeySpec: wrappingKey.spec,
      EncryptedKeyMaterial: wrapped.blob.toString('base64'),
      KeyCheckValue: kcv,
      PublicKeyFingerprint: report.PublicKeyFingerprint,
      Files: listed,
      Manifest: join(outputDir, MANIFEST_FILE),
      ImportCommand: cloud.command,
      Warnings: report.Warnings,
    };
    if (wrapped.privateKeyField) out.EncryptedPrivateKey = wrapped.privateKeyField.toString('base64');
    if (row.unconfirmed) out.Unconfirmed = row.unconfirmed;
    return out;
  });
  for (const st of staged) await publishRecorded(kms, st, { requestId, operation: 'WrapKeyMaterial', keyId: out.KeyId, keyVersionId: out.KeyVersionId });
  return { ...out, ...staleReport(plan) };
}

function requirePublicKey(version: VersionRow): Buffer {
  if (!version.public_key) throw new KmsError('Internal', `Key version ${version.key_version_id} has no public key recorded.`);
  return version.public_key;
}
