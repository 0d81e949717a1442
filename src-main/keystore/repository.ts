/**
 * Typed reads and writes of the keystore's tables. Every function takes the executor of the
 * transaction (or read) it runs in; none opens its own, so callers decide atomicity.
 */
import type { SqlExecutor } from './sqlcipher';
import type { KeySpec, KeyUsage, KeyState, Origin, ProtectionLevel } from '../../src-shared/domain/keySpecs';
import type { RotationStatus } from '../../src-shared/contract/types';

export interface KeyRow {
  key_id: string;
  key_spec: KeySpec;
  key_usage: KeyUsage;
  origin: Origin;
  protection_level: ProtectionLevel;
  description: string;
  creation_date: string;
  creator: string;
  key_state: KeyState;
  primary_key_version: string | null;
  delete_date: string | null;
  material_expire_time: string | null;
  exportable: number;
  rotation_status: Exclude<RotationStatus, 'Suspended'>;
  rotation_interval: number | null;
  last_rotation_date: string | null;
  material_binding: Buffer | null;
  token_serial: string | null;
}

export interface VersionRow {
  key_version_id: string;
  key_id: string;
  creation_date: string;
  seq: number;
  material: Buffer | null;
  public_key: Buffer | null;
  hsm_object_id: Buffer | null;
}

export interface AliasRow {
  alias_name: string;
  key_id: string;
  creation_date: string;
  update_date: string;
}

export interface ImportParamsRow {
  token_hash: Buffer;
  key_id: string;
  wrapping_algorithm: string;
  wrapping_key_spec: string;
  private_key: Buffer;
  public_key: Buffer;
  expire_time: string;
}

export async function getKey(db: SqlExecutor, keyId: string): Promise<KeyRow | undefined> {
  return db.get<KeyRow>('SELECT * FROM keys WHERE key_id = ?', [keyId]);
}

export async function insertKey(db: SqlExecutor, k: KeyRow): Promise<void> {
  await db.run(
    `INSERT INTO keys (key_id, key_spec, key_usage, origin, protection_level, description, creation_date, creator,
       key_state, primary_key_version, delete_date, material_expire_time, exportable, rotation_status,
       rotation_interval, last_rotation_date, material_binding, token_serial)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      k.key_id, k.key_spec, k.key_usage, k.origin, k.protection_level, k.description, k.creation_date, k.creator,
      k.key_state, k.primary_key_version, k.delete_date, k.material_expire_time, k.exportable, k.rotation_status,
      k.rotation_interval, k.last_rotation_date, k.material_binding, k.token_serial,
    ],
  );
}

type KeyPatch = Partial<Omit<KeyRow, 'key_id'>>;

export async function updateKey(db: SqlExecutor, keyId: string, patch: KeyPatch): Promise<void> {
  const cols = Object.keys(patch) as (keyof KeyPatch)[];
  if (cols.length === 0) return;
  await db.run(`UPDATE keys SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE key_id = ?`, [
    ...cols.map((c) => patch[c] ?? null),
    keyId,
  ]);
}

export async function deleteKeyRow(db: SqlExecutor, keyId: string): Promise<void> {
  await db.run('DELETE FROM keys WHERE key_id = ?', [keyId]);
}

export async function countKeys(db: SqlExecutor): Promise<number> {
  return (await db.get<{ n: number }>('SELECT count(*) AS n FROM keys'))!.n;
}

export async function listKeyIds(db: SqlExecutor, limit: number, offset: number): Promise<string[]> {
  const rows = await db.all<{ key_id: string }>(
    'SELECT key_id FROM keys ORDER BY creation_date, key_id LIMIT ? OFFSET ?',
    [limit, offset],
  );
  return rows.map((r) => r.key_id);
}

export async function keysWithDeleteDateBefore(db: SqlExecutor, isoNow: string): Promise<KeyRow[]> {
  return db.all<KeyRow>(
    "SELECT * FROM keys WHERE key_state = 'PendingDeletion' AND delete_date <= ?",
    [isoNow],
  );
}

/** Keys whose automatic rotation is on and that can rotate now (Enabled); the caller checks the date. */
export async function keysWithRotationEnabled(db: SqlExecutor): Promise<KeyRow[]> {
  return db.all<KeyRow>("SELECT * FROM keys WHERE rotation_status = 'Enabled' AND key_state = 'Enabled' ORDER BY creation_date, key_id");
}

export async function keysWithMaterialExpiredBefore(db: SqlExecutor, isoNow: string): Promise<KeyRow[]> {
  return db.all<KeyRow>(
    "SELECT * FROM keys WHERE origin = 'EXTERNAL' AND material_expire_time IS NOT NULL AND material_expire_time <= ?",
    [isoNow],
  );
}

export async function insertVersion(db: SqlExecutor, v: VersionRow): Promise<void> {
  await db.run(
    `INSERT INTO key_versions (key_version_id, key_id, creation_date, seq, material, public_key, hsm_object_id)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [v.key_version_id, v.key_id, v.creation_date, v.seq, v.material, v.public_key, v.hsm_object_id],
  );
}

