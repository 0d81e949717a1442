/**
 * Versioned schema migrations. Migration N brings the keystore from user_version N-1 to N.
 * Append only: a shipped migration is never edited, because keystores made by it exist.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'keys, versions, aliases, import parameters, audit log',
    sql: `
      CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE keys (
        key_id               TEXT PRIMARY KEY,
        key_spec             TEXT NOT NULL,
        key_usage            TEXT NOT NULL,
        origin               TEXT NOT NULL,
        protection_level     TEXT NOT NULL,
        description          TEXT NOT NULL DEFAULT '',
        creation_date        TEXT NOT NULL,
        creator              TEXT NOT NULL,
        key_state            TEXT NOT NULL,
        primary_key_version  TEXT,
        delete_date          TEXT,
        material_expire_time TEXT,
        exportable           INTEGER NOT NULL DEFAULT 0,
        rotation_status      TEXT NOT NULL DEFAULT 'Disabled',
        rotation_interval    INTEGER,
        last_rotation_date   TEXT,
        material_binding     BLOB,
        token_serial         TEXT
      );
      CREATE INDEX keys_by_creation ON keys(creation_date, key_id);
      CREATE INDEX keys_by_state ON keys(key_state, delete_date);
      CREATE INDEX keys_by_material_expiry ON keys(material_expire_time) WHERE material_expire_time IS NOT NULL;
      CREATE TABLE key_versions (
        key_version_id TEXT PRIMARY KEY,
        key_id         TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        creation_date  TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        material       BLOB,
        public_key     BLOB,
        hsm_object_id  BLOB,
        UNIQUE (key_id, seq)
      );
      CREATE INDEX key_versions_by_key ON key_versions(key_id);
      CREATE TABLE aliases (
        alias_name    TEXT PRIMARY KEY,
        key_id        TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        creation_date TEXT NOT NULL,
        update_date   TEXT NOT NULL
      );
      CREATE INDEX aliases_by_key ON aliases(key_id);
      CREATE TABLE import_parameters (
        token_hash         BLOB PRIMARY KEY,
        key_id             TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        wrapping_algorithm TEXT NOT NULL,
        wrapping_key_spec  TEXT NOT NULL,
        private_key        BLOB NOT NULL,
        public_key         BLOB NOT NULL,
        expire_time        TEXT NOT NULL
      );
      CREATE INDEX import_parameters_by_expiry ON import_parameters(expire_time);
      CREATE TABLE audit_log (
        seq            INTEGER PRIMARY KEY,
        request_id     TEXT NOT NULL,
        time           TEXT NOT NULL,
        operation      TEXT NOT NULL,
        key_id         TEXT,
        key_version_id TEXT,
        details        TEXT NOT NULL,
        result         TEXT NOT NULL,
        prev_hash      TEXT NOT NULL,
        hash           TEXT NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
