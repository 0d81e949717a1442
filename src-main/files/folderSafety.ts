/**
 * An output folder another local user can write to lets them replace an output after Keyroom
 * wrote and hashed it (rename needs write permission on the folder only). Such a folder is
 * refused unless its sticky bit is set (then only a file's owner may rename or remove it).
 * FAT and exFAT have no per-file owners: stat of a folder there answers the mount's uid and mode
 * (fusefat, exfat-fuse, the kernel's vfat with uid=/umask=), so the same rule judges the mount.
 */
import type { Stats } from 'node:fs';
import { KmsError } from '../../src-shared/errors';

const S_ISVTX = 0o1000;
const GROUP_WRITE = 0o020;
const OTHER_WRITE = 0o002;

export interface Identity {
  uid: number;
  gid: number;
}

export function currentIdentity(): Identity {
  return { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
}

/** Why `dir` is unsafe for outputs, or undefined when it is safe. */
export function unsafeFolderReason(st: Pick<Stats, 'mode' | 'uid' | 'gid'>, me: Identity = currentIdentity()): string | undefined {
  const sticky = (st.mode & S_ISVTX) !== 0;
  if (st.uid !== me.uid && st.uid !== 0) {
    return `it belongs to another user (uid ${st.uid}), who can replace any file in it; choose a folder of your own`;
  }
  if (sticky) return undefined;
  if (st.mode & OTHER_WRITE) {
    return 'every user of this computer can write to it and it has no sticky bit; choose another folder, or run chmod o-w (or chmod +t) on it';
  }
  // Group-writable matters when the group is not just us: our own primary group (a user private
  // group) and root's group are ours; any other group has members who could replace the outputs.
  if (st.mode & GROUP_WRITE && st.gid !== me.gid && st.gid !== 0) {
    return `the members of group ${st.gid} can write to it and it has no sticky bit; choose another folder, or run chmod g-w (or chmod +t) on it`;
  }
  return undefined;
}

export function assertSafeFolder(dir: string, st: Pick<Stats, 'mode' | 'uid' | 'gid'>, me: Identity = currentIdentity()): void {
  const why = unsafeFolderReason(st, me);
  if (why) throw new KmsError('Rejected.UnsafeFolder', `Keyroom will not write into ${dir}: ${why}.`);
}
