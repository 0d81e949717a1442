/**
 * The air-gap self-test on macOS, through its commands (ceremony-practice.md §2): `ifconfig -a`
 * (flags and `status:` per interface), `networksetup` (which device is Wi-Fi, and its power),
 * `netstat -rn` (default routes of both families in one table; `route -n get default` asks one
 * family at a time and fails when there is none), `system_profiler -json SPBluetoothDataType`,
 * `sysctl vm.swapusage`, `pmset -g` (the hibernation image), `mount` and
 * `diskutil list -plist external` (which disks are external). Parsers are pure and tested on
 * recorded outputs; the runner only collects text.
 */
import type { AirGapCheck, AirGapMount } from '../../src-shared/domain/airGap';
import { check, type PlatformFindings } from './findings';
import type { CommandOutput, CommandRunner } from './runCommand';

export interface MacCommand {
  key: string;
  file: string;
  args: string[];
}

export const MAC_COMMANDS = {
  ifconfig: { key: 'ifconfig', file: '/sbin/ifconfig', args: ['-a'] },
  hardwarePorts: { key: 'networksetup-listallhardwareports', file: '/usr/sbin/networksetup', args: ['-listallhardwareports'] },
  routes: { key: 'netstat-rn', file: '/usr/sbin/netstat', args: ['-rn'] },
  bluetooth: { key: 'system_profiler-SPBluetoothDataType', file: '/usr/sbin/system_profiler', args: ['-json', 'SPBluetoothDataType'] },
  swap: { key: 'sysctl-vm.swapusage', file: '/usr/sbin/sysctl', args: ['vm.swapusage'] },
  pmset: { key: 'pmset-g', file: '/usr/bin/pmset', args: ['-g'] },
  mount: { key: 'mount', file: '/sbin/mount', args: [] },
  externalDisks: { key: 'diskutil-list-plist-external', file: '/usr/sbin/diskutil', args: ['list', '-plist', 'external'] },
} as const satisfies Record<string, MacCommand>;

export function airportPowerCommand(device: string): MacCommand {
  return { key: `networksetup-getairportpower-${device}`, file: '/usr/sbin/networksetup', args: ['-getairportpower', device] };
}

export interface MacInterface {
  name: string;
  flags: string[];
  /** `status:` line: active, inactive, or absent for interfaces that have none (lo0, gif0). */
  status: string | null;
}

export function parseIfconfig(out: string): MacInterface[] {
  const result: MacInterface[] = [];
  for (const line of out.split('\n')) {
    const head = /^([A-Za-z0-9]+): flags=[0-9a-f]+<([^>]*)>/.exec(line);
    if (head) {
      result.push({ name: head[1] as string, flags: (head[2] as string).split(',').filter(Boolean), status: null });
      continue;
    }
    const status = /^\s+status: (\S+)/.exec(line);
    const last = result[result.length - 1];
    if (status && last) last.status = status[1] as string;
  }
  return result;
}

/** `networksetup -listallhardwareports`: Hardware Port -> Device. */
export function parseHardwarePorts(out: string): { port: string; device: string }[] {
  const ports: { port: string; device: string }[] = [];
  let port: string | null = null;
  for (const line of out.split('\n')) {
    const p = /^Hardware Port: (.+)$/.exec(line.trim());
    if (p) port = p[1] as string;
    const d = /^Device: (.+)$/.exec(line.trim());
    if (d && port !== null) {
      ports.push({ port, device: d[1] as string });
      port = null;
    }
  }
  return ports;
}

export interface MacRoute {
  family: 'inet' | 'inet6';
  gateway: string;
  flags: string;
  netif: string;
}

/** The `default` rows of `netstat -rn`, under its "Internet:" and "Internet6:" headings. */
export function parseDefaultRoutes(out: string): MacRoute[] {
  const routes: MacRoute[] = [];
  let family: 'inet' | 'inet6' | null = null;
  for (const line of out.split('\n')) {
    if (/^Internet:/.test(line)) family = 'inet';
    else if (/^Internet6:/.test(line)) family = 'inet6';
    const f = line.trim().split(/\s+/);
    if (family && f[0] === 'default' && f.length >= 4) routes.push({ family, gateway: f[1] as string, flags: f[2] as string, netif: f[3] as string });
  }
  return routes;
}

