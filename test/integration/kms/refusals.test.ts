/**
 * Refused uses are recorded (issue 13, item 5): a refused use of a key, a wrong PIN and a refusal
 * by the token each leave exactly one audit entry whose Result is the error code and whose
 * request id is the RequestId the caller got, naming the key and never the secret; a malformed
 * input leaves none. Real keystore, real SoftHSM2 token.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { KmsError, ERROR_CODES } from '../../../src-shared/errors';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { REFUSAL_CODES, isRefusal } from '../../../src-main/handlers/refusals';
import type { AuditEntry } from '../../../src-main/services/audit/auditLog';
import { openHarness, firstVersionOf, PASSPHRASE, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, type SoftHsm } from '../../support/softhsm';

const WRONG_PIN = '97531864';

async function entriesAfter(h: Harness, seq: number): Promise<AuditEntry[]> {
  return h.raw((db) => db.all<AuditEntry>('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq', [seq]));
}

async function lastSeq(h: Harness): Promise<number> {
  return h.raw(async (db) => (await db.get<{ s: number | null }>('SELECT max(seq) AS s FROM audit_log'))?.s ?? 0);
}

/** The one entry a refusal left: its Result and details carry the code; returns it for more checks. */
async function refusedOnce(h: Harness, name: Parameters<Harness['refuse']>[0], input: Record<string, unknown>, code: string): Promise<AuditEntry> {
  const seq = await lastSeq(h);
  const err = await h.refuse(name, input, code); // also: nothing else in the keystore changed
  const added = await entriesAfter(h, seq);
  assert.equal(added.length, 1, `${name}: one entry for the refusal`);
  const e = added[0]!;
  assert.equal(e.request_id, err.RequestId, 'the entry carries the RequestId the caller was given');
  assert.equal(e.operation, name);
  assert.equal(e.result, code);
  assert.equal((JSON.parse(e.details) as { Code?: string }).Code, code, 'the code is in the details too');
  return e;
}

describe('which codes are refusals (data)', () => {
  it('every refusal code is a known error code, and the front-door errors are not refusals', () => {
    for (const c of REFUSAL_CODES) assert.ok((ERROR_CODES as readonly string[]).includes(c), c);
    for (const c of ['InvalidParameter', 'MissingParameter', 'InvalidParameter.Algorithm', 'NotFound.Key', 'Keystore.Locked', 'Io.DiskFull', 'Internal', 'Cancelled', 'Hsm.TokenNotPresent'] as const) {
      assert.equal(isRefusal(c), false, c);
    }
    for (const c of ['Rejected.KeyState', 'Rejected.KeyUsage', 'Rejected.Algorithm', 'Hsm.PinIncorrect', 'Hsm.MechanismUnsupported', 'IncorrectPassphrase'] as const) {
      assert.equal(isRefusal(c), true, c);
    }
    // Every Rejected.* a service can throw is a refusal, except the IPC sender check, which never reaches dispatch.
    for (const c of ERROR_CODES.filter((x) => x.startsWith('Rejected.') && x !== 'Rejected.Sender' && x !== 'Rejected.UnsafeFolder')) assert.equal(isRefusal(c), true, c);
  });
});

describe('refused uses of software keys', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness();
  });
  after(() => h.close());

  it('a disabled key asked to sign: Rejected.KeyState, recorded with the key resolved from its alias', async () => {
    const k = await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const keyId = k.KeyMetadata.KeyId;
    const versionId = await firstVersionOf(h, keyId);
    await h.call('CreateAlias', { AliasName: 'alias/release-signing', KeyId: keyId });
    await h.call('DisableKey', { KeyId: keyId });
    const e = await refusedOnce(h, 'AsymmetricSign', { KeyId: 'alias/release-signing', KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: randomBytes(32).toString('base64') }, 'Rejected.KeyState');
    assert.equal(e.key_id, keyId, 'the alias is resolved to its key');
    assert.equal(e.key_version_id, versionId);
    assert.equal((JSON.parse(e.details) as { KeyId?: string }).KeyId, 'alias/release-signing', 'the name the caller gave');
  });

  it('encrypting with a SIGN key: Rejected.KeyUsage; a wrong algorithm: Rejected.Algorithm', async () => {
    const k = await h.call('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' });
    const keyId = k.KeyMetadata.KeyId;
    const versionId = await firstVersionOf(h, keyId);
    const plaintext = 'never recorded: plaintext of a refused call';
    const e1 = await refusedOnce(h, 'AsymmetricEncrypt', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: Buffer.from(plaintext).toString('base64') }, 'Rejected.KeyUsage');
    assert.equal(e1.key_id, keyId);
    assert.ok(!JSON.stringify(e1).includes(Buffer.from(plaintext).toString('base64')), 'the plaintext is not in the entry');
    const e2 = await refusedOnce(h, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: randomBytes(32).toString('base64') }, 'Rejected.Algorithm');
    assert.equal((JSON.parse(e2.details) as { Algorithm?: string }).Algorithm, 'ECDSA_SHA_256');
  });

  it('a wrong current passphrase in ChangePassphrase: IncorrectPassphrase, recorded without either passphrase', async () => {
    const wrong = 'not the passphrase ключ 7';
    const next = 'the next passphrase 8';
    const e = await refusedOnce(h, 'ChangePassphrase', { CurrentPassphrase: wrong, NewPassphrase: next }, 'IncorrectPassphrase');
    const text = JSON.stringify(e);
    for (const s of [wrong, next, PASSPHRASE]) assert.ok(!text.includes(s), 'no passphrase in the entry');
  });

  it('malformed inputs and schema errors leave no entry', async () => {
    const k = await h.call('CreateKey', { KeySpec: 'AES_256' });
    const seq = await lastSeq(h);
    const cases: [string, Record<string, unknown>, string][] = [
      ['Encrypt', { Plaintext: 'x' }, 'MissingParameter'],
      ['Encrypt', { KeyId: k.KeyMetadata.KeyId, Plaintext: 'x'.repeat(7000) }, 'InvalidParameter'],
      ['AsymmetricSign', { KeyId: k.KeyMetadata.KeyId, KeyVersionId: 'nope', Algorithm: 'ECDSA_SHA_256', Digest: 'AAAA' }, 'InvalidParameter'],
      ['AsymmetricSign', { KeyId: k.KeyMetadata.KeyId, Algorithm: 'NO_SUCH_ALGORITHM' }, 'MissingParameter'],
      ['NoSuchOperation', {}, 'InvalidParameter'],
      ['Encrypt', { KeyId: 'alias/nobody', Plaintext: 'x' }, 'NotFound.Alias'],
    ];
    for (const [name, input, code] of cases) {
      const r = await dispatch(h.session, name, input);
      assert.equal(r.ok, false);
      if (r.ok) continue;
      assert.equal(r.error.Code, code, `${name}: ${r.error.Message}`);
    }
    assert.deepEqual(await entriesAfter(h, seq), [], 'nothing recorded for input the contract refuses');
  });

  it('ListAuditEvents shows the refusals with their Result; the chain still verifies', async () => {
    const list = await h.call('ListAuditEvents', { PageSize: 100 });
    const results = list.Events.filter((e) => e.Result !== 'Success').map((e) => `${e.Operation}:${e.Result}`);
    assert.deepEqual(results.sort(), ['AsymmetricEncrypt:Rejected.KeyUsage', 'AsymmetricSign:Rejected.Algorithm', 'AsymmetricSign:Rejected.KeyState', 'ChangePassphrase:IncorrectPassphrase'].sort());
    assert.equal((await h.call('VerifyAuditLog')).Valid, true);
  });

  it('a refusal while the keystore is locked cannot be recorded, and is still answered', async () => {
    await h.session.lock();
    try {
      const r = await dispatch(h.session, 'Encrypt', { KeyId: 'alias/release-signing', Plaintext: 'x' });
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.Code, 'Keystore.Locked');
    } finally {
      await h.session.unlock(Buffer.from(PASSPHRASE));
    }
  });
});