/** Version rows as most reads need them: everything but the secret material (read as NULL). */
const VERSION_METADATA = 'key_version_id, key_id, creation_date, seq, NULL AS material, public_key, hsm_object_id';

export async function getVersion(db: SqlExecutor, keyId: string, keyVersionId: string): Promise<VersionRow | undefined> {
  return db.get<VersionRow>(`SELECT ${VERSION_METADATA} FROM key_versions WHERE key_id = ? AND key_version_id = ?`, [keyId, keyVersionId]);
}

export async function listVersions(db: SqlExecutor, keyId: string): Promise<VersionRow[]> {
  return db.all<VersionRow>(`SELECT ${VERSION_METADATA} FROM key_versions WHERE key_id = ? ORDER BY seq DESC`, [keyId]);
}

/** The secret material of one version, read only by the code that uses it (and zeroes it). */
export async function getVersionMaterial(db: SqlExecutor, keyVersionId: string): Promise<Buffer | null> {
  return (await db.get<{ material: Buffer | null }>('SELECT material FROM key_versions WHERE key_version_id = ?', [keyVersionId]))?.material ?? null;
}

export async function versionHasMaterial(db: SqlExecutor, keyVersionId: string): Promise<boolean> {
  return (await db.get<{ has: number }>('SELECT material IS NOT NULL AS has FROM key_versions WHERE key_version_id = ?', [keyVersionId]))?.has === 1;
}

export async function nextVersionSeq(db: SqlExecutor, keyId: string): Promise<number> {
  const row = await db.get<{ s: number | null }>('SELECT max(seq) AS s FROM key_versions WHERE key_id = ?', [keyId]);
  return (row?.s ?? 0) + 1;
}

export async function setVersionMaterial(db: SqlExecutor, keyVersionId: string, material: Buffer | null): Promise<void> {
  await db.run('UPDATE key_versions SET material = ? WHERE key_version_id = ?', [material, keyVersionId]);
}

export async function getAlias(db: SqlExecutor, aliasName: string): Promise<AliasRow | undefined> {
  return db.get<AliasRow>('SELECT * FROM aliases WHERE alias_name = ?', [aliasName]);
}

export async function insertAlias(db: SqlExecutor, a: AliasRow): Promise<void> {
  await db.run('INSERT INTO aliases (alias_name, key_id, creation_date, update_date) VALUES (?, ?, ?, ?)', [
    a.alias_name, a.key_id, a.creation_date, a.update_date,
  ]);
}

export async function rebindAlias(db: SqlExecutor, aliasName: string, keyId: string, when: string): Promise<void> {
  await db.run('UPDATE aliases SET key_id = ?, update_date = ? WHERE alias_name = ?', [keyId, when, aliasName]);
}

