/** Key lifecycle through the handler table on a real SQLCipher keystore. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openHarness, type Harness } from '../../support/kmsHarness';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { KEY_SPECS, KEY_SPEC_INFO } from '../../../src-shared/domain/keySpecs';

const DAY = 86_400_000;

describe('CreateKey', () => {
  let h: Harness;
  before(async () => (h = await openHarness()));
  after(() => h.close());

  it('defaults to AES_256, ENCRYPT/DECRYPT, SOFTWARE, Aliyun_KMS, Enabled', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', { Description: 'root of trust' });
    assert.equal(m.KeySpec, 'AES_256');
    assert.equal(m.KeyUsage, 'ENCRYPT/DECRYPT');
    assert.equal(m.ProtectionLevel, 'SOFTWARE');
    assert.equal(m.Origin, 'Aliyun_KMS');
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.Description, 'root of trust');
    assert.equal(m.Creator, 'tester');
    assert.equal(m.CreationDate, '2026-01-15T10:00:00Z');
    assert.match(m.KeyId, /^[0-9a-f-]{36}$/);
    assert.ok(m.PrimaryKeyVersion);
    assert.equal(m.Exportable, false);
  });

  it('makes every KeySpec with each usage it allows, and accepts the Aliyun_ spellings', async () => {
    for (const spec of KEY_SPECS) {
      for (const usage of KEY_SPEC_INFO[spec].usages) {
        if (spec.startsWith('RSA_') && spec !== 'RSA_2048' && usage === 'ENCRYPT/DECRYPT') continue; // keep the run short
        const { KeyMetadata: m } = await h.call('CreateKey', { KeySpec: spec, KeyUsage: usage });
        assert.equal(m.KeySpec, spec);
        assert.equal(m.KeyUsage, usage);
        assert.equal(m.PrimaryKeyVersion !== undefined, !['RSA', 'EC', 'SM2', 'ED25519'].includes(KEY_SPEC_INFO[spec].family), spec);
      }
    }
    assert.equal((await h.call('CreateKey', { KeySpec: 'Aliyun_AES_256' })).KeyMetadata.KeySpec, 'AES_256');
    assert.equal((await h.call('CreateKey', { KeySpec: 'Aliyun_SM4' })).KeyMetadata.KeySpec, 'SM4');
  });

  it('refuses what the spec table does not allow, changing nothing', async () => {
    await h.refuse('CreateKey', { KeySpec: 'AES_512' }, 'InvalidParameter.KeySpec');
    await h.refuse('CreateKey', { KeySpec: 'EC_P384', KeyUsage: 'ENCRYPT/DECRYPT' }, 'InvalidParameter.KeyUsage');
    await h.refuse('CreateKey', { KeySpec: 'AES_256', KeyUsage: 'SIGN/VERIFY' }, 'InvalidParameter.KeyUsage');
    await h.refuse('CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'ENCRYPT/DECRYPT' }, 'InvalidParameter.KeyUsage');
    await h.refuse('CreateKey', { KeyUsage: 'DECRYPT' }, 'InvalidParameter.KeyUsage');
    // Without a token configured, any HSM key is refused before anything is made.
    await h.refuse('CreateKey', { KeySpec: 'SM4', ProtectionLevel: 'HSM' }, 'Hsm.NotConfigured');
    await h.refuse('CreateKey', { ProtectionLevel: 'CLOUD' }, 'InvalidParameter.ProtectionLevel');
    await h.refuse('CreateKey', { KeySpec: 'RSA_2048', Origin: 'EXTERNAL' }, 'InvalidParameter.Origin');
    // Imported material would sit in the keystore, not the token.
    await h.refuse('CreateKey', { Origin: 'EXTERNAL', ProtectionLevel: 'HSM' }, 'InvalidParameter.ProtectionLevel');
    await h.refuse('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' }, 'Hsm.NotConfigured');
    await h.refuse('CreateKey', { Bogus: 'x' }, 'InvalidParameter');
    await h.refuse('CreateKey', { Exportable: 'yes' }, 'InvalidParameter');
    await h.refuse('CreateKey', { EnableAutomaticRotation: 'true', RotationInterval: '6d' }, 'InvalidParameter.RotationInterval');
    await h.refuse('CreateKey', { KeySpec: 'RSA_2048', EnableAutomaticRotation: true }, 'InvalidParameter.RotationInterval');
  });

  it('records Exportable, fixed at creation', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', { Exportable: 'true' });
    assert.equal(m.Exportable, true);
  });
});

describe('DescribeKey, ListKeys, UpdateKeyDescription', () => {
  let h: Harness;
  before(async () => (h = await openHarness()));
  after(() => h.close());

  it('describes by KeyId and by alias, and pages ListKeys', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.now = new Date(Date.parse('2026-01-15T10:00:00Z') + i * 1000);
      ids.push((await h.call('CreateKey', {})).KeyMetadata.KeyId);
    }
    await h.call('CreateAlias', { AliasName: 'alias/first', KeyId: ids[0] });
    assert.equal((await h.call('DescribeKey', { KeyId: 'alias/first' })).KeyMetadata.KeyId, ids[0]);
    const p1 = await h.call('ListKeys', { PageSize: 5 });
    const p3 = await h.call('ListKeys', { PageSize: '5', PageNumber: '3' });
    assert.equal(p1.TotalCount, 12);
    assert.deepEqual(p1.Keys.Key.map((k) => k.KeyId), ids.slice(0, 5));
    assert.deepEqual(p3.Keys.Key.map((k) => k.KeyId), ids.slice(10));
    await h.refuse('ListKeys', { PageSize: 101 }, 'InvalidParameter');
    await h.refuse('ListKeys', { PageNumber: 0 }, 'InvalidParameter');
  });

  it('gives NotFound for unknown keys and aliases', async () => {
    await h.refuse('DescribeKey', { KeyId: '00000000-0000-4000-8000-000000000000' }, 'NotFound.Key');
    await h.refuse('DescribeKey', { KeyId: 'alias/nope' }, 'NotFound.Alias');
    await h.refuse('DescribeKey', {}, 'MissingParameter');
  });

  it('changes the description', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', {});
    await h.call('UpdateKeyDescription', { KeyId: m.KeyId, Description: 'rotated 2026' });
    assert.equal((await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata.Description, 'rotated 2026');
  });
});

describe('key states', () => {
  let h: Harness;
  before(async () => (h = await openHarness()));
  after(() => h.close());

  it('disables and enables; a disabled key encrypts and decrypts nothing', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', {});
    const { CiphertextBlob } = await h.call('Encrypt', { KeyId: m.KeyId, Plaintext: 'secret' });
    await h.call('DisableKey', { KeyId: m.KeyId });
    assert.equal((await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata.KeyState, 'Disabled');
    await h.refuse('Encrypt', { KeyId: m.KeyId, Plaintext: 'x' }, 'Rejected.KeyState');
    await h.refuse('Decrypt', { CiphertextBlob }, 'Rejected.KeyState');
    await h.refuse('GenerateDataKey', { KeyId: m.KeyId }, 'Rejected.KeyState');
    await h.refuse('CreateKeyVersion', { KeyId: m.KeyId }, 'Rejected.KeyState');
    await h.call('EnableKey', { KeyId: m.KeyId });
    assert.equal((await h.call('Decrypt', { CiphertextBlob })).Plaintext, 'secret');
  });

  it('schedules deletion 7 to 30 days out (default 30) and cancels it back to Enabled', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', {});
    await h.refuse('ScheduleKeyDeletion', { KeyId: m.KeyId, PendingWindowInDays: 6 }, 'InvalidParameter.PendingWindowInDays');
    await h.refuse('ScheduleKeyDeletion', { KeyId: m.KeyId, PendingWindowInDays: 31 }, 'InvalidParameter.PendingWindowInDays');
    const r = await h.call('ScheduleKeyDeletion', { KeyId: m.KeyId });
    assert.equal(r.DeleteDate, '2026-02-14T10:00:00Z');
    const d = (await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata;
    assert.equal(d.KeyState, 'PendingDeletion');
    assert.equal(d.DeleteDate, '2026-02-14T10:00:00Z');
    await h.refuse('Encrypt', { KeyId: m.KeyId, Plaintext: 'x' }, 'Rejected.KeyState');
    await h.refuse('ScheduleKeyDeletion', { KeyId: m.KeyId }, 'Rejected.KeyState');
    await h.refuse('EnableKey', { KeyId: m.KeyId }, 'Rejected.KeyState');
    await h.call('CancelKeyDeletion', { KeyId: m.KeyId });
    const c = (await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata;
    assert.equal(c.KeyState, 'Enabled');
    assert.equal(c.DeleteDate, undefined);
    await h.refuse('CancelKeyDeletion', { KeyId: m.KeyId }, 'Rejected.KeyState');
  });

  it('destroys keys whose deletion date has passed when the keystore next opens, and audits it', async () => {
    const keep = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    const doomed = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    const later = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    await h.call('CreateAlias', { AliasName: 'alias/doomed', KeyId: doomed });
    await h.call('ScheduleKeyDeletion', { KeyId: doomed, PendingWindowInDays: 7 });
    await h.call('ScheduleKeyDeletion', { KeyId: later, PendingWindowInDays: 30 });
    h.clock.now = new Date(h.clock.now.getTime() + 6 * DAY);
    await h.reopen();
    assert.equal((await h.call('DescribeKey', { KeyId: doomed })).KeyMetadata.KeyState, 'PendingDeletion');
    h.clock.now = new Date(h.clock.now.getTime() + 1 * DAY);
    await h.reopen();
    await h.refuse('DescribeKey', { KeyId: doomed }, 'NotFound.Key');
    await h.refuse('DescribeKey', { KeyId: 'alias/doomed' }, 'NotFound.Alias');
    const versions = await h.raw((db) => db.all('SELECT * FROM key_versions WHERE key_id = ?', [doomed]));
    assert.equal(versions.length, 0, 'the material is gone with the key');
    assert.equal((await h.call('DescribeKey', { KeyId: later })).KeyMetadata.KeyState, 'PendingDeletion');
    assert.equal((await h.call('DescribeKey', { KeyId: keep })).KeyMetadata.KeyState, 'Enabled');
    const audit = await h.raw((db) => db.all<{ operation: string; key_id: string }>("SELECT operation, key_id FROM audit_log WHERE operation = 'DestroyKey'"));
    assert.deepEqual(audit, [{ operation: 'DestroyKey', key_id: doomed }]);
    assert.equal((await h.call('VerifyAuditLog')).Valid, true);
  });
});

describe('due work under concurrent calls', () => {
  let h: Harness;
  before(async () => (h = await openHarness()));
  after(() => h.close());

  it('destroys a due key once, however many operations arrive together', async () => {
    const doomed = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    await h.call('ScheduleKeyDeletion', { KeyId: doomed, PendingWindowInDays: 7 });
    h.clock.now = new Date(h.clock.now.getTime() + 8 * DAY);
    const results = await Promise.all([1, 2, 3, 4].map(() => dispatch(h.session, 'ListKeys', {})));
    assert.ok(results.every((r) => r.ok));
    const destroyed = await h.raw((db) => db.all("SELECT seq FROM audit_log WHERE operation = 'DestroyKey' AND key_id = ?", [doomed]));
    assert.equal(destroyed.length, 1);
    assert.equal((await h.call('VerifyAuditLog')).Valid, true);
  });
});

describe('UpdateRotationPolicy', () => {
  let h: Harness;
  before(async () => (h = await openHarness()));
  after(() => h.close());

  it('enables rotation with an interval and shows NextRotationDate; Suspended while disabled', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', {});
    assert.equal(m.AutomaticRotation, 'Disabled');
    await h.call('UpdateRotationPolicy', { KeyId: m.KeyId, EnableAutomaticRotation: 'true', RotationInterval: '30d' });
    let d = (await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata;
    assert.equal(d.AutomaticRotation, 'Enabled');
    assert.equal(d.RotationInterval, '2592000s');
    assert.equal(d.NextRotationDate, '2026-02-14T10:00:00Z');
    await h.call('DisableKey', { KeyId: m.KeyId });
    d = (await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata;
    assert.equal(d.AutomaticRotation, 'Suspended');
    assert.equal(d.NextRotationDate, undefined);
    await h.call('EnableKey', { KeyId: m.KeyId });
    await h.call('UpdateRotationPolicy', { KeyId: m.KeyId, EnableAutomaticRotation: false });
    assert.equal((await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata.AutomaticRotation, 'Disabled');
  });

  it('refuses intervals outside 7-730 days, asymmetric and EXTERNAL keys', async () => {
    const aes = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    const rsa = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
    const ext = (await h.call('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    await h.refuse('UpdateRotationPolicy', { KeyId: aes, EnableAutomaticRotation: true, RotationInterval: '6d' }, 'InvalidParameter.RotationInterval');
    await h.refuse('UpdateRotationPolicy', { KeyId: aes, EnableAutomaticRotation: true, RotationInterval: '731d' }, 'InvalidParameter.RotationInterval');
    await h.refuse('UpdateRotationPolicy', { KeyId: aes, EnableAutomaticRotation: true, RotationInterval: 'weekly' }, 'InvalidParameter.RotationInterval');
    await h.refuse('UpdateRotationPolicy', { KeyId: rsa, EnableAutomaticRotation: true }, 'Rejected.KeySpec');
    await h.refuse('UpdateRotationPolicy', { KeyId: ext, EnableAutomaticRotation: true }, 'Rejected.Origin');
    await h.call('UpdateRotationPolicy', { KeyId: aes, EnableAutomaticRotation: true, RotationInterval: '604800s' });
  });
});
