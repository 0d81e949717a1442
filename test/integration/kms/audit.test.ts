/**
 * The hash-chained audit log, through the same dispatch as every front door: one entry per state
 * change and per key use, carrying the returned RequestId and never a secret; VerifyAuditLog
 * names the first entry that was altered, removed or relinked; ExportAuditLog writes JSON lines
 * that OpenSSL hashes to the returned Sha256, and never over an existing file.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';
import { openHarness, firstVersionOf, PASSPHRASE, type Harness } from '../../support/kmsHarness';
import { openssl } from '../../support/openssl';
import type { OperationName, OperationOutput } from '../../../src-shared/contract/operations';
import type { AuditEntry } from '../../../src-main/services/audit/auditLog';
import { dispatch } from '../../../src-main/handlers/dispatch';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NEW_PASSPHRASE = 'audit-test new passphrase ключ';

async function allEntries(h: Harness): Promise<AuditEntry[]> {
  return h.raw((db) => db.all<AuditEntry>('SELECT * FROM audit_log ORDER BY seq'));
}

async function lastSeq(h: Harness): Promise<number> {
  return h.raw(async (db) => (await db.get<{ s: number | null }>('SELECT max(seq) AS s FROM audit_log'))?.s ?? 0);
}

/** Test-only tampering: raw SQL inside a write transaction, as an attacker with the key could. */
async function tamper(h: Harness, sql: string, params: (string | number | null)[] = []): Promise<void> {
  await h.session.kms.keystore.transaction(async (tx) => {
    const r = await tx.run(sql, params);
    assert.equal(r.changes, 1, `tampering changed one row: ${sql}`);
  });
}