const TUNNEL = /^(utun|ipsec|gif|stf|ppp)\d+$/;

export function macInterfacesCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return check('network.interfaces', 'FAIL', [out.error], 'Keyroom could not run ifconfig: check every network interface by hand (System Settings, Network).');
  const evidence: string[] = [];
  const active: string[] = [];
  const adminUp: string[] = [];
  for (const i of parseIfconfig(out.stdout)) {
    const line = `${i.name}: flags=<${i.flags.join(',')}> status=${i.status ?? 'none'}`;
    if (i.flags.includes('LOOPBACK')) {
      evidence.push(`${line} (loopback: stays inside this machine)`);
      continue;
    }
    // A tunnel (utun: iCloud, VPN) carries traffic only over another link, which the other
    // lines show; macOS keeps some up whatever the network.
    if (TUNNEL.test(i.name)) {
      evidence.push(`${line} (tunnel: only over another link)`);
      continue;
    }
    evidence.push(line);
    if (!i.flags.includes('UP')) continue;
    if (i.status === 'active' || (i.status === null && i.flags.includes('RUNNING'))) active.push(i.name);
    else adminUp.push(i.name);
  }
  if (active.length) {
    return check('network.interfaces', 'FAIL', evidence, `Interface${active.length > 1 ? 's' : ''} ${active.join(', ')} ${active.length > 1 ? 'are' : 'is'} active: unplug the cable, turn Wi-Fi off (networksetup -setairportpower en0 off), and run the test again.`);
  }
  if (adminUp.length) {
    return check('network.interfaces', 'WARN', evidence, `No link is active, but ${adminUp.join(', ')} ${adminUp.length > 1 ? 'are' : 'is'} administratively up: a cable or a network joined later would connect. sudo ifconfig DEV down for each, or make the service inactive in Network settings.`);
  }
  return check('network.interfaces', 'PASS', evidence);
}

export function macRoutesCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return check('network.defaultRoutes', 'FAIL', [out.error], 'Keyroom could not read the routing table: check netstat -rn by hand.');
  const evidence: string[] = [];
  const ways: string[] = [];
  for (const r of parseDefaultRoutes(out.stdout)) {
    const why = [/[RB]/.test(r.flags) && 'reject or blackhole', !r.flags.includes('U') && 'not up', /^lo\d+$/.test(r.netif) && 'on loopback', TUNNEL.test(r.netif) && 'a tunnel, only over another link'].filter(Boolean);
    evidence.push(`${r.family} default via ${r.gateway} flags=${r.flags} dev ${r.netif}${why.length ? ` (not a way out by itself: ${why.join(', ')})` : ''}`);
    if (why.length === 0) ways.push(`${r.family} default via ${r.gateway} on ${r.netif}`);
  }
  if (evidence.length === 0) evidence.push('netstat -rn: no default route');
  if (ways.length) return check('network.defaultRoutes', 'FAIL', evidence, `A way out: ${ways.join('; ')}. Disconnect that interface and run the test again.`);
  return check('network.defaultRoutes', 'PASS', evidence);
}

/** Bluetooth power from system_profiler's JSON: controller_state (macOS 12+) or general_power (older). */
export function parseBluetoothState(json: string): { present: boolean; on: boolean | null; raw: string } {
  const doc = JSON.parse(json) as { SPBluetoothDataType?: Record<string, Record<string, string> | undefined>[] };
  const entry = doc.SPBluetoothDataType?.[0];
  if (!entry) return { present: false, on: null, raw: 'no Bluetooth controller' };
  const state = entry.controller_properties?.controller_state ?? entry.local_device_title?.general_power;
  if (state === undefined) return { present: true, on: null, raw: 'controller present, state not reported' };
  return { present: true, on: state === 'attrib_on', raw: state };
}

