/**
 * Finding a key (by KeyId or alias) and the checks every operation makes before it uses one:
 * state, usage, algorithm, version. Each refusal is a KmsError that says what to do.
 */
import { KmsError } from '../../../src-shared/errors';
import { looksLikeAlias } from '../../../src-shared/alias';
import {
  KEY_SPEC_INFO,
  type KeyState,
  type KeyUsage,
  type SigningAlgorithm,
  type EncryptionAlgorithm,
} from '../../../src-shared/domain/keySpecs';
import type { KeyMetadata, KeyVersion, RotationStatus } from '../../../src-shared/contract/types';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import type { KeyBackend, StoredVersion } from '../../backends/backend';
import { getAlias, getKey, getVersion, getVersionMaterial, listVersions, type KeyRow, type VersionRow } from '../../keystore/repository';
import { wipe } from '../../crypto/wipe';
import { isoTime, type KmsContext } from './context';

export async function resolveKey(db: SqlExecutor, keyIdOrAlias: string): Promise<KeyRow> {
  let keyId = keyIdOrAlias;
  if (looksLikeAlias(keyIdOrAlias)) {
    const alias = await getAlias(db, keyIdOrAlias);
    if (!alias) throw new KmsError('NotFound.Alias', `No alias ${keyIdOrAlias} in this keystore; ListAliases shows the aliases.`);
    keyId = alias.key_id;
  }
  const key = await getKey(db, keyId);
  if (!key) throw new KmsError('NotFound.Key', `No key ${keyId} in this keystore; ListKeys shows the keys.`);
  return key;
}

const STATE_ADVICE: Readonly<Record<KeyState, string>> = {
  Enabled: '',
  Disabled: 'enable it first (EnableKey)',
  PendingDeletion: 'cancel its deletion first (CancelKeyDeletion)',
  PendingImport: 'import its key material first (GetParametersForImport, ImportKeyMaterial)',
};

export function requireState(key: KeyRow, allowed: readonly KeyState[], action: string): void {
  if (allowed.includes(key.key_state)) return;
  const advice = STATE_ADVICE[key.key_state];
  throw new KmsError(
    'Rejected.KeyState',
    `Key ${key.key_id} is ${key.key_state}, so it cannot ${action}${advice ? `: ${advice}` : ''}.`,
  );
}

export function requireUsage(key: KeyRow, usage: KeyUsage, action: string): void {
  if (key.key_usage === usage) return;
  throw new KmsError('Rejected.KeyUsage', `Key ${key.key_id} has KeyUsage ${key.key_usage}; to ${action} it needs ${usage}.`);
}