describe('audit log: one entry per change and per key use, never a secret', () => {
  let h: Harness;
  /** Texts that must never reach the audit log, in any column, in any encoding we can think of. */
  const secrets: string[] = [PASSPHRASE, NEW_PASSPHRASE];

  before(async () => {
    h = await openHarness();
  });
  after(() => h.close());

  interface Expect {
    keyId: string | null;
    /** The version the entry names: a value, null for none, or 'any' when only its presence is known. */
    keyVersionId?: string | null | 'any';
  }

  /** Calls the operation and proves it appended exactly one entry that matches. */
  async function audited<N extends OperationName>(
    name: N,
    input: Record<string, unknown>,
    expect: (out: OperationOutput<N> & { RequestId: string }) => Expect,
  ): Promise<{ out: OperationOutput<N> & { RequestId: string }; entry: AuditEntry }> {
    const before = await lastSeq(h);
    const out = await h.call(name, input);
    const added = await h.raw((db) => db.all<AuditEntry>('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq', [before]));
    assert.equal(added.length, 1, `${name} appended ${added.length} entries`);
    const e = added[0]!;
    const want = expect(out);
    assert.equal(e.seq, before + 1);
    assert.equal(e.request_id, out.RequestId, `${name}: the entry's request_id is the returned RequestId`);
    assert.equal(e.operation, name);
    assert.equal(e.key_id, want.keyId, `${name}: key_id`);
    if (want.keyVersionId === 'any') assert.match(e.key_version_id ?? '', UUID, `${name}: key_version_id`);
    else if (want.keyVersionId !== undefined) assert.equal(e.key_version_id, want.keyVersionId, `${name}: key_version_id`);
    assert.equal(e.result, 'Success');
    assert.equal(Date.parse(e.time), h.clock.now.getTime(), `${name}: the entry's time is the session clock`);
    assert.equal(typeof JSON.parse(e.details), 'object', `${name}: details are a JSON object`);
    return { out, entry: e };
  }

  /** Every secret, as text, hex and base64, is absent from every column of every entry. */
  async function assertNoSecretInLog(): Promise<void> {
    const text = JSON.stringify(await allEntries(h));
    for (const s of secrets) {
      const forms = [s, Buffer.from(s, 'utf8').toString('hex'), Buffer.from(s, 'utf8').toString('base64')];
      for (const f of forms) assert.ok(!text.includes(f), `a secret (${s.slice(0, 6)}...) is in the audit log`);
    }
  }

  it('InitKeystore wrote the first entry', async () => {
    const [first, ...rest] = await allEntries(h);
    assert.ok(first);
    assert.deepEqual(rest, []);
    assert.equal(first.seq, 1);
    assert.equal(first.operation, 'InitKeystore');
    assert.match(first.request_id, UUID);
    assert.equal(first.key_id, null);
    assert.equal(first.prev_hash, '0'.repeat(64));
    assert.match(first.hash, /^[0-9a-f]{64}$/);
  });

  it('key lifecycle, versions and aliases: one entry each, with the key and the RequestId', async () => {
    const { out: created, entry } = await audited('CreateKey', { KeySpec: 'AES_256', Description: 'audited key' }, (o) => ({
      keyId: o.KeyMetadata.KeyId,
      keyVersionId: o.KeyMetadata.PrimaryKeyVersion,
    }));
    const keyId = created.KeyMetadata.KeyId;
    assert.equal(JSON.parse(entry.details).KeySpec, 'AES_256');
    const other = (await audited('CreateKey', { KeySpec: 'SM4' }, (o) => ({ keyId: o.KeyMetadata.KeyId }))).out.KeyMetadata.KeyId;

    await audited('DisableKey', { KeyId: keyId }, () => ({ keyId }));
    await audited('EnableKey', { KeyId: keyId }, () => ({ keyId }));
    await audited('UpdateKeyDescription', { KeyId: keyId, Description: 'described again' }, () => ({ keyId }));
    await audited('UpdateRotationPolicy', { KeyId: keyId, EnableAutomaticRotation: true, RotationInterval: '30d' }, () => ({ keyId }));
    const v2 = await audited('CreateKeyVersion', { KeyId: keyId }, (o) => ({ keyId, keyVersionId: o.KeyVersion.KeyVersionId }));
    assert.match(v2.out.KeyVersion.KeyVersionId, UUID);
    const { entry: scheduled } = await audited('ScheduleKeyDeletion', { KeyId: other, PendingWindowInDays: 7 }, () => ({ keyId: other }));
    assert.equal(JSON.parse(scheduled.details).PendingWindowInDays, 7);
    await audited('CancelKeyDeletion', { KeyId: other }, () => ({ keyId: other }));

    const { entry: aliasEntry } = await audited('CreateAlias', { AliasName: 'alias/audited', KeyId: keyId }, () => ({ keyId }));
    assert.equal(JSON.parse(aliasEntry.details).AliasName, 'alias/audited');
    const { entry: moved } = await audited('UpdateAlias', { AliasName: 'alias/audited', KeyId: other }, () => ({ keyId: other }));
    assert.equal(JSON.parse(moved.details).PreviousKeyId, keyId);
    await audited('DeleteAlias', { AliasName: 'alias/audited' }, () => ({ keyId: other }));
  });

  it('symmetric key uses: one entry each, and neither the plaintext nor the data key is recorded', async () => {
    const keyId = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    const dest = (await h.call('CreateKey', { KeySpec: 'SM4' })).KeyMetadata.KeyId;
    const plaintext = `audit-plaintext ${randomBytes(8).toString('hex')} 机密`;
    secrets.push(plaintext);

    const enc = await audited('Encrypt', { KeyId: keyId, Plaintext: plaintext, EncryptionContext: { purpose: 'audit' } }, (o) => ({
      keyId,
      keyVersionId: o.KeyVersionId,
    }));
    const dec = await audited('Decrypt', { CiphertextBlob: enc.out.CiphertextBlob, EncryptionContext: { purpose: 'audit' } }, () => ({
      keyId,
      keyVersionId: enc.out.KeyVersionId,
    }));
    assert.equal(dec.out.Plaintext, plaintext);
    const re = await audited(
      'ReEncrypt',
      { CiphertextBlob: enc.out.CiphertextBlob, SourceEncryptionContext: { purpose: 'audit' }, DestinationKeyId: dest },
      (o) => ({ keyId: dest, keyVersionId: o.KeyVersionId }),
    );
    assert.equal(JSON.parse(re.entry.details).SourceKeyId, keyId);

    const gdk = await audited('GenerateDataKey', { KeyId: keyId, NumberOfBytes: 32 }, () => ({ keyId, keyVersionId: 'any' }));
    secrets.push(gdk.out.Plaintext, Buffer.from(gdk.out.Plaintext, 'base64').toString('hex'));
    const gdk128 = await audited('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_128' }, () => ({ keyId, keyVersionId: 'any' }));
    secrets.push(gdk128.out.Plaintext, Buffer.from(gdk128.out.Plaintext, 'base64').toString('hex'));
    const wp = await audited('GenerateDataKeyWithoutPlaintext', { KeyId: keyId }, () => ({ keyId, keyVersionId: 'any' }));
    // Decrypting the data key's blob reveals it to the caller, not to the log.
    const revealed = await audited('Decrypt', { CiphertextBlob: wp.out.CiphertextBlob }, () => ({ keyId, keyVersionId: wp.out.KeyVersionId }));
    secrets.push(revealed.out.Plaintext);

    const hmac = (await h.call('CreateKey', { KeySpec: 'HMAC_256' })).KeyMetadata.KeyId;
    const message = Buffer.from('audited mac message').toString('base64');
    const mac = await audited('GenerateMac', { KeyId: hmac, Message: message }, () => ({ keyId: hmac, keyVersionId: 'any' }));
    const verified = await audited('VerifyMac', { KeyId: hmac, Message: message, Mac: mac.out.Mac }, () => ({ keyId: hmac, keyVersionId: 'any' }));
    assert.equal(verified.out.MacValid, true);
    await assertNoSecretInLog();
  });

  it('asymmetric key uses: one entry each, the plaintext not recorded', async () => {
    const rsaEnc = (await h.call('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' })).KeyMetadata.KeyId;
    const rsaEncV = await firstVersionOf(h, rsaEnc);
    const ec = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
    const ecV = await firstVersionOf(h, ec);

    const secretBytes = randomBytes(24);
    secrets.push(secretBytes.toString('base64'), secretBytes.toString('hex'));
    const ae = await audited(
      'AsymmetricEncrypt',
      { KeyId: rsaEnc, KeyVersionId: rsaEncV, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: secretBytes.toString('base64') },
      () => ({ keyId: rsaEnc, keyVersionId: rsaEncV }),
    );
    const ad = await audited(
      'AsymmetricDecrypt',
      { KeyId: rsaEnc, KeyVersionId: rsaEncV, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: ae.out.CiphertextBlob },
      () => ({ keyId: rsaEnc, keyVersionId: rsaEncV }),
    );
    assert.equal(ad.out.Plaintext, secretBytes.toString('base64'));

    const digest = createHash('sha256').update('signed by the audit test').digest('base64');
    const sig = await audited('AsymmetricSign', { KeyId: ec, KeyVersionId: ecV, Algorithm: 'ECDSA_SHA_256', Digest: digest }, () => ({ keyId: ec, keyVersionId: ecV }));
    const ver = await audited(
      'AsymmetricVerify',
      { KeyId: ec, KeyVersionId: ecV, Algorithm: 'ECDSA_SHA_256', Digest: digest, Value: sig.out.Value },
      () => ({ keyId: ec, keyVersionId: ecV }),
    );
    assert.equal(ver.out.Value, true);
    await assertNoSecretInLog();
  });

  it('BYOK: GetParametersForImport, ImportKeyMaterial, DeleteKeyMaterial; neither the material nor the token is recorded', async () => {
    const keyId = (await h.call('CreateKey', { KeySpec: 'AES_256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    const params = await audited('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }, () => ({ keyId }));
    const material = randomBytes(32);
    const wrapped = publicEncrypt(
      { key: createPublicKey({ key: Buffer.from(params.out.PublicKey, 'base64'), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      material,
    );
    secrets.push(material.toString('base64'), material.toString('hex'), params.out.ImportToken);
    await audited('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped.toString('base64'), ImportToken: params.out.ImportToken }, () => ({
      keyId,
      keyVersionId: 'any',
    }));
    assert.equal((await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState, 'Enabled');
    await audited('DeleteKeyMaterial', { KeyId: keyId }, () => ({ keyId, keyVersionId: 'any' }));
    await assertNoSecretInLog();
  });

  it('keystore operations: ChangePassphrase and BackupKeystore each write one entry, never the passphrase', async () => {
    await audited('ChangePassphrase', { CurrentPassphrase: PASSPHRASE, NewPassphrase: NEW_PASSPHRASE }, () => ({ keyId: null, keyVersionId: null }));
    await audited('ChangePassphrase', { CurrentPassphrase: NEW_PASSPHRASE, NewPassphrase: PASSPHRASE }, () => ({ keyId: null, keyVersionId: null }));
    const out = nodePath.join(h.dir, 'backup.db');
    const { out: backup, entry } = await audited('BackupKeystore', { OutputFile: out }, () => ({ keyId: null, keyVersionId: null }));
    assert.equal(JSON.parse(entry.details).Sha256, backup.Sha256);
    await h.reopen(); // the passphrase is the harness's again
    await assertNoSecretInLog();
  });

  it('reads and VerifyAuditLog write no entry, ExportAuditLog one (the file it wrote); refused operations write none', async () => {
    const keyId = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    const before = await lastSeq(h);
    await h.call('DescribeKey', { KeyId: keyId });
    await h.call('ListKeys', {});
    await h.call('ListKeyVersions', { KeyId: keyId });
    await h.call('DescribeKeyVersion', { KeyId: keyId, KeyVersionId: await firstVersionOf(h, keyId) });
    await h.call('ListAliases', {});
    await h.call('ListAliasesByKeyId', { KeyId: keyId });
    await h.call('VerifyAuditLog', {});
    await h.call('ListAuditEvents', { KeyId: keyId });
    assert.equal(await lastSeq(h), before);
    const exported = await h.call('ExportAuditLog', { OutputFile: nodePath.join(h.dir, 'reads.jsonl') });
    assert.equal(await lastSeq(h), before + 1, 'the export records the file it wrote');
    const recorded = (await h.call('ListAuditEvents', { Operation: 'ExportAuditLog' })).Events[0]!;
    assert.equal(recorded.RequestId, exported.RequestId);
    assert.equal(recorded.Details.Sha256, exported.Sha256);
    assert.equal(recorded.Details.Entries, before);

    // h.refuse also proves every table, audit_log included, is unchanged.
    await h.call('CreateAlias', { AliasName: 'alias/taken', KeyId: keyId });
    const enc = await h.call('Encrypt', { KeyId: keyId, Plaintext: 'x' });
    await h.refuse('DescribeKey', { KeyId: '00000000-0000-4000-8000-000000000000' }, 'NotFound.Key');
    await h.refuse('CreateKey', { KeySpec: 'RSA_1024' }, 'InvalidParameter.KeySpec');
    await h.refuse('CreateAlias', { AliasName: 'alias/taken', KeyId: keyId }, 'AlreadyExists.Alias');
    await h.refuse('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { wrong: 'context' } }, 'InvalidCiphertext');
    await h.call('DisableKey', { KeyId: keyId });
    await h.refuse('Encrypt', { KeyId: keyId, Plaintext: 'refused' }, 'Rejected.KeyState');
    await h.refuse('ChangePassphrase', { CurrentPassphrase: PASSPHRASE, NewPassphrase: 'short' }, 'InvalidParameter.Passphrase');
    await h.refuse('ChangePassphrase', { CurrentPassphrase: 'not the passphrase', NewPassphrase: 'a perfectly fine new one' }, 'IncorrectPassphrase');
    await h.refuse('BackupKeystore', { OutputFile: nodePath.join(h.dir, 'backup.db') }, 'AlreadyExists.File');
  });

  it('the whole log verifies: Valid, with the number of entries; every request id is distinct', async () => {
    const entries = await allEntries(h);
    const verdict = await h.call('VerifyAuditLog', {});
    assert.equal(verdict.Valid, true);
    assert.equal(verdict.Entries, entries.length);
    assert.equal(verdict.FirstBadEntry, undefined);
    assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => i + 1));
    assert.equal(new Set(entries.map((e) => e.request_id)).size, entries.length);
  });

  it('a key destroyed when its deletion falls due is recorded as DestroyKey', async () => {
    const keyId = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    await h.call('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 });
    const before = await lastSeq(h);
    h.clock.now = new Date(h.clock.now.getTime() + 8 * 24 * 3600 * 1000);
    await h.reopen();
    const added = await h.raw((db) => db.all<AuditEntry>('SELECT * FROM audit_log WHERE seq > ? AND operation = ?', [before, 'DestroyKey']));
    assert.equal(added.length, 1);
    assert.equal(added[0]!.key_id, keyId);
    assert.match(added[0]!.request_id, UUID);
    await h.refuse('DescribeKey', { KeyId: keyId }, 'NotFound.Key');
    assert.equal((await h.call('VerifyAuditLog', {})).Valid, true);
    await assertNoSecretInLog();
  });
});

describe('VerifyAuditLog names the first bad entry', () => {
  let h: Harness;
  let n: number;

  before(async () => {
    h = await openHarness();
    const keyId = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    for (let i = 0; i < 8; i++) await h.call('Encrypt', { KeyId: keyId, Plaintext: `entry ${i}` });
    await h.call('CreateAlias', { AliasName: 'alias/chain', KeyId: keyId });
    n = await lastSeq(h);
    assert.equal(n, 11);
    assert.deepEqual(await h.call('VerifyAuditLog', {}).then(({ RequestId: _, HeadHash: __, ...v }) => v), { Valid: true, Entries: n });
  });
  after(() => h.close());

  // HeadHash is checked on its own below; the verdicts here compare validity and position.
  async function verdict() {
    const { RequestId: _, HeadHash: __, ...v } = await h.call('VerifyAuditLog', {});
    return v;
  }

  async function entry(seq: number): Promise<AuditEntry> {
    const e = await h.raw((db) => db.get<AuditEntry>('SELECT * FROM audit_log WHERE seq = ?', [seq]));
    assert.ok(e);
    return e;
  }

  /** Alters one column of one entry, checks the verdict, and puts the original back. */
  async function alterAndRestore(seq: number, column: keyof AuditEntry, value: string | number | null): Promise<void> {
    const original = await entry(seq);
    await tamper(h, `UPDATE audit_log SET ${column} = ? WHERE seq = ?`, [value, seq]);
    const v = await verdict();
    assert.equal(v.Valid, false, `changing ${column} of entry ${seq} went unnoticed`);
    assert.equal(v.FirstBadEntry, seq, `changing ${column} of entry ${seq}: ${v.Reason}`);
    assert.equal(v.Entries, seq - 1, 'Entries counts the good entries before it');
    assert.ok(v.Reason && v.Reason.length > 0);
    await tamper(h, `UPDATE audit_log SET ${column} = ? WHERE seq = ?`, [original[column], seq]);
    assert.deepEqual(await verdict(), { Valid: true, Entries: n }, `entry ${seq} restored`);
  }

  it('an entry whose details were changed with raw SQL', async () => {
    const e = await entry(5);
    const details = JSON.parse(e.details) as Record<string, unknown>;
    await alterAndRestore(5, 'details', JSON.stringify({ ...details, Injected: 'by an attacker' }));
    // Even a change that keeps the JSON equivalent (whitespace) is caught.
    await alterAndRestore(5, 'details', `${e.details} `);
  });

  it('every other field of an entry, including its own hash', async () => {
    const e = await entry(7);
    await alterAndRestore(7, 'operation', 'Decrypt');
    await alterAndRestore(7, 'key_id', '00000000-0000-4000-8000-000000000000');
    await alterAndRestore(7, 'key_version_id', null);
    await alterAndRestore(7, 'request_id', '00000000-0000-4000-8000-000000000001');
    await alterAndRestore(7, 'time', '2020-01-01T00:00:00Z');
    await alterAndRestore(7, 'result', 'Failure');
    await alterAndRestore(7, 'hash', 'f'.repeat(64));
    assert.notEqual(e.hash, 'f'.repeat(64));
    // The first and the last entries too.
    await alterAndRestore(1, 'operation', 'Tampered');
    await alterAndRestore(n, 'details', '{}');
  });

  it('an entry whose prev_hash was changed', async () => {
    await alterAndRestore(4, 'prev_hash', (await entry(2)).hash);
    await alterAndRestore(1, 'prev_hash', 'a'.repeat(64));
  });

  it('a deleted middle entry: FirstBadEntry names the gap', async () => {
    for (const seq of [6, 1]) {
      const original = await entry(seq);
      await tamper(h, 'DELETE FROM audit_log WHERE seq = ?', [seq]);
      const v = await verdict();
      assert.equal(v.Valid, false);
      assert.equal(v.FirstBadEntry, seq, v.Reason);
      assert.equal(v.Entries, seq - 1);
      assert.ok(v.Reason?.includes(String(seq)), v.Reason);
      const cols = Object.keys(original) as (keyof AuditEntry)[];
      await tamper(h, `INSERT INTO audit_log (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, cols.map((c) => original[c]));
      assert.deepEqual(await verdict(), { Valid: true, Entries: n });
    }
  });

  it('two entries swapped (same contents, other order)', async () => {
    const a = await entry(3);
    const b = await entry(4);
    await tamper(h, 'UPDATE audit_log SET seq = -4 WHERE seq = 4');
    await tamper(h, 'UPDATE audit_log SET seq = 4 WHERE seq = 3');
    await tamper(h, 'UPDATE audit_log SET seq = 3 WHERE seq = -4');
    const v = await verdict();
    assert.equal(v.Valid, false);
    assert.equal(v.FirstBadEntry, 3, v.Reason);
    await tamper(h, 'UPDATE audit_log SET seq = -3 WHERE seq = 3');
    await tamper(h, 'UPDATE audit_log SET seq = 3 WHERE seq = 4');
    await tamper(h, 'UPDATE audit_log SET seq = 4 WHERE seq = -3');
    assert.deepEqual(await entry(3), a);
    assert.deepEqual(await entry(4), b);
    assert.deepEqual(await verdict(), { Valid: true, Entries: n });
  });

  it('names the newest entry\'s hash as HeadHash, and notices the newest entries being removed', async () => {
    const before = await h.call('VerifyAuditLog', {});
    const last = await entry(before.Entries);
    assert.equal(before.HeadHash, last.hash);
    const snapshot = await h.raw((db) => db.all<Record<string, unknown>>('SELECT * FROM audit_log WHERE seq = ?', [before.Entries]));
    await tamper(h, 'DELETE FROM audit_log WHERE seq = ?', [before.Entries]);
    try {
      const v = await verdict();
      assert.equal(v.Valid, false, 'a removed tail went unnoticed');
      assert.equal(v.FirstBadEntry, before.Entries);
    } finally {
      const r = snapshot[0]!;
      await tamper(h, 'INSERT INTO audit_log (seq, request_id, time, operation, key_id, key_version_id, details, result, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        r.seq, r.request_id, r.time, r.operation, r.key_id, r.key_version_id, r.details, r.result, r.prev_hash, r.hash,
      ] as never);
    }
    assert.equal((await verdict()).Valid, true);
  });

  it('a row slipped in before the first entry (seq 0) is not part of a valid chain', async () => {
    const first = await entry(1);
    await tamper(h, 'INSERT INTO audit_log (seq, request_id, time, operation, key_id, key_version_id, details, result, prev_hash, hash) VALUES (0, ?, ?, ?, NULL, NULL, ?, ?, ?, ?)', [
      '00000000-0000-4000-8000-000000000002', first.time, 'Forged', '{}', 'Success', '0'.repeat(64), first.prev_hash,
    ]);
    try {
      const v = await verdict();
      assert.equal(v.Valid, false, `a forged row at seq 0 went unnoticed: ${JSON.stringify(v)}`);
    } finally {
      await tamper(h, 'DELETE FROM audit_log WHERE seq = 0');
    }
  });
});

describe('ExportAuditLog', () => {
  let h: Harness;

  before(async () => {
    h = await openHarness();
    const keyId = (await h.call('CreateKey', { KeySpec: 'AES_256', Description: 'export "quotes" and\nnewlines 密钥' })).KeyMetadata.KeyId;
    await h.call('Encrypt', { KeyId: keyId, Plaintext: 'exported? never' });
    await h.call('CreateAlias', { AliasName: 'alias/export', KeyId: keyId });
    await h.call('DisableKey', { KeyId: keyId });
  });
  after(() => h.close());

  it('writes the log as JSON lines; the returned Sha256 is the file\'s, as OpenSSL computes it', async () => {
    const file = nodePath.join(h.dir, 'audit.jsonl');
    const r = await h.call('ExportAuditLog', { OutputFile: file });
    // The export's own entry comes after what it wrote (record first, then publish).
    const all = await allEntries(h);
    assert.equal(all[all.length - 1]!.operation, 'ExportAuditLog');
    assert.equal(JSON.parse(all[all.length - 1]!.details).Sha256, r.Sha256);
    const entries = all.slice(0, -1);
    assert.equal(r.OutputFile, file);
    assert.equal(r.Entries, entries.length);
    assert.equal(r.Entries, 5);

    const bytes = fs.readFileSync(file);
    assert.equal(r.Sha256, createHash('sha256').update(bytes).digest('hex'));
    const dgst = openssl(['dgst', '-sha256', '-r', file]).toString('utf8');
    assert.equal(dgst.split(' ')[0], r.Sha256, `openssl: ${dgst}`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);

    const text = bytes.toString('utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines.length, entries.length, 'one line per entry');
    let prev = '0'.repeat(64);
    lines.forEach((line, i) => {
      const obj = JSON.parse(line) as Omit<AuditEntry, 'details'> & { details: unknown };
      const e = entries[i]!;
      assert.equal(obj.seq, e.seq);
      assert.equal(obj.request_id, e.request_id);
      assert.equal(obj.operation, e.operation);
      assert.equal(obj.key_id, e.key_id);
      assert.equal(obj.hash, e.hash);
      assert.equal(obj.prev_hash, prev, 'the exported lines chain');
      assert.deepEqual(obj.details, JSON.parse(e.details), 'details exported as JSON, not as a string');
      prev = obj.hash;
    });
    assert.ok(!text.includes('exported? never'), 'no plaintext in the export');
  });

  it('refuses an existing file with AlreadyExists.File and leaves it untouched, with no temporary file', async () => {
    const file = nodePath.join(h.dir, 'existing.jsonl');
    fs.writeFileSync(file, 'precious\n');
    const mtime = fs.statSync(file).mtimeMs;
    await h.refuse('ExportAuditLog', { OutputFile: file }, 'AlreadyExists.File');
    assert.equal(fs.readFileSync(file, 'utf8'), 'precious\n');
    assert.equal(fs.statSync(file).mtimeMs, mtime);
    // The first export's file is refused as well.
    const first = nodePath.join(h.dir, 'audit.jsonl');
    const before = fs.readFileSync(first);
    await h.refuse('ExportAuditLog', { OutputFile: first }, 'AlreadyExists.File');
    assert.deepEqual(fs.readFileSync(first), before);
    assert.deepEqual(fs.readdirSync(h.dir).filter((n) => n.endsWith('.partial')), []);
  });
});

describe('ListAuditEvents', () => {
  let h: Harness;
  let keyA: string;
  let keyB: string;

  before(async () => {
    h = await openHarness();
    keyA = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    keyB = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
    await h.call('Encrypt', { KeyId: keyA, Plaintext: 'listed? never' });
    await h.call('CreateAlias', { AliasName: 'alias/listed', KeyId: keyA });
    await h.call('DisableKey', { KeyId: keyB });
    await h.call('DisableKey', { KeyId: keyA });
  });
  after(() => h.close());

  it('pages through the log newest first, each entry as written, Details parsed', async () => {
    const entries = await allEntries(h);
    assert.equal(entries.length, 7);
    const first = await h.call('ListAuditEvents', { PageSize: 3 });
    assert.deepEqual({ ...first, Events: undefined, RequestId: undefined }, { Events: undefined, TotalCount: 7, PageNumber: 1, PageSize: 3, RequestId: undefined });
    assert.deepEqual(first.Events.map((e) => e.Seq), [7, 6, 5]);
    const newest = entries[6]!;
    assert.deepEqual(first.Events[0], {
      Seq: 7,
      RequestId: newest.request_id,
      Time: newest.time,
      Operation: 'DisableKey',
      KeyId: keyA,
      Details: {},
      Result: 'Success',
    });
    const third = await h.call('ListAuditEvents', { PageSize: 3, PageNumber: 3 });
    assert.deepEqual(third.Events.map((e) => e.Seq), [1]);
    const init = third.Events[0]!;
    assert.equal(init.Operation, 'InitKeystore');
    assert.ok(!('KeyId' in init) && !('KeyVersionId' in init), 'no key: the fields are absent, not null');
    assert.deepEqual(init.Details, JSON.parse(entries[0]!.details));
    assert.equal(typeof init.Details.SchemaVersion, 'number');
    const beyond = await h.call('ListAuditEvents', { PageSize: 3, PageNumber: 4 });
    assert.deepEqual([beyond.Events, beyond.TotalCount], [[], 7]);
    // The reference's default page: 10.
    const all = await h.call('ListAuditEvents', {});
    assert.equal(all.PageSize, 10);
    assert.deepEqual(all.Events.map((e) => e.Seq), [7, 6, 5, 4, 3, 2, 1]);
  });

  it('filters by operation, by key, or both; a KeyId in capitals finds the same entries', async () => {
    const disables = await h.call('ListAuditEvents', { Operation: 'DisableKey' });
    assert.equal(disables.TotalCount, 2);
    assert.deepEqual(disables.Events.map((e) => e.KeyId), [keyA, keyB]);
    const ofA = await h.call('ListAuditEvents', { KeyId: keyA });
    assert.deepEqual(ofA.Events.map((e) => e.Operation), ['DisableKey', 'CreateAlias', 'Encrypt', 'CreateKey']);
    assert.equal(ofA.TotalCount, 4);
    const create = ofA.Events[3]!;
    assert.match(create.KeyVersionId ?? '', UUID);
    assert.deepEqual(create.Details, { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT', Origin: 'Aliyun_KMS', ProtectionLevel: 'SOFTWARE', Exportable: false });
    assert.deepEqual((await h.call('ListAuditEvents', { KeyId: keyA.toUpperCase() })).Events, ofA.Events);
    const both = await h.call('ListAuditEvents', { KeyId: keyB, Operation: 'DisableKey' });
    assert.deepEqual([both.TotalCount, both.Events.map((e) => e.Seq)], [1, [6]]);
    const none = await h.call('ListAuditEvents', { Operation: 'NoSuchOperation' });
    assert.deepEqual([none.TotalCount, none.Events], [0, []]);
  });

  it('writes nothing, and refuses malformed filters and pages with the keystore unchanged', async () => {
    const before = await h.state();
    await h.call('ListAuditEvents', { Operation: 'Encrypt' });
    assert.equal(await h.state(), before, 'a read appends no entry');
    for (const bad of [{ Operation: 'Create Key' }, { Operation: "x' OR 1=1 --" }, { KeyId: 'alias/listed' }, { PageSize: 101 }, { PageNumber: 0 }, { Seq: 1 }]) {
      await h.refuse('ListAuditEvents', bad, 'InvalidParameter');
    }
    await h.session.lock();
    try {
      const r = await dispatch(h.session, 'ListAuditEvents', {});
      assert.equal(r.ok ? 'ok' : r.error.Code, 'Keystore.Locked');
    } finally {
      await h.session.unlock(Buffer.from(PASSPHRASE));
    }
    assert.equal(await h.state(), before);
  });
});