export function macRadiosCheck(wifi: { device: string; out: CommandOutput }[], bluetooth: CommandOutput): AirGapCheck {
  const evidence: string[] = [];
  const on: string[] = [];
  const unknown: string[] = [];
  for (const w of wifi) {
    if (!w.out.ok) {
      evidence.push(w.out.error);
      unknown.push(`Wi-Fi ${w.device}`);
      continue;
    }
    const line = w.out.stdout.trim();
    evidence.push(line);
    if (!/:\s*Off$/i.test(line)) on.push(`Wi-Fi ${w.device}`);
  }
  if (wifi.length === 0) evidence.push('networksetup: no Wi-Fi hardware port');
  if (!bluetooth.ok) {
    evidence.push(bluetooth.error);
    unknown.push('Bluetooth');
  } else {
    try {
      const bt = parseBluetoothState(bluetooth.stdout);
      evidence.push(`Bluetooth: ${bt.raw}`);
      if (bt.on === true) on.push('Bluetooth');
      else if (bt.present && bt.on === null) unknown.push('Bluetooth');
    } catch {
      evidence.push('system_profiler SPBluetoothDataType: not JSON');
      unknown.push('Bluetooth');
    }
  }
  if (on.length) return check('radios', 'FAIL', evidence, `${on.join(' and ')} ${on.length > 1 ? 'are' : 'is'} on: turn ${on.length > 1 ? 'them' : 'it'} off (networksetup -setairportpower DEV off; Bluetooth in Control Centre), and run the test again.`);
  if (unknown.length) return check('radios', 'FAIL', evidence, `Keyroom could not tell whether ${unknown.join(' and ')} ${unknown.length > 1 ? 'are' : 'is'} off: check by hand and record it.`);
  return check('radios', 'PASS', evidence);
}

/** `vm.swapusage: total = 2048.00M  used = 1055.25M  free = 992.75M  (encrypted)`. */
export function macSwapCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return check('swap', 'WARN', [out.error], 'Keyroom could not read vm.swapusage: check sysctl vm.swapusage by hand.');
  const line = out.stdout.trim();
  const total = /total = ([\d.]+)M/.exec(line);
  if (total && Number.parseFloat(total[1] as string) === 0) return check('swap', 'PASS', [line]);
  const encrypted = /\(encrypted\)/.test(line);
  return check('swap', 'WARN', [line], `macOS swaps to disk when memory runs short and its swap cannot be turned off${encrypted ? ' (it is encrypted, with a key that lives only until the next start)' : ''}: keep other programs closed during the ceremony.`);
}

export function macHibernationCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return check('hibernation', 'WARN', [out.error], 'Keyroom could not read pmset -g: check hibernatemode by hand.');
  const mode = /^\s*hibernatemode\s+(\d+)/m.exec(out.stdout);
  if (!mode) return check('hibernation', 'PASS', ['pmset -g: no hibernatemode (not set on this machine)']);
  const evidence = [`hibernatemode ${mode[1]}`];
  if (mode[1] === '0') return check('hibernation', 'PASS', evidence);
  return check('hibernation', 'WARN', evidence, 'Sleep writes memory (keys included) to /var/vm/sleepimage: sudo pmset -a hibernatemode 0 for the ceremony, or keep the machine awake.');
}

/** `/dev/disk4s1 on /Volumes/KEYS (msdos, local, nodev, nosuid, noowners)`. */
export function parseMacMounts(out: string, externalDisks: ReadonlySet<string>): AirGapMount[] {
  const mounts: AirGapMount[] = [];
  for (const line of out.split('\n')) {
    const m = /^(.+?) on (.+) \(([^,)]+)(?:, ([^)]*))?\)$/.exec(line.trim());
    if (!m) continue;
    const [, source, mountPoint, type, opts] = m as unknown as [string, string, string, string, string | undefined];
    const id = /^\/dev\/(disk\d+(?:s\d+)*)$/.exec(source)?.[1];
    const external = id !== undefined && externalDisks.has(id);
    const network = /^(smbfs|nfs|afpfs|webdav|ftp)$/.test(type);
    const mount: AirGapMount = { Source: source, MountPoint: mountPoint, Type: type, Removable: external };
    if (external) mount.Note = `${id}: external disk (diskutil)`;
    else if (network) mount.Note = 'network file system';
    else if (opts?.includes('read-only') && mountPoint === '/') mount.Note = 'sealed system volume';
    mounts.push(mount);
  }
  return mounts;
}

