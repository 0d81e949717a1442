/**
 * The air-gap self-test on Windows, through PowerShell (ceremony-practice.md §2): `Get-NetAdapter`
 * (Status, MediaConnectionState, PhysicalMediaType), `Get-NetRoute` for 0.0.0.0/0 and ::/0 in the
 * active store, Bluetooth through `Get-PnpDevice`, `Win32_PageFileUsage`, `powercfg /a`
 * (hibernation), Windows Error Reporting's LocalDumps, and `Get-Volume` (removable drives). Each
 * command prints JSON; the parsers are pure and tested on recorded outputs.
 */
import type { AirGapCheck, AirGapMount } from '../../src-shared/domain/airGap';
import { check, type PlatformFindings } from './findings';
import type { CommandOutput, CommandRunner } from './runCommand';

export interface WinCommand {
  key: string;
  file: string;
  args: string[];
}

function ps(key: string, script: string): WinCommand {
  return { key, file: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-Command', script] };
}

export const WIN_COMMANDS = {
  adapters: ps('Get-NetAdapter', 'Get-NetAdapter | Select-Object Name,InterfaceDescription,Status,MediaConnectionState,PhysicalMediaType | ConvertTo-Json -Compress'),
  routes: ps(
    'Get-NetRoute',
    "Get-NetRoute -DestinationPrefix '0.0.0.0/0','::/0' -PolicyStore ActiveStore -ErrorAction SilentlyContinue | Select-Object DestinationPrefix,NextHop,InterfaceAlias,RouteMetric | ConvertTo-Json -Compress",
  ),
  bluetooth: ps('Get-PnpDevice-Bluetooth', 'Get-PnpDevice -Class Bluetooth -PresentOnly -ErrorAction SilentlyContinue | Select-Object FriendlyName,Status,InstanceId | ConvertTo-Json -Compress'),
  pageFile: ps('Win32_PageFileUsage', 'Get-CimInstance Win32_PageFileUsage | Select-Object Name,AllocatedBaseSize,CurrentUsage | ConvertTo-Json -Compress'),
  sleepStates: { key: 'powercfg-a', file: 'powercfg.exe', args: ['/a'] },
  localDumps: ps('LocalDumps', "Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps'"),
  volumes: ps('Get-Volume', 'Get-Volume | Select-Object DriveLetter,FileSystemLabel,FileSystem,DriveType,Size | ConvertTo-Json -Compress'),
} as const satisfies Record<string, WinCommand>;

/** ConvertTo-Json prints one object bare and none as nothing: always an array. */
export function jsonRows<T>(out: string): T[] {
  const text = out.trim();
  if (text === '') return [];
  const v = JSON.parse(text) as T | T[];
  return Array.isArray(v) ? v : [v];
}

interface NetAdapter {
  Name: string;
  InterfaceDescription?: string;
  Status: string;
  MediaConnectionState?: number | string;
  PhysicalMediaType?: string;
}

/** Windows PowerShell prints the enum as its number: 0 Unknown, 1 Connected, 2 Disconnected. */
function mediaState(v: number | string | undefined): string {
  if (v === undefined) return 'unknown';
  return typeof v === 'number' ? (['Unknown', 'Connected', 'Disconnected'][v] ?? String(v)) : v;
}

function failed(name: string, out: { ok: false; error: string }, advice: string, result: 'FAIL' | 'WARN' = 'FAIL'): AirGapCheck {
  return check(name, result, [out.error], advice);
}

export function winAdaptersCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return failed('network.interfaces', out, 'Keyroom could not run Get-NetAdapter: check every adapter by hand (ncpa.cpl).');
  const evidence: string[] = [];
  const enabled: string[] = [];
  for (const a of jsonRows<NetAdapter>(out.stdout)) {
    evidence.push(`${a.Name} (${a.InterfaceDescription ?? '?'}): Status=${a.Status} MediaConnectionState=${mediaState(a.MediaConnectionState)} PhysicalMediaType=${a.PhysicalMediaType ?? '?'}`);
    // "Disconnected" is an enabled adapter without a link: a cable or a network joined later connects it.
    if (a.Status !== 'Disabled' && a.Status !== 'Not Present') enabled.push(a.Name);
  }
  if (evidence.length === 0) evidence.push('Get-NetAdapter: no adapter');
  if (enabled.length === 0) return check('network.interfaces', 'PASS', evidence);
  return check('network.interfaces', 'FAIL', evidence, `Adapter${enabled.length > 1 ? 's' : ''} ${enabled.join(', ')} ${enabled.length > 1 ? 'are' : 'is'} enabled: Disable-NetAdapter -Name "NAME" for each (as administrator), and run the test again.`);
}

