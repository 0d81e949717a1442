#!/usr/bin/env node
// Before the tests: the Debian packages they use as real parts and independent judges.
// Missing ones are installed when this runs as root with apt-get (a fresh machine of this kind,
// CI); otherwise it prints the one command that installs them and stops.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What the tests need: a command (or file) each, and the Debian package that provides it. */
const NEEDS = [
  { what: 'openssl', pkg: 'openssl', present: () => onPath('openssl') },
  { what: 'SoftHSM2', pkg: 'softhsm2', present: () => onPath('softhsm2-util') && existsSync('/usr/lib/softhsm/libsofthsm2.so') },
  { what: "OpenSC's pkcs11-tool", pkg: 'opensc', present: () => onPath('pkcs11-tool') },
  { what: 'Chromium', pkg: 'chromium', present: () => existsSync('/usr/bin/chromium') },
  // Output tests: FAT32 and exFAT images mounted through FUSE (no hard links there), and strace
  // to kill the writer at each system call.
  { what: 'mkfs.vfat', pkg: 'dosfstools', present: () => onPath('mkfs.vfat') },
  { what: 'fusefat', pkg: 'fusefat', present: () => onPath('fusefat') },
  { what: 'mkfs.exfat', pkg: 'exfatprogs', present: () => onPath('mkfs.exfat') },
  { what: 'exfat-fuse', pkg: 'exfat-fuse', present: () => onPath('mount.exfat-fuse') },
  { what: 'strace', pkg: 'strace', present: () => onPath('strace') },
  // Air-gap self-test: a fresh network namespace (unshare), and iproute2 as the independent judge
  // of which interfaces are up and where the default route goes.
  { what: 'unshare', pkg: 'util-linux', present: () => onPath('unshare') },
  { what: 'ip (iproute2)', pkg: 'iproute2', present: () => onPath('ip') },
  // Release-signature formats: the verifiers pipelines run (OpenPGP: gpg, gpgv, sqv).
  { what: 'gpg and gpgv', pkg: 'gnupg', present: () => onPath('gpg') && onPath('gpgv') },
  { what: 'sqv', pkg: 'sqv', present: () => onPath('sqv') },
  // Release-signature formats, each checked by its reference verifier.
  { what: 'ssh-keygen', pkg: 'openssh-client', present: () => onPath('ssh-keygen') },
  { what: 'minisign', pkg: 'minisign', present: () => onPath('minisign') },
  { what: 'signify-openbsd', pkg: 'signify-openbsd', present: () => onPath('signify-openbsd') },
];

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const missing = NEEDS.filter((n) => !n.present());
if (missing.length === 0) process.exit(0);

const pkgs = missing.map((n) => n.pkg);
const canInstall = process.getuid?.() === 0 && onPath('apt-get');
if (!canInstall) {
  console.error(`The tests need ${missing.map((n) => n.what).join(', ')}. Install them with:\n  sudo apt-get install -y ${pkgs.join(' ')}`);
  process.exit(1);
}
console.error(`preflight: installing ${pkgs.join(' ')} (Debian packages the tests use)`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