/** The algorithm must be one the key's spec allows for signing or for encryption. */
export function requireAlgorithm(key: KeyRow, kind: 'signing' | 'encryption', algorithm: SigningAlgorithm | EncryptionAlgorithm): void {
  const info = KEY_SPEC_INFO[key.key_spec];
  const allowed: readonly string[] = kind === 'signing' ? info.signingAlgorithms : info.encryptionAlgorithms;
  if (!allowed.includes(algorithm)) {
    throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit a ${key.key_spec} key; use ${allowed.join(' or ') || 'another key'}.`);
  }
}

/** The reference's paging: PageNumber from 1 (default 1), PageSize 1-100 (default 10). */
export function paging(input: { PageNumber?: number; PageSize?: number }): { pageNumber: number; pageSize: number; offset: number } {
  const pageNumber = input.PageNumber ?? 1;
  const pageSize = input.PageSize ?? 10;
  return { pageNumber, pageSize, offset: (pageNumber - 1) * pageSize };
}

export async function loadVersion(db: SqlExecutor, key: KeyRow, keyVersionId: string): Promise<VersionRow> {
  const v = await getVersion(db, key.key_id, keyVersionId);
  if (!v) throw new KmsError('NotFound.KeyVersion', `Key ${key.key_id} has no version ${keyVersionId}; ListKeyVersions shows its versions.`);
  return v;
}

export async function loadPrimaryVersion(db: SqlExecutor, key: KeyRow): Promise<VersionRow> {
  if (!key.primary_key_version) throw new KmsError('Internal', `Key ${key.key_id} has no primary version.`);
  return loadVersion(db, key, key.primary_key_version);
}

/**
 * The version an operation names, or when it names none: the primary version (symmetric keys),
 * or the only version (asymmetric keys, which have no primary); with several, it must be named.
 */
export async function resolveVersion(db: SqlExecutor, key: KeyRow, keyVersionId: string | undefined): Promise<VersionRow> {
  if (keyVersionId) return loadVersion(db, key, keyVersionId);
  if (key.primary_key_version) return loadPrimaryVersion(db, key);
  const versions = await listVersions(db, key.key_id);
  if (versions.length === 1) return versions[0]!;
  throw new KmsError('MissingParameter', `Key ${key.key_id} has ${versions.length} versions; name one with KeyVersionId (ListKeyVersions shows them).`);
}

export function storedVersion(key: KeyRow, v: VersionRow): StoredVersion {
  return {
    keyId: key.key_id,
    keyVersionId: v.key_version_id,
    keySpec: key.key_spec,
    material: v.material,
    publicKey: v.public_key,
    hsmObjectId: v.hsm_object_id,
    tokenSerial: key.token_serial,
  };
}

/**
 * Run `fn` with a version's secret half on its backend: the material is read for this call
 * alone and zeroed when it returns, whatever happens.
 */
export async function useSecret<T>(
  kms: KmsContext,
  db: SqlExecutor,
  key: KeyRow,
  version: VersionRow,
  fn: (backend: KeyBackend, v: StoredVersion) => Promise<T>,
): Promise<T> {
  const backend = backendFor(kms, key);
  const material = await getVersionMaterial(db, version.key_version_id);
  try {
    return await fn(backend, storedVersion(key, { ...version, material }));
  } finally {
    wipe(material);
  }
}

export function backendFor(ctx: KmsContext, key: KeyRow): KeyBackend {
  const backend = ctx.backends[key.protection_level];
  if (!backend) {
    throw new KmsError('Hsm.NotConfigured', `Key ${key.key_id} lives in an HSM, and no PKCS#11 module is configured: give --pkcs11-module.`);
  }
  return backend;
}

export function rotationStatus(key: KeyRow): RotationStatus {
  if (key.rotation_status === 'Enabled' && (key.key_state === 'Disabled' || key.key_state === 'PendingDeletion')) return 'Suspended';
  return key.rotation_status;
}

export function nextRotationDate(key: KeyRow): string | undefined {
  if (rotationStatus(key) !== 'Enabled' || !key.rotation_interval || !key.last_rotation_date) return undefined;
  return isoTime(new Date(Date.parse(key.last_rotation_date) + key.rotation_interval * 1000));
}

export function keyMetadata(key: KeyRow): KeyMetadata {
  const m: KeyMetadata = {
    KeyId: key.key_id,
    KeySpec: key.key_spec,
    KeyUsage: key.key_usage,
    Origin: key.origin,
    ProtectionLevel: key.protection_level,
    Description: key.description,
    CreationDate: key.creation_date,
    Creator: key.creator,
    KeyState: key.key_state,
    AutomaticRotation: rotationStatus(key),
    Exportable: key.exportable === 1,
  };
  if (key.primary_key_version) m.PrimaryKeyVersion = key.primary_key_version;
  if (key.delete_date) m.DeleteDate = key.delete_date;
  if (key.material_expire_time) m.MaterialExpireTime = key.material_expire_time;
  if (key.rotation_interval) m.RotationInterval = `${key.rotation_interval}s`;
  if (key.last_rotation_date) m.LastRotationDate = key.last_rotation_date;
  const next = nextRotationDate(key);
  if (next) m.NextRotationDate = next;
  return m;
}

export function keyVersionOf(v: VersionRow): KeyVersion {
  return { KeyId: v.key_id, KeyVersionId: v.key_version_id, CreationDate: v.creation_date };
}
