/**
 * Versioned schema migrations. Migration N brings the keystore from user_version N-1 to N.
 * Append only: a shipped migration is never edited, because keystores made by it exist.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * The tables whose rows are state (rotation policies live in `keys`). Their rows carry a
 * 128-bit tag (four 32-bit words, so SQLite's sum() adds them in C at open without overflow
 * below 2^31 rows) that triggers draw afresh whenever the row is written.
 */
export const STATEFUL_TABLES = ['keys', 'key_versions', 'aliases', 'import_parameters'] as const;
/**
 * The seal: a table of its own (its own page) and a copy in meta (a page every state change
 * writes anyway, for audit_head), so the copies never share a page and cost one extra page per
 * commit. SEAL_COPY_PREFIX + table name is the copy's name in meta.
 */
export const SEAL_TABLE = 'state_seal';
export const SEAL_COPY_PREFIX = 'seal:';
/** How a seal row reads as text (the meta copy, and what the check compares). */
export const SEAL_TEXT = "printf('%d:%d:%d:%d:%d:%s', row_count, s0, s1, s2, s3, head_hash)";

const TAG_WORDS = [0, 1, 2, 3] as const;
const RANDOM_WORD = 'random() & 4294967295';

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
  {
    version: 2,
    description: 'freshness: a random tag per row, renewed on every write, and their sums sealed twice',
    sql: freshnessMigration(),
  },
];


/**
 * Migration 2 (built once from the lists above; never change its text, keystores carry it).
 *
 * Why tags and triggers: SQLCipher's page HMACs prove a page was written with the key, not that
 * it is the newest. An older page spliced into a newer file carries its rows with the tags they
 * had then, so the sum of tags (and the row count) no longer matches the seal, which every write
 * keeps current in the same transaction. Triggers, not the repository, keep it: every writer
 * (foreign-key cascades, bulk updates, later code) is covered, and the cost is a few statements
 * in C per changed row. The tags are random rather than a hash of the row: an attacker who can
 * only splice whole pages cannot separate a row from its tag (rows here never reach overflow
 * pages), and random() needs no hashing code in SQL. No MAC over the seal either: a page can only
 * come from the key holder, and anyone able to write a page could read a MAC secret too.
 * Every state change also appends to the audit log, whose head (seq, hash) is in the seal, in its
 * copy in meta and in meta's audit_head: three pages besides the log's own. Rolling the state back
 * needs the old audit tail, seal and meta pages at once (and the pages of every changed row): a
 * consistent rollback of three pages or more, which only an outside anchor can catch.
 */
function freshnessMigration(): string {
  const tagSet = TAG_WORDS.map((i) => `fresh_${i} = ${RANDOM_WORD}`).join(', ');
  const copy = (name: string) =>
    `UPDATE meta SET value = (SELECT ${SEAL_TEXT} FROM ${SEAL_TABLE} WHERE name = '${name}') WHERE name = '${SEAL_COPY_PREFIX}${name}';`;
  const parts: string[] = [
    `CREATE TABLE ${SEAL_TABLE} (
        name       TEXT PRIMARY KEY,
        row_count  INTEGER NOT NULL,
        s0 INTEGER NOT NULL, s1 INTEGER NOT NULL, s2 INTEGER NOT NULL, s3 INTEGER NOT NULL,
        head_hash  TEXT NOT NULL DEFAULT ''
      );`,
  ];
  for (const t of STATEFUL_TABLES) {
    parts.push(...TAG_WORDS.map((i) => `ALTER TABLE ${t} ADD COLUMN fresh_${i} INTEGER NOT NULL DEFAULT 0;`));
    parts.push(`UPDATE ${t} SET ${tagSet};`);
    const sums = TAG_WORDS.map((i) => `coalesce(sum(fresh_${i}), 0)`).join(', ');
    parts.push(`INSERT INTO ${SEAL_TABLE} (name, row_count, s0, s1, s2, s3) SELECT '${t}', count(*), ${sums} FROM ${t};`);
    const unchanged = TAG_WORDS.map((i) => `NEW.fresh_${i} = OLD.fresh_${i}`).join(' AND ');
    // A new row starts with tags 0 and draws them at once (the sum trigger adds them).
    parts.push(`CREATE TRIGGER ${t}_seal_insert AFTER INSERT ON ${t} BEGIN
        UPDATE ${SEAL_TABLE} SET row_count = row_count + 1 WHERE name = '${t}';
        UPDATE ${t} SET ${tagSet} WHERE rowid = NEW.rowid;
      END;`);
    // Any write that left the tags alone draws new ones (recursive_triggers is off: this runs once).
    parts.push(`CREATE TRIGGER ${t}_seal_renew AFTER UPDATE ON ${t} WHEN ${unchanged} BEGIN
        UPDATE ${t} SET ${tagSet} WHERE rowid = NEW.rowid;
      END;`);
    parts.push(`CREATE TRIGGER ${t}_seal_sum AFTER UPDATE OF ${TAG_WORDS.map((i) => `fresh_${i}`).join(', ')} ON ${t} BEGIN
        UPDATE ${SEAL_TABLE} SET ${TAG_WORDS.map((i) => `s${i} = s${i} + NEW.fresh_${i} - OLD.fresh_${i}`).join(', ')} WHERE name = '${t}';
        ${copy(t)}
      END;`);
    parts.push(`CREATE TRIGGER ${t}_seal_delete AFTER DELETE ON ${t} BEGIN
        UPDATE ${SEAL_TABLE} SET row_count = row_count - 1, ${TAG_WORDS.map((i) => `s${i} = s${i} - OLD.fresh_${i}`).join(', ')} WHERE name = '${t}';
        ${copy(t)}
      END;`);
  }
  parts.push(`INSERT INTO ${SEAL_TABLE} (name, row_count, s0, s1, s2, s3, head_hash)
        SELECT 'audit_log', coalesce(max(seq), 0), 0, 0, 0, 0, coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '') FROM audit_log;`);
  parts.push(`CREATE TRIGGER audit_log_seal AFTER INSERT ON audit_log BEGIN
        UPDATE ${SEAL_TABLE} SET row_count = NEW.seq, head_hash = NEW.hash WHERE name = 'audit_log';
        ${copy('audit_log')}
      END;`);
  parts.push(`INSERT INTO meta (name, value) SELECT '${SEAL_COPY_PREFIX}' || name, ${SEAL_TEXT} FROM ${SEAL_TABLE};`);
  // Names this keystore outside itself (the token anchor's label).
  parts.push("INSERT OR IGNORE INTO meta (name, value) VALUES ('keystore_id', lower(hex(randomblob(16))));");
  return parts.join('\n      ');
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
