/**
 * Orphan HSM keys on a real SoftHSM token: key objects Keyroom made (label keyroom/<KeyId>/<KeyVersionId>)
 * that no key version in the keystore names. One is made by a real crash: a child process runs
 * CreateKey and is killed with SIGKILL after the token generated the key pair and before the row
 * committed (test/support/hsmOrphanWriter.ts); another by generating through the backend without
 * the row. ListOrphanHsmKeys finds exactly those; DeleteOrphanHsmKey removes them (audited) and
 * refuses a key that has a row; pkcs11-tool --list-objects is the independent check each time.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { makeSoftHsm, objectIdOf, openHsmHarnessOn, parseListObjects, type HsmHarness, type SoftHsm } from '../../support/softhsm';
import { PASSPHRASE, openHarness } from '../../support/kmsHarness';
import type { Pkcs11Backend } from '../../../src-main/backends/pkcs11/pkcs11Backend';
import type { OrphanReport } from '../../support/hsmOrphanWriter';

let hsm: SoftHsm;
let h: HsmHarness & { backend: Pkcs11Backend };

before(async () => {
  hsm = makeSoftHsm('orphans');
  h = await openHsmHarnessOn(hsm);
});

after(async () => {
  await h.close();
  await h.backend.close();
  hsm.cleanup();
});

/** What pkcs11-tool sees on the token: objects by CKA_ID (hex), with their kinds and labels. */
function listed(): Map<string, { kinds: string[]; label?: string }> {
  const out = new Map<string, { kinds: string[]; label?: string }>();
  for (const o of parseListObjects(hsm.pkcs11Tool(['--list-objects']))) {
    if (!o.id) continue;
    const e = out.get(o.id) ?? { kinds: [], label: o.label };
    e.kinds.push(o.kind.split(';')[0]!);
    out.set(o.id, e);
  }
  return out;
}

/** Run CreateKey in a child process on the same keystore and token; SIGKILL it once the token has the key. */
async function crashedCreateKey(spec: string, usage?: string): Promise<OrphanReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../support/hsmOrphanWriter.ts'), h.path, hsm.label, spec, ...(usage ? [usage] : [])], {
    env: { ...process.env, SOFTHSM2_CONF: hsm.conf, KEYROOM_CRASH_PASSPHRASE: PASSPHRASE, KEYROOM_CRASH_PIN: hsm.pin },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string | undefined>((resolve) => {
    lines.once('line', resolve);
    void exited.then(() => resolve(undefined));
  });
  assert.ok(first, `the child reported the generated key (stderr: ${stderr})`);
  child.kill('SIGKILL');
  await exited;
  lines.close();
  return JSON.parse(first) as OrphanReport;
}

let crashed: OrphanReport;
let direct: OrphanReport;
const kept: { keyId: string; objectId: string }[] = [];

