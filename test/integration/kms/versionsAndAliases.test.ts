/** Key versions and aliases, including manual rotation through an alias (kms.md). */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openHarness, type Harness } from '../../support/kmsHarness';

describe('key versions', () => {
  let h: Harness;
  before(async () => (h = await openHarness()));
  after(() => h.close());

  it('CreateKeyVersion makes a new primary for symmetric keys; old ciphertext still decrypts', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', { KeySpec: 'SM4' });
    const old = await h.call('Encrypt', { KeyId: m.KeyId, Plaintext: 'v1 data' });
    h.clock.now = new Date('2026-03-01T00:00:00Z');
    const { KeyVersion: v2 } = await h.call('CreateKeyVersion', { KeyId: m.KeyId });
    assert.equal(v2.CreationDate, '2026-03-01T00:00:00Z');
    const d = (await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata;
    assert.equal(d.PrimaryKeyVersion, v2.KeyVersionId);
    assert.equal(d.LastRotationDate, '2026-03-01T00:00:00Z');
    const fresh = await h.call('Encrypt', { KeyId: m.KeyId, Plaintext: 'v2 data' });
    assert.equal(fresh.KeyVersionId, v2.KeyVersionId);
    assert.notEqual(old.KeyVersionId, v2.KeyVersionId);
    const back = await h.call('Decrypt', { CiphertextBlob: old.CiphertextBlob });
    assert.equal(back.Plaintext, 'v1 data');
    assert.equal(back.KeyVersionId, old.KeyVersionId);
    const list = await h.call('ListKeyVersions', { KeyId: m.KeyId });
    assert.equal(list.TotalCount, 2);
    assert.equal(list.KeyVersions.KeyVersion[0]!.KeyVersionId, v2.KeyVersionId, 'newest first');
    const one = await h.call('DescribeKeyVersion', { KeyId: m.KeyId, KeyVersionId: old.KeyVersionId });
    assert.equal(one.KeyVersion.KeyVersionId, old.KeyVersionId);
  });

  it('CreateKeyVersion makes an independent key pair for asymmetric keys', async () => {
    const { KeyMetadata: m } = await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    assert.equal(m.PrimaryKeyVersion, undefined);
    const [first] = (await h.call('ListKeyVersions', { KeyId: m.KeyId })).KeyVersions.KeyVersion;
    const { KeyVersion: second } = await h.call('CreateKeyVersion', { KeyId: m.KeyId });
    const p1 = await h.call('GetPublicKey', { KeyId: m.KeyId, KeyVersionId: first!.KeyVersionId });
    const p2 = await h.call('GetPublicKey', { KeyId: m.KeyId, KeyVersionId: second.KeyVersionId });
    assert.notEqual(p1.PublicKey, p2.PublicKey);
    assert.equal((await h.call('DescribeKey', { KeyId: m.KeyId })).KeyMetadata.PrimaryKeyVersion, undefined);
  });

  it('refuses versions for EXTERNAL, disabled and pending-deletion keys, and unknown versions', async () => {
    const ext = (await h.call('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    await h.refuse('CreateKeyVersion', { KeyId: ext }, 'Rejected.Origin');
    const dis = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    await h.call('DisableKey', { KeyId: dis });
    await h.refuse('CreateKeyVersion', { KeyId: dis }, 'Rejected.KeyState');
    const pend = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    await h.call('ScheduleKeyDeletion', { KeyId: pend });
    await h.refuse('CreateKeyVersion', { KeyId: pend }, 'Rejected.KeyState');
    await h.refuse('DescribeKeyVersion', { KeyId: dis, KeyVersionId: '00000000-0000-4000-8000-000000000000' }, 'NotFound.KeyVersion');
    await h.refuse('DescribeKeyVersion', { KeyId: dis, KeyVersionId: 'v1' }, 'InvalidParameter');
  });
});

describe('aliases', () => {
  let h: Harness;
  let a: string;
  let b: string;
  before(async () => {
    h = await openHarness();
    a = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    b = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
  });
  after(() => h.close());

  it('enforces the name rules', async () => {
    for (const bad of ['example', 'alias/', 'alias/has space', 'alias/ümlaut', 'alias/a.b', `alias/${'x'.repeat(256)}`, 'Alias/x']) {
      await h.refuse('CreateAlias', { AliasName: bad, KeyId: a }, 'InvalidParameter.AliasName');
    }
    for (const good of ['alias/a', 'alias/prod/payments-key_2', `alias/${'x'.repeat(255)}`]) {
      await h.call('CreateAlias', { AliasName: good, KeyId: a });
    }
  });

  it('is unique, names one key, and a key may have many', async () => {
    await h.call('CreateAlias', { AliasName: 'alias/app', KeyId: a });
    await h.refuse('CreateAlias', { AliasName: 'alias/app', KeyId: b }, 'AlreadyExists.Alias');
    await h.refuse('CreateAlias', { AliasName: 'alias/x1', KeyId: '00000000-0000-4000-8000-000000000000' }, 'NotFound.Key');
    await h.refuse('CreateAlias', { AliasName: 'alias/x2', KeyId: 'alias/app' }, 'InvalidParameter');
    const byKey = await h.call('ListAliasesByKeyId', { KeyId: a, PageSize: 100 });
    assert.ok(byKey.Aliases.Alias.some((x) => x.AliasName === 'alias/app'));
    assert.ok(byKey.Aliases.Alias.every((x) => x.KeyId === a));
    const all = await h.call('ListAliases', { PageSize: 100 });
    assert.equal(all.TotalCount, byKey.TotalCount);
  });

  it('manual rotation: UpdateAlias moves encryption to B; A\'s ciphertext still decrypts; ReEncrypt moves it', async () => {
    await h.call('CreateAlias', { AliasName: 'alias/rotating', KeyId: a });
    const ctx = { purpose: 'backup', team: 'ops' };
    const old = await h.call('Encrypt', { KeyId: 'alias/rotating', Plaintext: 'payload', EncryptionContext: ctx });
    assert.equal(old.KeyId, a);
    h.clock.now = new Date('2026-02-01T00:00:00Z');
    await h.call('UpdateAlias', { AliasName: 'alias/rotating', KeyId: b });
    const entry = (await h.call('ListAliasesByKeyId', { KeyId: b })).Aliases.Alias.find((x) => x.AliasName === 'alias/rotating');
    assert.equal(entry?.UpdateDate, '2026-02-01T00:00:00Z');
    const fresh = await h.call('Encrypt', { KeyId: 'alias/rotating', Plaintext: 'payload2' });
    assert.equal(fresh.KeyId, b);
    assert.equal((await h.call('Decrypt', { CiphertextBlob: old.CiphertextBlob, EncryptionContext: ctx })).Plaintext, 'payload');
    const moved = await h.call('ReEncrypt', {
      CiphertextBlob: old.CiphertextBlob,
      SourceEncryptionContext: JSON.stringify({ team: 'ops', purpose: 'backup' }),
      DestinationKeyId: 'alias/rotating',
      DestinationEncryptionContext: ctx,
    });
    assert.equal(moved.KeyId, b);
    assert.equal(moved.SourceKeyId, a);
    assert.equal(moved.SourceKeyVersionId, old.KeyVersionId);
    assert.ok(!('Plaintext' in moved), 'ReEncrypt never returns plaintext');
    const back = await h.call('Decrypt', { CiphertextBlob: moved.CiphertextBlob, EncryptionContext: ctx });
    assert.equal(back.Plaintext, 'payload');
    assert.equal(back.KeyId, b);
    await h.refuse('ReEncrypt', { CiphertextBlob: old.CiphertextBlob, DestinationKeyId: b }, 'InvalidCiphertext');
  });

  it('UpdateAlias and DeleteAlias leave the keys untouched', async () => {
    await h.call('CreateAlias', { AliasName: 'alias/temp', KeyId: a });
    const before = (await h.call('DescribeKey', { KeyId: a })).KeyMetadata;
    await h.call('DeleteAlias', { AliasName: 'alias/temp' });
    assert.deepEqual((await h.call('DescribeKey', { KeyId: a })).KeyMetadata, before);
    await h.refuse('DeleteAlias', { AliasName: 'alias/temp' }, 'NotFound.Alias');
    await h.refuse('UpdateAlias', { AliasName: 'alias/temp', KeyId: b }, 'NotFound.Alias');
    await h.refuse('Encrypt', { KeyId: 'alias/temp', Plaintext: 'x' }, 'NotFound.Alias');
  });
});
