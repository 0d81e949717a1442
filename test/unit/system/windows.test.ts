/** The Windows self-test on recorded PowerShell outputs (test/fixtures/system/windows, see its README). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WIN_COMMANDS, jsonRows } from '../../../src-main/system/windows';
import { runAirGapSelfTest } from '../../../src-main/system/airGap';
import { recordedRunner } from '../../support/recordedCommands';
import type { AirGapReport } from '../../../src-shared/domain/airGap';

const NOW = new Date('2026-12-06T09:00:00Z');

async function report(machine: string, overrides: Record<string, string | null> = {}): Promise<AirGapReport> {
  const { run } = recordedRunner('windows', machine, Object.values(WIN_COMMANDS), overrides);
  return runAirGapSelfTest({ platform: 'win32', run, now: NOW });
}

function byName(r: AirGapReport, name: string) {
  const c = r.Checks.find((x) => x.Name === name);
  assert.ok(c, `no check ${name}`);
  return c;
}

test('a connected Windows machine fails on its enabled adapters, its default routes and its radios', async () => {
  const r = await report('connected');
  assert.equal(r.Verdict, 'FAIL');
  assert.equal(r.Platform, 'win32');
  const ifs = byName(r, 'network.interfaces');
  assert.equal(ifs.Result, 'FAIL');
  // A Disconnected adapter is enabled: a cable plugged in later connects it.
  assert.match(ifs.Advice, /Wi-Fi, Ethernet, Bluetooth Network Connection are enabled/);
  assert.ok(ifs.Evidence.includes('Wi-Fi (Intel(R) Wi-Fi 6E AX211 160MHz): Status=Up MediaConnectionState=Connected PhysicalMediaType=Native 802.11'));
  const routes = byName(r, 'network.defaultRoutes');
  assert.equal(routes.Result, 'FAIL');
  assert.deepEqual(routes.Evidence, ['0.0.0.0/0 via 192.168.1.1 on Wi-Fi metric 0', '::/0 via fe80::b2be:76ff:fe4c:112a on Wi-Fi metric 256']);
  const radios = byName(r, 'radios');
  assert.equal(radios.Result, 'FAIL');
  assert.match(radios.Advice, /Wi-Fi, Intel\(R\) Wireless Bluetooth\(R\), Microsoft Bluetooth Enumerator/);
  assert.equal(byName(r, 'swap').Result, 'WARN');
  assert.deepEqual(byName(r, 'swap').Evidence, ['C:\\pagefile.sys: AllocatedBaseSize=4864 MB CurrentUsage=612 MB']);
  assert.equal(byName(r, 'hibernation').Result, 'WARN');
  assert.equal(byName(r, 'coreDumps').Result, 'PASS');
});

test('an air-gapped Windows machine passes, with its stick marked removable', async () => {
  const r = await report('airgapped');
  for (const c of r.Checks) assert.equal(c.Result, 'PASS', `${c.Name}: ${c.Evidence.join(' | ')} ${c.Advice}`);
  assert.equal(r.Verdict, 'PASS');
  assert.deepEqual(byName(r, 'network.defaultRoutes').Evidence, ['Get-NetRoute 0.0.0.0/0, ::/0 (active store): none']);
  assert.deepEqual(byName(r, 'radios').Evidence, ['radio adapter Wi-Fi (Native 802.11): Status=Disabled', 'Bluetooth Intel(R) Wireless Bluetooth(R): Status=Error']);
  const stick = r.Mounts.find((m) => m.MountPoint === 'E:\\');
  assert.equal(stick?.Removable, true);
  assert.equal(stick?.Source, 'CEREMONY');
  assert.equal(r.Mounts.find((m) => m.MountPoint === 'C:\\')?.Removable, false);
  assert.ok(r.BlindSpots.some((b) => /Intel AMT/.test(b)));
  assert.ok(r.BlindSpots.some((b) => /Airplane mode/.test(b)));
});

test('PowerShell missing fails the network checks and warns on the rest, naming the command', async () => {
  const missing = Object.fromEntries(Object.values(WIN_COMMANDS).map((c) => [c.key, null]));
  const r = await report('airgapped', missing);
  assert.equal(byName(r, 'network.interfaces').Result, 'FAIL');
  assert.equal(byName(r, 'network.defaultRoutes').Result, 'FAIL');
  assert.equal(byName(r, 'radios').Result, 'FAIL');
  assert.equal(byName(r, 'swap').Result, 'WARN');
  assert.match(byName(r, 'network.interfaces').Evidence[0] ?? '', /powershell\.exe: command not found/);
});

test('LocalDumps present is a warning; enums printed as strings read the same as numbers', async () => {
  const r = await report('airgapped', { LocalDumps: 'True\r\n' });
  assert.equal(byName(r, 'coreDumps').Result, 'WARN');
  assert.deepEqual(jsonRows<{ a: number }>('{"a":1}'), [{ a: 1 }]);
  assert.deepEqual(jsonRows('  \r\n'), []);
  const s = await report('airgapped', {
    'Get-NetAdapter': '{"Name":"Ethernet","InterfaceDescription":"Realtek USB GbE","Status":"Up","MediaConnectionState":"Connected","PhysicalMediaType":"802.3"}',
  });
  assert.ok(byName(s, 'network.interfaces').Evidence.includes('Ethernet (Realtek USB GbE): Status=Up MediaConnectionState=Connected PhysicalMediaType=802.3'));
  assert.equal(byName(s, 'network.interfaces').Result, 'FAIL');
});