describe('ListOrphanHsmKeys', () => {
  it('finds the key pair a crash left between generating on the token and committing the row, and one generated without its row', async () => {
    // Two keys that do have rows.
    for (const input of [{ KeySpec: 'AES_256' }, { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' }]) {
      const r = await h.call('CreateKey', { ...input, ProtectionLevel: 'HSM' });
      kept.push({ keyId: r.KeyMetadata.KeyId, objectId: await objectIdOf(h, r.KeyMetadata.PrimaryKeyVersion ?? (await h.call('ListKeyVersions', { KeyId: r.KeyMetadata.KeyId })).KeyVersions.KeyVersion[0]!.KeyVersionId) });
    }
    crashed = await crashedCreateKey('RSA_2048', 'SIGN/VERIFY');
    // The next Keyroom run after a crash loads the module afresh. (A SoftHSM instance already
    // loaded in this process does not see objects another process made until it is reloaded.)
    await h.backend.close();
    await h.backend.useSessionManager(await hsm.openManager());
    const keyId = randomUUID();
    const keyVersionId = randomUUID();
    const made = await h.backend.generate('AES_256', { exportable: false, keyId, keyVersionId });
    direct = { objectId: made.hsmObjectId!.toString('hex'), keyId, keyVersionId };

    // The independent view: pkcs11-tool shows the crashed pair and the lone secret key on the token...
    const seen = listed();
    assert.deepEqual(seen.get(crashed.objectId)?.kinds.sort(), ['Private Key Object', 'Public Key Object']);
    assert.equal(seen.get(crashed.objectId)?.label, `keyroom/${crashed.keyId}/${crashed.keyVersionId}`);
    assert.deepEqual(seen.get(direct.objectId)?.kinds, ['Secret Key Object']);
    // ...and the keystore has no row for either.
    await h.reopen();
    const rows = await h.raw((db) => db.all<{ hex: string }>('SELECT hex(hsm_object_id) AS hex FROM key_versions'));
    assert.deepEqual(rows.map((r) => r.hex.toLowerCase()).sort(), kept.map((k) => k.objectId).sort());

    const r = await h.call('ListOrphanHsmKeys', {});
    assert.deepEqual(r.Token, { Label: hsm.label, SerialNumber: hsm.serial });
    assert.equal(r.KeyroomObjects, [...seen.values()].filter((o) => o.label?.startsWith('keyroom/')).reduce((n, o) => n + o.kinds.length, 0), 'every keyroom/ object pkcs11-tool lists');
    const orphans = [...r.OrphanHsmKeys].sort((a, b) => a.ObjectId.localeCompare(b.ObjectId));
    const want = [
      { ObjectId: crashed.objectId, Label: `keyroom/${crashed.keyId}/${crashed.keyVersionId}`, KeyId: crashed.keyId, KeyVersionId: crashed.keyVersionId, Objects: ['private', 'public'] },
      { ObjectId: direct.objectId, Label: `keyroom/${direct.keyId}/${direct.keyVersionId}`, KeyId: direct.keyId, KeyVersionId: direct.keyVersionId, Objects: ['secret'] },
    ].sort((a, b) => a.ObjectId.localeCompare(b.ObjectId));
    assert.deepEqual(orphans, want);
    assert.match(r.Note, /Another keystore that shares the token/);
  });

  it('objects of other applications (another label) are neither listed nor deletable', async () => {
    hsm.pkcs11Tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'someone-else', '--id', 'abcdef01']);
    const r = await h.call('ListOrphanHsmKeys', {});
    assert.ok(!r.OrphanHsmKeys.some((o) => o.ObjectId === 'abcdef01' || o.Label === 'someone-else'));
    await h.refuse('DeleteOrphanHsmKey', { ObjectId: 'abcdef01' }, 'Hsm.KeyNotFound');
    assert.equal(listed().get('abcdef01')?.kinds.length, 2, 'pkcs11-tool still lists both halves');
  });

  it('another keystore on the same token: its keys show here as orphans, and the Note says so', async () => {
    const other = await openHsmHarnessOn(hsm);
    try {
      const theirs = await other.call('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' });
      const mine = await h.call('ListOrphanHsmKeys', {});
      assert.ok(mine.OrphanHsmKeys.some((o) => o.KeyId === theirs.KeyMetadata.KeyId), 'seen from this keystore, the other\'s key has no row');
      const own = await other.call('ListOrphanHsmKeys', {});
      assert.ok(!own.OrphanHsmKeys.some((o) => o.KeyId === theirs.KeyMetadata.KeyId), 'its own keystore names it');
      assert.ok(own.OrphanHsmKeys.some((o) => o.ObjectId === crashed.objectId), 'and the crash orphan is an orphan there too');
      // Cleaned up by the keystore that owns it, so the rest of this file sees only its own.
      await other.call('ScheduleKeyDeletion', { KeyId: theirs.KeyMetadata.KeyId, PendingWindowInDays: 7 });
      const kv = (await other.call('ListKeyVersions', { KeyId: theirs.KeyMetadata.KeyId })).KeyVersions.KeyVersion[0]!.KeyVersionId;
      await other.backend.destroy({ keyId: theirs.KeyMetadata.KeyId, keyVersionId: kv, keySpec: 'AES_256', material: null, publicKey: null, hsmObjectId: Buffer.from(await objectIdOf(other, kv), 'hex') });
    } finally {
      await other.close();
      await other.backend.close();
    }
  });
});

