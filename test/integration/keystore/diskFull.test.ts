/**
 * A full disk under the keystore is Io.DiskFull naming the keystore (not Keystore.Locked, not
 * Internal), and changes nothing: a write, and ChangePassphrase, whose audit entry is committed
 * with the re-key or not at all. A real SQLCipher file on a small tmpfs filled to the last byte
 * (root only: the test mounts it).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { execFileSync } from 'node:child_process';
import { Session } from '../../../src-main/services/session';
import { dispatch } from '../../../src-main/handlers/dispatch';

const PASSPHRASE = 'disk full passphrase 1';
const NEW_PASSPHRASE = 'disk full passphrase 2';
const isRoot = process.getuid?.() === 0;

describe('a full disk under the keystore', { skip: isRoot ? false : 'mounting a tmpfs needs root' }, () => {
  let mnt: string;
  let path: string;
  let filler: string;
  let session: Session;

  /** Fill what is left of the tmpfs, so the next page or journal write gets ENOSPC. */
  function fill(): void {
    const fd = fs.openSync(filler, 'a');
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    try {
      for (let size = chunk.length; size >= 1; ) {
        try {
          fs.writeSync(fd, chunk, 0, size);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          size = Math.floor(size / 2);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  async function call(name: string, input: Record<string, unknown> = {}) {
    return dispatch(session, name, input);
  }

  before(async () => {
    mnt = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'keyroom-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]);
    path = nodePath.join(mnt, 'keystore.db');
    filler = nodePath.join(mnt, 'filler');
    session = new Session({ keystorePath: path, creator: 'tester' });
    const init = await call('InitKeystore', { Passphrase: PASSPHRASE });
    assert.ok(init.ok, JSON.stringify(init));
    for (let i = 0; i < 3; i++) assert.ok((await call('CreateKey', { KeySpec: 'AES_256' })).ok);
  });

  after(async () => {
    await session.dispose().catch(() => undefined);
    execFileSync('umount', [mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });

  it('a write is Io.DiskFull naming the keystore, and changes nothing', async () => {
    const before = await call('ListKeys');
    fill();
    const r = await call('CreateKey', { KeySpec: 'AES_256', Description: 'x'.repeat(8000) });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.Code, 'Io.DiskFull', r.error.Message);
    assert.ok(r.error.Message.includes(path), 'names the keystore');
    const after = await call('ListKeys');
    assert.ok(before.ok && after.ok);
    assert.equal((after.value as { TotalCount: number }).TotalCount, (before.value as { TotalCount: number }).TotalCount);
    fs.rmSync(filler);
  });

  it('ChangePassphrase on a full disk is Io.DiskFull; the old passphrase still opens, and no entry claims a change', async () => {
    fill();
    const r = await call('ChangePassphrase', { CurrentPassphrase: PASSPHRASE, NewPassphrase: NEW_PASSPHRASE });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.Code, 'Io.DiskFull', r.error.Message);
    assert.ok(r.error.Message.includes(path));
    fs.rmSync(filler);
    await session.lock();
    await session.unlock(Buffer.from(PASSPHRASE));
    const changes = await call('ListAuditEvents', { Operation: 'ChangePassphrase' });
    assert.ok(changes.ok);
    if (changes.ok) assert.deepEqual((changes.value as { Events: { Result: string }[] }).Events.filter((e) => e.Result === 'Success'), []);
    const verdict = await call('VerifyAuditLog');
    assert.ok(verdict.ok && (verdict.value as { Valid: boolean }).Valid);
  });

  it('with room again, ChangePassphrase commits the change and its entry together', async () => {
    const r = await call('ChangePassphrase', { CurrentPassphrase: PASSPHRASE, NewPassphrase: NEW_PASSPHRASE });
    assert.ok(r.ok, JSON.stringify(r));
    await session.lock();
    await session.unlock(Buffer.from(NEW_PASSPHRASE));
    const changes = await call('ListAuditEvents', { Operation: 'ChangePassphrase' });
    assert.ok(changes.ok);
    if (changes.ok) {
      const events = (changes.value as { Events: { Result: string; RequestId: string }[] }).Events;
      assert.deepEqual(events.map((e) => [e.Result, e.RequestId]), [['Success', r.ok ? r.value.RequestId : '']]);
    }
  });
});