export async function deleteAlias(db: SqlExecutor, aliasName: string): Promise<void> {
  await db.run('DELETE FROM aliases WHERE alias_name = ?', [aliasName]);
}

export async function listAliases(db: SqlExecutor, keyId: string | null, limit: number, offset: number): Promise<{ rows: AliasRow[]; total: number }> {
  const where = keyId === null ? '' : 'WHERE key_id = ?';
  const args = keyId === null ? [] : [keyId];
  const total = (await db.get<{ n: number }>(`SELECT count(*) AS n FROM aliases ${where}`, args))!.n;
  const rows = await db.all<AliasRow>(`SELECT * FROM aliases ${where} ORDER BY alias_name LIMIT ? OFFSET ?`, [...args, limit, offset]);
  return { rows, total };
}

export async function insertImportParams(db: SqlExecutor, p: ImportParamsRow): Promise<void> {
  await db.run(
    `INSERT INTO import_parameters (token_hash, key_id, wrapping_algorithm, wrapping_key_spec, private_key, public_key, expire_time)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [p.token_hash, p.key_id, p.wrapping_algorithm, p.wrapping_key_spec, p.private_key, p.public_key, p.expire_time],
  );
}

export async function getImportParams(db: SqlExecutor, tokenHash: Buffer): Promise<ImportParamsRow | undefined> {
  return db.get<ImportParamsRow>('SELECT * FROM import_parameters WHERE token_hash = ?', [tokenHash]);
}

const EXPIRED_WITH_KEY = 'FROM import_parameters WHERE expire_time <= ? AND length(private_key) > 0';

export async function countExpiredImportParams(db: SqlExecutor, isoNow: string): Promise<number> {
  return (await db.get<{ n: number }>(`SELECT count(*) AS n ${EXPIRED_WITH_KEY}`, [isoNow]))!.n;
}

/**
 * Expired import parameters lose their wrapping private key; the row (token hash, key, expiry)
 * stays so that a late import is told Import.TokenExpired rather than "unknown token".
 */
export async function wipeExpiredImportKeys(db: SqlExecutor, isoNow: string): Promise<number> {
  return (await db.run("UPDATE import_parameters SET private_key = X'' WHERE expire_time <= ? AND length(private_key) > 0", [isoNow])).changes;
}

/** Rows whose token expired before `isoBefore` have told late importers long enough. */
export async function deleteImportParamsExpiredBefore(db: SqlExecutor, isoBefore: string): Promise<number> {
  return (await db.run('DELETE FROM import_parameters WHERE expire_time <= ?', [isoBefore])).changes;
}

/** Every CKA_ID and KeyVersionId of an HSM version, to tell a token's orphan objects (ListOrphanHsmKeys). */
export async function hsmVersionRefs(db: SqlExecutor): Promise<{ hsm_object_id: Buffer; key_version_id: string }[]> {
  return db.all<{ hsm_object_id: Buffer; key_version_id: string }>('SELECT hsm_object_id, key_version_id FROM key_versions WHERE hsm_object_id IS NOT NULL');
}

/** The version that names this token object, by its CKA_ID or by the KeyVersionId in its label. */
export async function versionNamingHsmObject(db: SqlExecutor, objectId: Buffer, keyVersionIds: readonly string[]): Promise<{ key_id: string; key_version_id: string } | undefined> {
  const byId = await db.get<{ key_id: string; key_version_id: string }>('SELECT key_id, key_version_id FROM key_versions WHERE hsm_object_id = ? LIMIT 1', [objectId]);
  if (byId) return byId;
  for (const id of keyVersionIds) {
    const byLabel = await db.get<{ key_id: string; key_version_id: string }>('SELECT key_id, key_version_id FROM key_versions WHERE key_version_id = ?', [id]);
    if (byLabel) return byLabel;
  }
  return undefined;
}
