/**
 * The air-gap self-test on Linux, from what the kernel exposes in /sys and /proc (no command, no
 * netlink): interfaces, default routes of both families, radios, swap, mounts with removable media
 * marked, and core dumps. `root` is '/' on a real machine; tests point it at a fake tree for what
 * this machine lacks (rfkill, Bluetooth, swap), and run the network reads in a real namespace.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AirGapCheck, AirGapMount } from '../../src-shared/domain/airGap';
import { check, type PlatformFindings } from './findings';

// <linux/if.h> and <linux/route.h> (<linux/ipv6_route.h> uses the same bits).
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

export interface LinuxInterface {
  name: string;
  /** /sys/class/net/<name>/flags, or null when unreadable. */
  flags: number | null;
  operstate: string | null;
  /** '0' or '1'; null when the kernel refuses to say (EINVAL on an interface that is not running). */
  carrier: string | null;
  wireless: boolean;
}

export interface RfkillSwitch {
  name: string;
  type: string;
  soft: string;
  hard: string;
}

/** What was read; each raw text is null when the file could not be read. */
export interface LinuxFacts {
  interfaces: LinuxInterface[] | null;
  ipv4Routes: string | null;
  ipv6Routes: string | null;
  rfkill: RfkillSwitch[];
  bluetooth: string[];
  wifiPhys: string[];
  swaps: string | null;
  mounts: AirGapMount[] | null;
  corePattern: string | null;
  limits: string | null;
}

