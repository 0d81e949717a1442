/** The macOS self-test on recorded outputs of its commands (test/fixtures/system/macos, see its README). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAC_COMMANDS, airportPowerCommand, parseBluetoothState, parseDefaultRoutes, parseIfconfig } from '../../../src-main/system/macos';
import { runAirGapSelfTest } from '../../../src-main/system/airGap';
import { recordedRunner } from '../../support/recordedCommands';
import type { AirGapReport } from '../../../src-shared/domain/airGap';

const COMMANDS = [...Object.values(MAC_COMMANDS), airportPowerCommand('en0')];
const NOW = new Date('2026-12-06T09:00:00Z');

async function report(machine: string, overrides: Record<string, string | null> = {}): Promise<{ r: AirGapReport; asked: string[] }> {
  const { run, asked } = recordedRunner('macos', machine, COMMANDS, overrides);
  return { r: await runAirGapSelfTest({ platform: 'darwin', run, now: NOW }), asked };
}

function byName(r: AirGapReport, name: string) {
  const c = r.Checks.find((x) => x.Name === name);
  assert.ok(c, `no check ${name} in ${r.Checks.map((x) => x.Name).join(', ')}`);
  return c;
}

test('a connected Mac fails on its active Wi-Fi, its default routes and its radios, naming each', async () => {
  const { r, asked } = await report('connected');
  assert.equal(r.Verdict, 'FAIL');
  assert.equal(r.Platform, 'darwin');
  assert.ok(asked.includes('networksetup-getairportpower-en0'), 'asks the Wi-Fi device networksetup names for its power');
  const ifs = byName(r, 'network.interfaces');
  assert.equal(ifs.Result, 'FAIL');
  assert.match(ifs.Advice, /en0, awdl0, llw0 are active/);
  assert.ok(ifs.Evidence.includes('en0: flags=<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> status=active'));
  const routes = byName(r, 'network.defaultRoutes');
  assert.equal(routes.Result, 'FAIL');
  assert.match(routes.Advice, /inet default via 192\.168\.1\.1 on en0; inet6 default via fe80::b2be:76ff:fe4c:112a%en0 on en0/);
  assert.doesNotMatch(routes.Advice, /utun/, 'default routes through tunnels are not a way out by themselves');
  const radios = byName(r, 'radios');
  assert.equal(radios.Result, 'FAIL');
  assert.deepEqual(radios.Evidence, ['Wi-Fi Power (en0): On', 'Bluetooth: attrib_on']);
  assert.equal(byName(r, 'swap').Result, 'WARN');
  assert.match(byName(r, 'swap').Evidence[0] ?? '', /total = 2048\.00M/);
  assert.equal(byName(r, 'hibernation').Result, 'WARN');
  const mounts = byName(r, 'mounts');
  assert.equal(mounts.Result, 'WARN');
  assert.ok(mounts.Evidence.includes('network: //anna@fileserver.example.com/Share on /Volumes/Share (smbfs)'));
});

test('an air-gapped Mac passes the network, radio and route checks; its always-up anpi0 is a warning', async () => {
  const { r } = await report('airgapped');
  assert.equal(byName(r, 'network.defaultRoutes').Result, 'PASS');
  assert.equal(byName(r, 'radios').Result, 'PASS');
  assert.equal(byName(r, 'swap').Result, 'PASS');
  assert.equal(byName(r, 'hibernation').Result, 'PASS');
  const ifs = byName(r, 'network.interfaces');
  assert.equal(ifs.Result, 'WARN');
  assert.match(ifs.Advice, /anpi0 is administratively up/);
  assert.equal(r.Verdict, 'WARN');
  const stick = r.Mounts.find((m) => m.MountPoint === '/Volumes/CEREMONY');
  assert.deepEqual(stick, { Source: '/dev/disk4s1', MountPoint: '/Volumes/CEREMONY', Type: 'msdos', Removable: true, Note: 'disk4s1: external disk (diskutil)' });
  assert.equal(r.Mounts.find((m) => m.MountPoint === '/')?.Removable, false);
  assert.equal(byName(r, 'clock').Result, 'PASS');
});

test('a command that cannot run is a FAIL for the network and a WARN for swap, naming the command', async () => {
  const { r } = await report('airgapped', { ifconfig: null, 'netstat-rn': null, 'sysctl-vm.swapusage': null, 'system_profiler-SPBluetoothDataType': null });
  assert.equal(byName(r, 'network.interfaces').Result, 'FAIL');
  assert.match(byName(r, 'network.interfaces').Evidence[0] ?? '', /\/sbin\/ifconfig: command not found/);
  assert.equal(byName(r, 'network.defaultRoutes').Result, 'FAIL');
  assert.equal(byName(r, 'radios').Result, 'FAIL', 'a radio that cannot be read is not off');
  assert.match(byName(r, 'radios').Advice, /could not tell whether Bluetooth is off/);
  assert.equal(byName(r, 'swap').Result, 'WARN');
});

test('Wi-Fi off but en0 administratively up is a warning, not a pass', async () => {
  const up = 'en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tstatus: inactive\n';
  const { r } = await report('airgapped', { ifconfig: up });
  assert.equal(byName(r, 'network.interfaces').Result, 'WARN');
  assert.match(byName(r, 'network.interfaces').Advice, /en0 is administratively up/);
});

test('parsers: ifconfig status lines, netstat default rows per family, both Bluetooth JSON shapes', () => {
  const ifs = parseIfconfig('lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\nen1: flags=8863<UP,RUNNING> mtu 1500\n\tstatus: active\n');
  assert.deepEqual(ifs, [
    { name: 'lo0', flags: ['UP', 'LOOPBACK', 'RUNNING', 'MULTICAST'], status: null },
    { name: 'en1', flags: ['UP', 'RUNNING'], status: 'active' },
  ]);
  const routes = parseDefaultRoutes('Internet:\nDestination Gateway Flags Netif Expire\ndefault 10.0.0.1 UGScg en5\n\nInternet6:\ndefault fe80::1%lo0 UGRS lo0\n');
  assert.deepEqual(routes, [
    { family: 'inet', gateway: '10.0.0.1', flags: 'UGScg', netif: 'en5' },
    { family: 'inet6', gateway: 'fe80::1%lo0', flags: 'UGRS', netif: 'lo0' },
  ]);
  // macOS 11 and older: local_device_title.general_power.
  assert.deepEqual(parseBluetoothState('{"SPBluetoothDataType":[{"local_device_title":{"general_power":"attrib_on"}}]}'), { present: true, on: true, raw: 'attrib_on' });
  assert.deepEqual(parseBluetoothState('{"SPBluetoothDataType":[]}'), { present: false, on: null, raw: 'no Bluetooth controller' });
});