describe('DeleteOrphanHsmKey', () => {
  it('refuses a key that has a row (by CKA_ID and by label): Rejected.NotOrphan, nothing destroyed, the key still works', async () => {
    for (const k of kept) {
      const e = await h.refuse('DeleteOrphanHsmKey', { ObjectId: k.objectId }, 'Rejected.NotOrphan');
      assert.match(e.Message, new RegExp(k.keyId));
      assert.match(e.Message, /ScheduleKeyDeletion/);
      assert.ok(listed().has(k.objectId), 'pkcs11-tool still lists it');
    }
    const aes = kept[0]!;
    const label = listed().get(aes.objectId)!.label!;
    await h.refuse('DeleteOrphanHsmKey', { Label: label }, 'Rejected.NotOrphan');
    const ct = await h.call('Encrypt', { KeyId: aes.keyId, Plaintext: Buffer.from('still here').toString('base64') });
    assert.equal(Buffer.from((await h.call('Decrypt', { CiphertextBlob: ct.CiphertextBlob })).Plaintext, 'base64').toString(), 'still here');
  });

  it('neither or both of ObjectId and Label, or an unknown one: refused, nothing changed', async () => {
    await h.refuse('DeleteOrphanHsmKey', {}, 'MissingParameter');
    await h.refuse('DeleteOrphanHsmKey', { ObjectId: crashed.objectId, Label: `keyroom/${crashed.keyId}/${crashed.keyVersionId}` }, 'InvalidParameter');
    await h.refuse('DeleteOrphanHsmKey', { ObjectId: '00112233445566778899aabbccddeeff' }, 'Hsm.KeyNotFound');
    await h.refuse('DeleteOrphanHsmKey', { ObjectId: 'not hex' }, 'InvalidParameter');
    assert.ok(listed().has(crashed.objectId));
  });

  it('removes the crashed key pair by CKA_ID and the lone secret key by label, each with an audit entry', async () => {
    const a = await h.call('DeleteOrphanHsmKey', { ObjectId: crashed.objectId.toUpperCase() });
    assert.deepEqual(a.Deleted.Objects, ['private', 'public']);
    assert.equal(a.Deleted.KeyId, crashed.keyId);
    const b = await h.call('DeleteOrphanHsmKey', { Label: `keyroom/${direct.keyId}/${direct.keyVersionId}` });
    assert.deepEqual(b.Deleted.Objects, ['secret']);

    const seen = listed();
    assert.ok(!seen.has(crashed.objectId) && !seen.has(direct.objectId), 'pkcs11-tool no longer lists them');
    for (const k of kept) assert.ok(seen.has(k.objectId), 'the keys with rows are untouched');
    assert.ok(seen.has('abcdef01'), 'nor is the other application\'s key touched');
    assert.deepEqual((await h.call('ListOrphanHsmKeys', {})).OrphanHsmKeys, []);

    // The refusals of the test before are entries too (Result: their code); these two succeeded.
    const events = (await h.call('ListAuditEvents', { Operation: 'DeleteOrphanHsmKey' })).Events.filter((e) => e.Result === 'Success');
    assert.equal(events.length, 2);
    const byRequest = new Map(events.map((e) => [e.RequestId, e]));
    assert.deepEqual(byRequest.get(a.RequestId)?.Details, { ObjectId: crashed.objectId, Label: a.Deleted.Label, Objects: 'private,public', TokenLabel: hsm.label, TokenSerialNumber: hsm.serial });
    assert.equal(byRequest.get(a.RequestId)?.KeyId, crashed.keyId);
    assert.equal(byRequest.get(b.RequestId)?.KeyVersionId, direct.keyVersionId);
    assert.equal((await h.call('VerifyAuditLog', {})).Valid, true);

    await h.refuse('DeleteOrphanHsmKey', { ObjectId: crashed.objectId }, 'Hsm.KeyNotFound');
  });
});

describe('ListTokens reports the count where the operator looks at the token', () => {
  it('no count before LoginToken; after it, the number ListOrphanHsmKeys lists', async () => {
    const app = await openHarness({ hsm: { modulePath: hsm.modulePath, tokenLabel: hsm.label, pin: () => Promise.reject(new Error('the app logs in through LoginToken')) } });
    try {
      assert.equal((await app.call('ListTokens')).OrphanHsmKeys, undefined, 'not logged in: nothing is read from the token');
      await app.call('LoginToken', { Pin: hsm.pin });
      // A fresh keystore names nothing on this token: every keyroom/ key there is an orphan to it.
      const listedHere = await app.call('ListOrphanHsmKeys', {});
      assert.ok(listedHere.OrphanHsmKeys.length >= kept.length);
      assert.equal((await app.call('ListTokens')).OrphanHsmKeys, listedHere.OrphanHsmKeys.length);
    } finally {
      await app.session.dispose();
      await app.close();
    }
  });
});