export function winRoutesCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return failed('network.defaultRoutes', out, 'Keyroom could not run Get-NetRoute: check route print by hand.');
  const rows = jsonRows<{ DestinationPrefix: string; NextHop: string; InterfaceAlias: string; RouteMetric?: number }>(out.stdout);
  const evidence = rows.map((r) => `${r.DestinationPrefix} via ${r.NextHop} on ${r.InterfaceAlias} metric ${r.RouteMetric ?? '?'}`);
  if (rows.length === 0) return check('network.defaultRoutes', 'PASS', ['Get-NetRoute 0.0.0.0/0, ::/0 (active store): none']);
  return check('network.defaultRoutes', 'FAIL', evidence, `There is a default route (${rows.map((r) => `${r.DestinationPrefix} on ${r.InterfaceAlias}`).join('; ')}): disable that adapter and run the test again.`);
}

export function winRadiosCheck(adapters: CommandOutput, bluetooth: CommandOutput): AirGapCheck {
  const evidence: string[] = [];
  const on: string[] = [];
  if (!adapters.ok) return failed('radios', adapters, 'Keyroom could not list the adapters: check Wi-Fi and Bluetooth by hand.');
  for (const a of jsonRows<NetAdapter>(adapters.stdout)) {
    if (!/802\.11|Wireless WAN|Mobile Broadband/i.test(a.PhysicalMediaType ?? '') && !/Wi-?Fi|Wireless/i.test(a.InterfaceDescription ?? '')) continue;
    evidence.push(`radio adapter ${a.Name} (${a.PhysicalMediaType ?? a.InterfaceDescription ?? '?'}): Status=${a.Status}`);
    if (a.Status !== 'Disabled' && a.Status !== 'Not Present') on.push(a.Name);
  }
  if (!bluetooth.ok) return failed('radios', bluetooth, 'Keyroom could not list Bluetooth devices: check Bluetooth by hand.');
  for (const d of jsonRows<{ FriendlyName: string; Status: string }>(bluetooth.stdout)) {
    evidence.push(`Bluetooth ${d.FriendlyName}: Status=${d.Status}`);
    // A disabled device reports Error (problem code 22); OK means it is running.
    if (d.Status === 'OK') on.push(d.FriendlyName);
  }
  if (evidence.length === 0) evidence.push('no Wi-Fi, mobile broadband or Bluetooth device');
  if (on.length === 0) return check('radios', 'PASS', evidence);
  return check('radios', 'FAIL', evidence, `Radio${on.length > 1 ? 's' : ''} enabled: ${on.join(', ')}. Disable them in Device Manager (or Disable-NetAdapter / Disable-PnpDevice), and run the test again.`);
}

export function winPageFileCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return failed('swap', out, 'Keyroom could not read Win32_PageFileUsage: check the page file by hand (SystemPropertiesPerformance).', 'WARN');
  const rows = jsonRows<{ Name: string; AllocatedBaseSize: number; CurrentUsage: number }>(out.stdout);
  if (rows.length === 0) return check('swap', 'PASS', ['Win32_PageFileUsage: no page file']);
  return check(
    'swap',
    'WARN',
    rows.map((r) => `${r.Name}: AllocatedBaseSize=${r.AllocatedBaseSize} MB CurrentUsage=${r.CurrentUsage} MB`),
    'A page file can write keys in memory to disk: set "No paging file" (System Properties, Advanced, Performance, Virtual memory) and restart before the ceremony.',
  );
}