/** The identifiers in `diskutil list -plist external`'s AllDisks array (disks, partitions, APFS volumes). */
export function parseExternalDisks(plist: string): Set<string> {
  const all = /<key>AllDisks<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(plist);
  return new Set([...(all?.[1] ?? '').matchAll(/<string>([^<]+)<\/string>/g)].map((m) => m[1] as string));
}

export function macMountsCheck(mountOut: CommandOutput, externalOut: CommandOutput): { check: AirGapCheck; mounts: AirGapMount[] } {
  if (!mountOut.ok) return { check: check('mounts', 'WARN', [mountOut.error], 'Keyroom could not list the mounts: check with mount by hand.'), mounts: [] };
  const external = externalOut.ok ? parseExternalDisks(externalOut.stdout) : new Set<string>();
  const mounts = parseMacMounts(mountOut.stdout, external);
  const network = mounts.filter((m) => m.Note === 'network file system');
  const evidence = [
    `${mounts.length} file systems mounted (listed in Mounts)`,
    ...(externalOut.ok ? [] : [`${externalOut.error} (removable media not marked)`]),
    ...mounts.filter((m) => m.Removable).map((m) => `removable: ${m.Source} on ${m.MountPoint} (${m.Type})`),
    ...network.map((m) => `network: ${m.Source} on ${m.MountPoint} (${m.Type})`),
  ];
  if (network.length) return { check: check('mounts', 'WARN', evidence, `A network file system is mounted (${network.map((m) => m.MountPoint).join(', ')}): unmount it.`), mounts };
  if (!externalOut.ok) return { check: check('mounts', 'WARN', evidence, 'Keyroom could not tell which disks are removable (diskutil failed).'), mounts };
  return { check: check('mounts', 'PASS', evidence), mounts };
}

export async function macosSelfTest(run: CommandRunner): Promise<PlatformFindings> {
  const exec = (c: MacCommand): Promise<CommandOutput> => run(c.file, c.args);
  const [ifconfig, ports, routes, bluetooth, swap, pmset, mount, external] = await Promise.all([
    exec(MAC_COMMANDS.ifconfig),
    exec(MAC_COMMANDS.hardwarePorts),
    exec(MAC_COMMANDS.routes),
    exec(MAC_COMMANDS.bluetooth),
    exec(MAC_COMMANDS.swap),
    exec(MAC_COMMANDS.pmset),
    exec(MAC_COMMANDS.mount),
    exec(MAC_COMMANDS.externalDisks),
  ]);
  const wifiDevices = ports.ok ? parseHardwarePorts(ports.stdout).filter((p) => /^(Wi-Fi|AirPort)$/.test(p.port)).map((p) => p.device) : [];
  const wifi = await Promise.all(wifiDevices.map(async (device) => ({ device, out: await exec(airportPowerCommand(device)) })));
  const radios = ports.ok ? macRadiosCheck(wifi, bluetooth) : check('radios', 'FAIL', [ports.error], 'Keyroom could not list the hardware ports: check Wi-Fi and Bluetooth by hand.');
  const mounts = macMountsCheck(mount, external);
  return {
    checks: [macInterfacesCheck(ifconfig), macRoutesCheck(routes), radios, macSwapCheck(swap), macHibernationCheck(pmset), mounts.check],
    mounts: mounts.mounts,
    blindSpots: [
      'Core dumps are not checked on macOS (they are off unless ulimit -c and /cores allow them).',
      'Apple Wireless Direct Link (AirDrop) and Continuity use the Wi-Fi and Bluetooth radios: turning both off stops them; the test sees the radios, not the services.',
    ],
  };
}
