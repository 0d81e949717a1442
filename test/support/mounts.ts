/**
 * Real file systems for the output tests: tmpfs (mount -t tmpfs), FAT32 (mkfs.vfat + fusefat) and
 * exFAT (mkfs.exfat + exfat-fuse on a loop device), each mounted on a fresh folder. Root only;
 * each helper answers a reason instead when it cannot mount, so a test can skip saying why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Mounted {
  dir: string;
  /** Unmount and remove the folder (and the image). */
  unmount(): void;
}

export type MountResult = Mounted | { skip: string };

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function scratch(kind: string): string {
  return mkdtempSync(join(tmpdir(), `keyroom-${kind}-`));
}

export function mountTmpfs(options = 'size=64m,mode=0700'): MountResult {
  if (!isRoot()) return { skip: 'mounting tmpfs needs root' };
  const base = scratch('tmpfs');
  const dir = join(base, 'mnt');
  run('mkdir', [dir]);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(base, { recursive: true, force: true });
    return { skip: `mount -t tmpfs failed: ${r.stderr.trim()}` };
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', ['-l', dir]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export function mountFat32(sizeMiB = 64): MountResult {
  if (!isRoot()) return { skip: 'mounting a FAT image with fusefat needs root' };
  if (!onPath('mkfs.vfat') || !onPath('fusefat')) return { skip: 'mkfs.vfat (dosfstools) or fusefat is missing; the test preflight installs them' };
  const base = scratch('fat');
  const img = join(base, 'fat.img');
  const dir = join(base, 'mnt');
  run('mkdir', [dir]);
  run('truncate', ['-s', `${sizeMiB}M`, img]);
  run('mkfs.vfat', ['-F', '32', img]);
  const r = spawnSync('fusefat', ['-o', 'rw+', img, dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(base, { recursive: true, force: true });
    return { skip: `fusefat failed: ${r.stderr.trim()}` };
  }
  return {
    dir,
    unmount() {
      spawnSync('fusermount', ['-u', dir]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export function mountExfat(sizeMiB = 64, options = 'umask=077'): MountResult {
  if (!isRoot()) return { skip: 'mounting an exFAT image needs root' };
  if (!onPath('mkfs.exfat') || !onPath('mount.exfat-fuse') || !onPath('losetup')) return { skip: 'mkfs.exfat (exfatprogs), mount.exfat-fuse (exfat-fuse) or losetup is missing' };
  const base = scratch('exfat');
  const img = join(base, 'exfat.img');
  const dir = join(base, 'mnt');
  run('mkdir', [dir]);
  run('truncate', ['-s', `${sizeMiB}M`, img]);
  run('mkfs.exfat', [img]);
  const loop = spawnSync('losetup', ['-f', '--show', img], { encoding: 'utf8' });
  if (loop.status !== 0) {
    rmSync(base, { recursive: true, force: true });
    return { skip: `no loop device for exFAT (exfat-fuse needs a block device): ${loop.stderr.trim()}` };
  }
  const device = loop.stdout.trim();
  // exfat-fuse defaults to mode 0777 (umask 0), which Keyroom rightly refuses; a user's
  // automounter gives the stick to that user only, as umask=077 does here.
  const r = spawnSync('mount.exfat-fuse', ['-o', options, device, dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    spawnSync('losetup', ['-d', device]);
    rmSync(base, { recursive: true, force: true });
    return { skip: `mount.exfat-fuse failed: ${r.stderr.trim()}` };
  }
  return {
    dir,
    unmount() {
      spawnSync('fusermount', ['-u', dir]);
      spawnSync('losetup', ['-d', device]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Keyroom's temporaries left in a folder (there should be none after any operation). */
export const TEMPORARY = /^\.keyroom-.*\.partial(-journal)?$/;