export function winHibernationCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return failed('hibernation', out, 'Keyroom could not run powercfg /a: check hibernation by hand.', 'WARN');
  // The available states come first, then "not available" ones: only the first part counts.
  const available = out.stdout.split(/The following sleep states are not available/i)[0] ?? '';
  const hibernate = /^\s*Hibernate\s*$/im.test(available);
  const evidence = [`powercfg /a: Hibernate ${hibernate ? 'available' : 'not available'}`];
  if (!hibernate) return check('hibernation', 'PASS', evidence);
  return check('hibernation', 'WARN', evidence, 'Hibernation writes memory (keys included) to hiberfil.sys: powercfg /h off (as administrator) before the ceremony.');
}

export function winCoreDumpsCheck(out: CommandOutput): AirGapCheck {
  if (!out.ok) return failed('coreDumps', out, 'Keyroom could not read the Windows Error Reporting settings: check LocalDumps by hand.', 'WARN');
  const on = out.stdout.trim() === 'True';
  const evidence = [`HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps: ${on ? 'present' : 'absent'}`];
  if (!on) return check('coreDumps', 'PASS', evidence);
  return check('coreDumps', 'WARN', evidence, 'Windows Error Reporting keeps local crash dumps (memory, keys included): delete the LocalDumps key for the ceremony.');
}

export function winVolumesCheck(out: CommandOutput): { check: AirGapCheck; mounts: AirGapMount[] } {
  if (!out.ok) return { check: failed('mounts', out, 'Keyroom could not run Get-Volume: check the drives by hand.', 'WARN'), mounts: [] };
  const rows = jsonRows<{ DriveLetter: string | null; FileSystemLabel?: string; FileSystem?: string; DriveType: string | number }>(out.stdout);
  const mounts: AirGapMount[] = rows.map((v) => {
    const removable = v.DriveType === 'Removable' || v.DriveType === 2;
    const m: AirGapMount = { Source: v.FileSystemLabel || '(no label)', MountPoint: v.DriveLetter ? `${v.DriveLetter}:\\` : '(no drive letter)', Type: v.FileSystem || '?', Removable: removable };
    m.Note = `DriveType ${v.DriveType}`;
    return m;
  });
  const evidence = [`${mounts.length} volumes (listed in Mounts)`, ...mounts.filter((m) => m.Removable).map((m) => `removable: ${m.MountPoint} ${m.Source} (${m.Type})`)];
  return { check: check('mounts', 'PASS', evidence), mounts };
}

export async function windowsSelfTest(run: CommandRunner): Promise<PlatformFindings> {
  const exec = (c: WinCommand): Promise<CommandOutput> => run(c.file, c.args);
  const [adapters, routes, bluetooth, pageFile, sleepStates, localDumps, volumes] = await Promise.all([
    exec(WIN_COMMANDS.adapters),
    exec(WIN_COMMANDS.routes),
    exec(WIN_COMMANDS.bluetooth),
    exec(WIN_COMMANDS.pageFile),
    exec(WIN_COMMANDS.sleepStates),
    exec(WIN_COMMANDS.localDumps),
    exec(WIN_COMMANDS.volumes),
  ]);
  const vols = winVolumesCheck(volumes);
  return {
    checks: [winAdaptersCheck(adapters), winRoutesCheck(routes), winRadiosCheck(adapters, bluetooth), winPageFileCheck(pageFile), winHibernationCheck(sleepStates), vols.check, winCoreDumpsCheck(localDumps)],
    mounts: vols.mounts,
    blindSpots: [
      "Airplane mode and radios without a network adapter (the Windows.Devices.Radios API) are not read: check Settings, Network, Airplane mode by hand.",
      'Mapped network drives and hidden adapters (Get-NetAdapter -IncludeHidden) are not listed.',
    ],
  };
}