describe('refusals by the token: wrong PIN, a mechanism the token refuses', () => {
  let hsm: SoftHsm;
  let h: Harness;
  let prompted: string = WRONG_PIN;

  before(async () => {
    hsm = makeSoftHsm('refusals');
    // As the command line configures it: the PIN is asked when an HSM key is first used.
    h = await openHarness({ hsm: { modulePath: hsm.modulePath, tokenLabel: hsm.label, pin: async () => Buffer.from(prompted) } });
  });
  after(async () => {
    await h.session.dispose();
    await h.close();
    hsm.cleanup();
  });

  it('a wrong PIN at the prompt (the command line\'s path): Hsm.PinIncorrect, recorded, the PIN nowhere in the log', async () => {
    const e = await refusedOnce(h, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM' }, 'Hsm.PinIncorrect');
    assert.equal(e.key_id, null, 'no key was made');
    assert.ok(!JSON.stringify(await entriesAfter(h, 0)).includes(WRONG_PIN));
  });

  it('a wrong PIN in LoginToken: Hsm.PinIncorrect, recorded while the keystore is open', async () => {
    const seq = await lastSeq(h);
    const r = await dispatch(h.session, 'LoginToken', { Pin: WRONG_PIN });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.Code, 'Hsm.PinIncorrect');
    const added = await entriesAfter(h, seq);
    assert.equal(added.length, 1);
    assert.equal(added[0]!.result, 'Hsm.PinIncorrect');
    assert.equal(added[0]!.request_id, r.error.RequestId);
    assert.equal((JSON.parse(added[0]!.details) as { TokenLabel?: string }).TokenLabel, undefined, 'no label was given');
    assert.ok(!JSON.stringify(added).includes(WRONG_PIN));
  });

  it('an HSM key the token cannot hold or use so: Hsm.MechanismUnsupported, recorded with what was asked', async () => {
    prompted = hsm.pin;
    for (const [spec, usage] of [['EC_P256', 'ENCRYPT/DECRYPT'], ['SM4', 'ENCRYPT/DECRYPT']] as const) {
      const e = await refusedOnce(h, 'CreateKey', { KeySpec: spec, KeyUsage: usage, ProtectionLevel: 'HSM' }, 'Hsm.MechanismUnsupported');
      const details = JSON.parse(e.details) as Record<string, string>;
      assert.deepEqual([details.KeySpec, details.KeyUsage, details.ProtectionLevel], [spec, usage, 'HSM']);
      assert.equal(e.key_id, null, 'no key was made');
    }
    const list = await h.call('ListAuditEvents', { Operation: 'CreateKey' });
    assert.deepEqual(list.Events.map((x) => x.Result), ['Hsm.MechanismUnsupported', 'Hsm.MechanismUnsupported', 'Hsm.PinIncorrect']);
    assert.equal((await h.call('VerifyAuditLog')).Valid, true);
  });

  it('no secret of the session in any entry', async () => {
    const text = JSON.stringify(await entriesAfter(h, 0));
    for (const s of [WRONG_PIN, hsm.pin, PASSPHRASE]) assert.ok(!text.includes(s), 'no secret in the log');
    assert.ok(!(new KmsError('Internal', 'x').message.includes(WRONG_PIN)));
  });
});