async function text(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function list(path: string): Promise<string[] | null> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readInterfaces(root: string): Promise<LinuxInterface[] | null> {
  const names = await list(join(root, 'sys/class/net'));
  if (names === null) return null;
  return Promise.all(
    names.map(async (name) => {
      const dir = join(root, 'sys/class/net', name);
      const flags = await text(join(dir, 'flags'));
      return {
        name,
        flags: flags === null ? null : Number.parseInt(flags, 16),
        operstate: await text(join(dir, 'operstate')),
        carrier: await text(join(dir, 'carrier')),
        wireless: (await exists(join(dir, 'wireless'))) || (await exists(join(dir, 'phy80211'))),
      };
    }),
  );
}

async function readRfkill(root: string): Promise<RfkillSwitch[]> {
  const names = (await list(join(root, 'sys/class/rfkill'))) ?? [];
  return Promise.all(
    names.map(async (n) => {
      const dir = join(root, 'sys/class/rfkill', n);
      return {
        name: (await text(join(dir, 'name'))) ?? n,
        type: (await text(join(dir, 'type'))) ?? '?',
        soft: (await text(join(dir, 'soft'))) ?? '?',
        hard: (await text(join(dir, 'hard'))) ?? '?',
      };
    }),
  );
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

const NETWORK_FS = /^(nfs4?|cifs|smb3|smbfs|ncpfs|ceph|glusterfs|lustre|afs|9p|davfs|fuse\.(sshfs|rclone|davfs2|s3fs|gcsfuse|curlftpfs))$/;

/** Whether a block device (a mount's source under /dev) sits on removable media, by its disk in sysfs. */
async function blockDevice(root: string, source: string, depth = 0): Promise<{ removable: boolean; note: string } | null> {
  if (!source.startsWith('/dev/')) return null;
  let name = basename(source);
  try {
    name = basename(await realpath(join(root, source)));
  } catch {
    // /dev/root and the like: the name alone may still be in /sys/class/block.
  }
  let sys: string;
  try {
    sys = await realpath(join(root, 'sys/class/block', name));
  } catch {
    return { removable: false, note: `${name}: not found in /sys/class/block` };
  }
  const disk = (await exists(join(sys, 'partition'))) ? dirname(sys) : sys;
  const diskName = basename(disk);
  const backing = await text(join(disk, 'loop/backing_file'));
  if (backing) return { removable: false, note: `${name}: loop device over ${backing}` };
  const slaves = depth < 3 ? ((await list(join(disk, 'slaves'))) ?? []) : [];
  for (const slave of slaves) {
    const under = await blockDevice(root, `/dev/${slave}`, depth + 1);
    if (under?.removable) return { removable: true, note: `${name} over ${under.note}` };
  }
  const removable = (await text(join(disk, 'removable'))) === '1';
  const usb = sys.includes('/usb');
  return { removable: removable || usb, note: `${diskName}: removable=${removable ? 1 : 0}${usb ? ', on USB' : ''}` };
}

/**
 * A FUSE mount's source is whatever its driver called it (fusefat says "fusefat"): the driver
 * process whose command line names the mount point tells which file or device it serves.
 */
async function fuseBacking(root: string, mountPoint: string): Promise<string | null> {
  const pids = ((await list(join(root, 'proc'))) ?? []).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    const cmdline = await text(join(root, 'proc', pid, 'cmdline'));
    if (!cmdline) continue;
    const args = cmdline.split('\0').filter(Boolean);
    if (!args.slice(1).includes(mountPoint)) continue;
    const backing = args.slice(1).find((a) => a.startsWith('/') && a !== mountPoint);
    if (backing) return backing;
  }
  return null;
}

async function readMounts(root: string): Promise<AirGapMount[] | null> {
  const raw = await text(join(root, 'proc/mounts'));
  if (raw === null) return null;
  const mounts: AirGapMount[] = [];
  for (const line of raw.split('\n')) {
    const [src, mp, type] = line.split(' ');
    if (!src || !mp || !type) continue;
    const m: AirGapMount = { Source: unescapeMountField(src), MountPoint: unescapeMountField(mp), Type: type, Removable: false };
    if (NETWORK_FS.test(type)) m.Note = 'network file system';
    else if (type.startsWith('fuse') && !m.Source.startsWith('/dev/')) {
      const backing = await fuseBacking(root, m.MountPoint);
      const dev = backing ? await blockDevice(root, backing) : null;
      if (dev) Object.assign(m, { Removable: dev.removable, Note: `FUSE (${type}) over ${backing}: ${dev.note}` });
      else m.Note = backing ? `FUSE (${type}) over the image file ${backing}, not removable media itself` : `FUSE (${type}): its driver's source could not be found`;
    } else {
      const dev = await blockDevice(root, m.Source);
      if (dev) Object.assign(m, { Removable: dev.removable, Note: dev.note });
    }
    mounts.push(m);
  }
  return mounts;
}

export async function readLinuxFacts(root = '/'): Promise<LinuxFacts> {
  const [interfaces, ipv4Routes, ipv6Routes, rfkill, bluetooth, wifiPhys, swaps, mounts, corePattern, limits] = await Promise.all([
    readInterfaces(root),
    text(join(root, 'proc/net/route')),
    text(join(root, 'proc/net/ipv6_route')),
    readRfkill(root),
    list(join(root, 'sys/class/bluetooth')),
    list(join(root, 'sys/class/ieee80211')),
    text(join(root, 'proc/swaps')),
    readMounts(root),
    text(join(root, 'proc/sys/kernel/core_pattern')),
    text(join(root, 'proc/self/limits')),
  ]);
  return { interfaces, ipv4Routes, ipv6Routes, rfkill, bluetooth: bluetooth ?? [], wifiPhys: wifiPhys ?? [], swaps, mounts, corePattern, limits };
}

function hex(n: number | null): string {
  return n === null ? 'unreadable' : `0x${n.toString(16)}`;
}

export function interfacesCheck(interfaces: LinuxInterface[] | null): AirGapCheck {
  if (interfaces === null) {
    return check('network.interfaces', 'FAIL', ['/sys/class/net: unreadable'], 'Keyroom could not read /sys/class/net: check every network interface by hand (ip link).');
  }
  const evidence: string[] = [];
  const up: string[] = [];
  for (const i of interfaces) {
    const line = `${i.name}: flags=${hex(i.flags)} operstate=${i.operstate ?? 'unreadable'} carrier=${i.carrier ?? 'unreadable'}${i.wireless ? ' wireless' : ''}`;
    if (i.flags !== null && i.flags & IFF_LOOPBACK) {
      evidence.push(`${line} (loopback: stays inside this machine)`);
      continue;
    }
    evidence.push(line);
    // Administratively up is enough to fail: a cable plugged in later connects it. `unknown` is
    // RFC 2863's "cannot tell", not "down"; the flags decide then.
    if (i.flags === null || i.flags & IFF_UP || i.operstate === 'up' || i.carrier === '1') up.push(i.name);
  }
  if (up.length === 0) return check('network.interfaces', 'PASS', evidence);
  return check(
    'network.interfaces',
    'FAIL',
    evidence,
    `Interface${up.length > 1 ? 's' : ''} ${up.join(', ')} ${up.length > 1 ? 'are' : 'is'} up (or unreadable): take ${up.length > 1 ? 'them' : 'it'} down (ip link set DEV down), unplug the cable, or remove the adapter.`,
  );
}

function ipv4(hexLe: string): string {
  const n = Number.parseInt(hexLe, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** 32 hex digits as RFC 5952 text (the longest run of zero groups as ::). */
function ipv6(h: string): string {
  const groups = (h.match(/.{4}/g) ?? []).map((g) => Number.parseInt(g, 16).toString(16));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/** Why a default route leads nowhere, or null when it is a way out. */
function deadEnd(flags: number, iface: string, loopback: ReadonlySet<string>): string | null {
  const why = [!(flags & RTF_UP) && 'not up', flags & RTF_REJECT && 'a reject route', loopback.has(iface) && 'on loopback'].filter(Boolean);
  return why.length ? `not a way out: ${why.join(', ')}` : null;
}

/**
 * A default route (prefix length 0) that is up, not a reject route, and not on a loopback
 * interface is a way out. A fresh namespace's IPv6 table holds `::/0` as a reject route on `lo`:
 * that is the kernel refusing, not a route.
 */
export function defaultRoutesCheck(ipv4Routes: string | null, ipv6Routes: string | null, interfaces: LinuxInterface[] | null): AirGapCheck {
  const loopback = new Set((interfaces ?? []).filter((i) => i.flags !== null && i.flags & IFF_LOOPBACK).map((i) => i.name));
  if (interfaces === null) loopback.add('lo');
  const evidence: string[] = [];
  const ways: string[] = [];
  const unreadable: string[] = [];
  if (ipv4Routes === null) unreadable.push('/proc/net/route');
  else {
    for (const line of ipv4Routes.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      const [iface, dest, gw, flagsHex, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
      if (Number.parseInt(dest, 16) !== 0 || Number.parseInt(mask, 16) !== 0) continue;
      const flags = Number.parseInt(flagsHex, 16);
      const dead = deadEnd(flags, iface, loopback);
      evidence.push(`IPv4 default via ${ipv4(gw)} dev ${iface} flags=0x${flags.toString(16)} metric ${Number.parseInt(metric, 10)}${dead ? ` (${dead})` : ''}`);
      if (!dead) ways.push(`IPv4 default via ${ipv4(gw)} on ${iface}`);
    }
  }
  if (ipv6Routes === null) unreadable.push('/proc/net/ipv6_route');
  else {
    for (const line of ipv6Routes.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [, destLen, , , nextHop, metric, , , flagsHex, iface] = f as [string, string, string, string, string, string, string, string, string, string];
      if (Number.parseInt(destLen, 16) !== 0) continue;
      const flags = Number.parseInt(flagsHex, 16);
      const dead = deadEnd(flags, iface, loopback);
      evidence.push(`IPv6 ::/0 via ${ipv6(nextHop)} dev ${iface} flags=0x${flags.toString(16)} metric ${Number.parseInt(metric, 16)}${dead ? ` (${dead})` : ''}`);
      if (!dead) ways.push(`IPv6 default via ${ipv6(nextHop)} on ${iface}`);
    }
  }
  for (const u of unreadable) evidence.push(`${u}: unreadable`);
  if (ways.length === 0 && unreadable.length === 0) {
    if (evidence.length === 0) evidence.push('no default route in /proc/net/route or /proc/net/ipv6_route');
    return check('network.defaultRoutes', 'PASS', evidence);
  }
  const parts = [...ways, ...unreadable.map((u) => `${u} could not be read`)];
  return check('network.defaultRoutes', 'FAIL', evidence, `A way out: ${parts.join('; ')}. Take the interface down (ip link set DEV down) or delete the route (ip route del default; ip -6 route del default), then run the test again.`);
}

export function radiosCheck(rfkill: RfkillSwitch[], bluetooth: string[], wifiPhys: string[]): AirGapCheck {
  const evidence = rfkill.map((r) => `rfkill ${r.name}: type=${r.type} soft=${r.soft} hard=${r.hard}`);
  const blocked = (r: RfkillSwitch): boolean => r.soft === '1' || r.hard === '1';
  const open = rfkill.filter((r) => !blocked(r)).map((r) => `${r.name} (${r.type})`);
  const blockedTypes = new Set(rfkill.filter(blocked).map((r) => r.type));
  // A switch of type "all" (a platform's kill switch) blocks every radio.
  const allBlocked = blockedTypes.has('all');
  if (bluetooth.length) evidence.push(`/sys/class/bluetooth: ${bluetooth.join(', ')}`);
  if (wifiPhys.length) evidence.push(`/sys/class/ieee80211: ${wifiPhys.join(', ')}`);
  // An adapter whose radio no rfkill switch blocks (the "all" switch of a laptop counts).
  if (bluetooth.length && !blockedTypes.has('bluetooth') && !allBlocked) open.push(`Bluetooth ${bluetooth.join(', ')} with no blocked rfkill switch`);
  if (wifiPhys.length && !blockedTypes.has('wlan') && !allBlocked) open.push(`Wi-Fi ${wifiPhys.join(', ')} with no blocked rfkill switch`);
  if (evidence.length === 0) evidence.push('no rfkill switch, no Bluetooth adapter, no Wi-Fi device (/sys/class/rfkill, /sys/class/bluetooth, /sys/class/ieee80211)');
  if (open.length === 0) return check('radios', 'PASS', evidence);
  return check('radios', 'FAIL', evidence, `Radio${open.length > 1 ? 's' : ''} not blocked: ${open.join('; ')}. Block them (rfkill block all), or better remove the card, then run the test again.`);
}

export function swapCheck(swaps: string | null): AirGapCheck {
  if (swaps === null) return check('swap', 'WARN', ['/proc/swaps: unreadable'], 'Keyroom could not read /proc/swaps: check with swapon --show.');
  const rows = swaps.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
  if (rows.length === 0) return check('swap', 'PASS', ['/proc/swaps: no swap in use']);
  const evidence = rows.map((r) => `/proc/swaps: ${r.split(/\s+/).slice(0, 4).join(' ')}`);
  // zram swaps into compressed memory: nothing reaches a disk.
  const onDisk = rows.map((r) => r.split(/\s+/)[0] ?? '').filter((f) => !/^\/dev\/zram\d+$/.test(f));
  if (onDisk.length === 0) return check('swap', 'PASS', [...evidence, 'zram only: compressed memory, not a disk']);
  return check('swap', 'WARN', evidence, `Swap on ${onDisk.join(', ')} can write keys in memory to disk: turn it off (swapoff -a) for the ceremony.`);
}

export function mountsCheck(mounts: AirGapMount[] | null): AirGapCheck {
  if (mounts === null) return check('mounts', 'WARN', ['/proc/mounts: unreadable'], 'Keyroom could not read /proc/mounts: check the mounted file systems with findmnt.');
  const removable = mounts.filter((m) => m.Removable);
  const network = mounts.filter((m) => m.Note === 'network file system');
  const fuse = mounts.filter((m) => m.Type.startsWith('fuse') && !m.Removable);
  const evidence = [
    `${mounts.length} file systems mounted (listed in Mounts)`,
    ...removable.map((m) => `removable: ${m.Source} on ${m.MountPoint} (${m.Type}; ${m.Note ?? ''})`),
    ...fuse.map((m) => `FUSE: ${m.Source} on ${m.MountPoint} (${m.Note ?? m.Type})`),
    ...network.map((m) => `network: ${m.Source} on ${m.MountPoint} (${m.Type})`),
  ];
  if (network.length === 0) return check('mounts', 'PASS', evidence);
  return check('mounts', 'WARN', evidence, `A network file system is mounted (${network.map((m) => m.MountPoint).join(', ')}): this machine was set up for a network; unmount it.`);
}

export function coreDumpsCheck(corePattern: string | null, limits: string | null): AirGapCheck {
  const row = limits?.split('\n').find((l) => l.startsWith('Max core file size'));
  const soft = row?.slice('Max core file size'.length).trim().split(/\s+/)[0];
  const evidence = [`kernel.core_pattern: ${corePattern ?? 'unreadable'}`, `RLIMIT_CORE of this process (soft): ${soft ?? 'unreadable'}`];
  if (soft === undefined || corePattern === null) return check('coreDumps', 'WARN', evidence, 'Keyroom could not read the core-dump settings: check ulimit -c and /proc/sys/kernel/core_pattern.');
  if (soft !== '0') return check('coreDumps', 'WARN', evidence, 'A crash would write Keyroom\'s memory (keys included) to a core file: start it with ulimit -c 0.');
  // The kernel hands a dump to a piped handler whatever the limit (fs/coredump.c); systemd-coredump
  // and apport honour a zero limit, other handlers may not.
  if (corePattern.startsWith('|')) return check('coreDumps', 'WARN', evidence, `Core dumps go to a handler (${corePattern.slice(1).split(' ')[0]}), which receives them whatever the limit: set kernel.core_pattern=core, or make sure the handler stores nothing (systemd-coredump: Storage=none).`);
  return check('coreDumps', 'PASS', evidence);
}

export function linuxChecks(f: LinuxFacts): PlatformFindings {
  return {
    checks: [
      interfacesCheck(f.interfaces),
      defaultRoutesCheck(f.ipv4Routes, f.ipv6Routes, f.interfaces),
      radiosCheck(f.rfkill, f.bluetooth, f.wifiPhys),
      swapCheck(f.swaps),
      mountsCheck(f.mounts),
      coreDumpsCheck(f.corePattern, f.limits),
    ],
    mounts: f.mounts ?? [],
    blindSpots: [
      'Only this network namespace is seen: a container or another namespace on the same machine has interfaces of its own.',
      'Routing tables other than main (policy routing, ip rule) are not read.',
    ],
  };
}

export async function linuxSelfTest(root = '/'): Promise<PlatformFindings> {
  return linuxChecks(await readLinuxFacts(root));
}

