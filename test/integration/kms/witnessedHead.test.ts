/**
 * Witnessed heads: VerifyAuditLog --ExpectedHeadHash (the head the witnesses wrote down), an
 * empty log while keys exist, and the head anchored on a SoftHSM2 token (a private CKO_DATA
 * object, checked with pkcs11-tool), which catches a whole-file rollback that nothing inside the
 * file can see.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { openHarness, PASSPHRASE, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, parseListObjects, type SoftHsm } from '../../support/softhsm';

async function makeKey(h: Harness): Promise<string> {
  const k = (await h.call('CreateKey', { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT' })) as { KeyMetadata: { KeyId: string } };
  return k.KeyMetadata.KeyId;
}

describe('VerifyAuditLog --ExpectedHeadHash', () => {
  let h: Harness;
  let earlier: { hash: string; seq: number };

  before(async () => {
    h = await openHarness();
    await makeKey(h);
    const v = await h.call('VerifyAuditLog');
    earlier = { hash: v.HeadHash!, seq: v.Entries };
    for (let i = 0; i < 3; i++) await makeKey(h);
  });
  after(() => h.close());

  it('an earlier entry (the head written down last time) is valid and named', async () => {
    const v = await h.call('VerifyAuditLog', { ExpectedHeadHash: earlier.hash });
    assert.equal(v.Valid, true, v.Reason);
    assert.equal(v.ExpectedHeadSeq, earlier.seq);
    assert.ok(v.Entries > earlier.seq);
  });

  it('the current head is valid, upper-case hex too', async () => {
    const now = await h.call('VerifyAuditLog');
    const v = await h.call('VerifyAuditLog', { ExpectedHeadHash: now.HeadHash!.toUpperCase() });
    assert.equal(v.Valid, true);
    assert.equal(v.ExpectedHeadSeq, now.Entries);
  });

  it('an unknown hash is invalid: rolled back or replaced', async () => {
    const v = await h.call('VerifyAuditLog', { ExpectedHeadHash: randomBytes(32).toString('hex') });
    assert.equal(v.Valid, false);
    assert.match(v.Reason ?? '', /rolled back or replaced since that head was written down/);
    assert.equal(v.ExpectedHeadSeq, undefined);
  });

  it('a malformed hash is refused by the contract', async () => {
    const r = await dispatch(h.session, 'VerifyAuditLog', { ExpectedHeadHash: 'abc' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.Code, /^InvalidParameter/);
  });

  it('a hash of this chain is not enough when the chain is broken after it', async () => {
    const g = await openHarness();
    try {
      await makeKey(g);
      const known = (await g.call('VerifyAuditLog')).HeadHash!;
      await makeKey(g);
      await g.session.kms.keystore.transaction((tx) => tx.run("UPDATE audit_log SET details = '{}' WHERE seq = (SELECT max(seq) FROM audit_log)"));
      const v = await g.call('VerifyAuditLog', { ExpectedHeadHash: known });
      assert.equal(v.Valid, false);
      assert.match(v.Reason ?? '', /was altered/);
      assert.match(v.Reason ?? '', /is entry \d+ of this log, but the chain is broken/);
    } finally {
      await g.close();
    }
  });

  it('a whole-file rollback: the newer head written down is unknown to the older file put back', async () => {
    const g = await openHarness();
    try {
      await makeKey(g);
      await g.session.lock();
      const old = fs.readFileSync(g.path);
      await g.session.unlock(Buffer.from(PASSPHRASE));
      await makeKey(g);
      const newer = await g.call('VerifyAuditLog');
      await g.session.lock();
      fs.writeFileSync(g.path, old);
      await g.session.unlock(Buffer.from(PASSPHRASE));
      // Inside the file everything agrees: only the witness can tell.
      assert.equal((await g.call('VerifyAuditLog')).Valid, true);
      const v = await g.call('VerifyAuditLog', { ExpectedHeadHash: newer.HeadHash });
      assert.equal(v.Valid, false);
      assert.match(v.Reason ?? '', /rolled back or replaced/);
    } finally {
      await g.close();
    }
  });
});

describe('an empty log while keys exist', () => {
  it('is invalid', async () => {
    const g = await openHarness();
    try {
      await makeKey(g);
      await g.session.kms.keystore.transaction(async (tx) => {
        await tx.run('DELETE FROM audit_log');
        await tx.run("DELETE FROM meta WHERE name = 'audit_head'");
      });
      const v = await g.call('VerifyAuditLog');
      assert.equal(v.Valid, false);
      assert.equal(v.Entries, 0);
      assert.match(v.Reason ?? '', /log is empty but the keystore holds 1 key/);
    } finally {
      await g.close();
    }
  });
});

describe('the audit head anchored on the token', () => {
  let hsm: SoftHsm;
  let h: Harness;

  before(async () => {
    hsm = makeSoftHsm('anchor-test');
    h = await openHarness({
      hsm: { modulePath: hsm.modulePath, tokenLabel: hsm.label, pin: async () => Buffer.from(hsm.pin) },
    });
  });
  after(async () => {
    await h.session.dispose();
    await h.close();
    hsm.cleanup();
  });

  function anchorObjects() {
    // pkcs11-tool quotes data objects' labels.
    return parseListObjects(hsm.pkcs11Tool(['--list-objects', '--type', 'data']))
      .map((o) => ({ ...o, label: o.label?.replace(/^'(.*)'$/, '$1') }))
      .filter((o) => o.label?.startsWith('keyroom/anchor/'));
  }

  it('AnchorAuditHead writes a private data object holding the head; VerifyAuditLog reports it', async () => {
    await makeKey(h);
    const a = await h.call('AnchorAuditHead');
    const v = await h.call('VerifyAuditLog');
    assert.equal(a.AnchorSeq, v.Entries);
    assert.equal(a.AnchorHash, v.HeadHash);
    assert.match(a.ObjectLabel, /^keyroom\/anchor\/[0-9a-f]{32}$/);
    assert.equal(a.TokenSerial, hsm.serial);
    assert.equal(v.AnchorSeq, a.AnchorSeq);
    assert.equal(v.Valid, true);
    const objects = anchorObjects();
    assert.equal(objects.length, 1);
    assert.equal(objects[0]!.label, a.ObjectLabel);
    // Private: without a login the object cannot be seen.
    const bare = hsm.pkcs11ToolBare(['--token-label', hsm.label, '--list-objects', '--type', 'data']);
    assert.ok(!bare.includes('keyroom/anchor/'), 'the anchor is CKA_PRIVATE');
    // The value, read independently.
    const value = hsm.pkcs11Tool(['--read-object', '--type', 'data', '--label', a.ObjectLabel]);
    assert.equal(value, `${a.AnchorSeq}:${a.AnchorHash}`);
  });

  it('locking with the token logged in moves the anchor forward', async () => {
    await makeKey(h);
    const head = await h.call('VerifyAuditLog');
    await h.session.lock();
    await h.session.unlock(Buffer.from(PASSPHRASE));
    const v = await h.call('VerifyAuditLog');
    assert.equal(v.AnchorSeq, head.Entries);
    assert.equal(anchorObjects().length, 1, 'one object: the older one was destroyed');
  });

  it('a whole-file rollback is caught: unlock refuses, VerifyAuditLog says why, the anchor stays', async () => {
    await h.session.lock();
    const old = fs.readFileSync(h.path);
    await h.session.unlock(Buffer.from(PASSPHRASE));
    await makeKey(h);
    await makeKey(h);
    await h.session.lock(); // anchors the newer head
    const anchored = hsm.pkcs11Tool(['--read-object', '--type', 'data', '--label', anchorObjects()[0]!.label!]);
    fs.writeFileSync(h.path, old);

    const refused = await dispatch(h.session, 'UnlockKeystore', { Passphrase: PASSPHRASE });
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.error.Code, 'Keystore.Tampered');
      assert.match(refused.error.Message, /older than its anchor on token "anchor-test"/);
    }
    // Logged out, the older file opens (to look at it); logged in again, VerifyAuditLog reports it.
    await h.call('LogoutToken');
    await h.session.unlock(Buffer.from(PASSPHRASE));
    assert.equal((await h.call('VerifyAuditLog')).Valid, true, 'nothing inside the file shows the rollback');
    await h.call('LoginToken', { Pin: hsm.pin });
    const v = await h.call('VerifyAuditLog');
    assert.equal(v.Valid, false);
    assert.match(v.Reason ?? '', /older than its anchor/);
    assert.equal(v.AnchorSeq, Number(anchored.split(':')[0]));
    const r = await dispatch(h.session, 'AnchorAuditHead', {});
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.Code, 'Keystore.Tampered');
    await h.session.lock(); // must not move the anchor back either
    assert.equal(hsm.pkcs11Tool(['--read-object', '--type', 'data', '--label', anchorObjects()[0]!.label!]), anchored, 'the anchor was not moved back');
    await h.call('LogoutToken');
    await h.session.unlock(Buffer.from(PASSPHRASE));
  });
});
