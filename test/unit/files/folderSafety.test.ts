/** Which folders another local user could swap an output in (pure: modes, owners, groups). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unsafeFolderReason } from '../../../src-main/files/folderSafety';

const me = { uid: 1000, gid: 1000 };
const folder = (mode: number, uid = 1000, gid = 1000) => ({ mode: 0o040000 | mode, uid, gid });

test('safe: private, readable by others, sticky (world- or group-writable), root\'s own', () => {
  for (const st of [folder(0o700), folder(0o755), folder(0o1777), folder(0o1775, 1000, 50), folder(0o755, 0, 0), folder(0o1777, 0, 0), folder(0o775, 1000, 1000), folder(0o775, 0, 0)]) {
    assert.equal(unsafeFolderReason(st, me), undefined, st.mode.toString(8));
  }
});

test('unsafe: world-writable without the sticky bit, group-writable for another group, another user\'s folder', () => {
  assert.match(unsafeFolderReason(folder(0o777), me)!, /every user .* chmod o-w/);
  assert.match(unsafeFolderReason(folder(0o777, 0, 0), me)!, /every user/);
  assert.match(unsafeFolderReason(folder(0o775, 1000, 50), me)!, /group 50 .* chmod g-w/);
  assert.match(unsafeFolderReason(folder(0o700, 1001, 1001), me)!, /another user \(uid 1001\)/);
  // The sticky bit does not help against the folder's owner: they may still replace anything.
  assert.match(unsafeFolderReason(folder(0o1777, 1001, 1001), me)!, /another user/);
});

test('a FAT mount is judged by the mode and owner stat gives for it', () => {
  // fusefat as root: 0700 root; exfat-fuse without umask=: 0777; udisks for a user: 0700 that user.
  assert.equal(unsafeFolderReason(folder(0o700, 0, 0), { uid: 0, gid: 0 }), undefined);
  assert.ok(unsafeFolderReason(folder(0o777, 0, 0), { uid: 0, gid: 0 }));
  assert.equal(unsafeFolderReason(folder(0o700, 1000, 1000), me), undefined);
});
