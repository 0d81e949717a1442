/**
 * The Linux self-test on a fake /sys and /proc tree, for what this machine lacks (rfkill switches,
 * Bluetooth, Wi-Fi, swap, a USB stick, a network file system). The network reads also run on the
 * real kernel in a namespace (test/integration/system/airGapNamespace.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { linuxSelfTest, defaultRoutesCheck, coreDumpsCheck } from '../../../src-main/system/linux';
import type { AirGapCheck } from '../../../src-shared/domain/airGap';

const USB_DISK = 'sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/host6/target6:0:0/6:0:0:0/block/sdb';
const SATA_DISK = 'sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda';
const SD_DISK = 'sys/devices/platform/soc/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0';

const LIMITS_ZERO = 'Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax core file size        0                    unlimited            bytes     \n';

/** A tree like a laptop's, air-gapped: every radio blocked, cable out, a USB stick mounted. */
function baseTree(): Record<string, string> {
  return {
    'sys/class/net/lo/flags': '0x9',
    'sys/class/net/lo/operstate': 'unknown',
    'sys/class/net/lo/carrier': '1',
    'sys/class/net/enp0s31f6/flags': '0x1002',
    'sys/class/net/enp0s31f6/operstate': 'down',
    'sys/class/net/wlp0s20f3/flags': '0x1002',
    'sys/class/net/wlp0s20f3/operstate': 'down',
    'sys/class/net/wlp0s20f3/wireless/.keep': '',
    'sys/class/rfkill/rfkill0/type': 'wlan',
    'sys/class/rfkill/rfkill0/name': 'phy0',
    'sys/class/rfkill/rfkill0/soft': '1',
    'sys/class/rfkill/rfkill0/hard': '0',
    'sys/class/rfkill/rfkill1/type': 'bluetooth',
    'sys/class/rfkill/rfkill1/name': 'hci0',
    'sys/class/rfkill/rfkill1/soft': '1',
    'sys/class/rfkill/rfkill1/hard': '0',
    'sys/class/bluetooth/hci0/.keep': '',
    'sys/class/ieee80211/phy0/.keep': '',
    'proc/net/route': 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n',
    'proc/net/ipv6_route':
      '00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 80200001       lo\n' +
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n',
    'proc/swaps': 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n',
    'proc/mounts':
      '/dev/sda2 / ext4 rw,relatime 0 0\n' +
      'proc /proc proc rw 0 0\n' +
      '/dev/sdb1 /media/anna/CEREMONY\\040KEYS vfat rw,nosuid,nodev,uid=1000 0 0\n' +
      '/dev/mmcblk0p1 /media/anna/SD exfat rw 0 0\n' +
      'fusefat /mnt/image fuse.fusefat rw,nosuid,nodev 0 0\n',
    'proc/4242/cmdline': 'fusefat\0-o\0rw+\0/home/anna/fat.img\0/mnt/image\0',
    'proc/sys/kernel/core_pattern': 'core',
    'proc/self/limits': LIMITS_ZERO,
    [`${USB_DISK}/removable`]: '1',
    [`${USB_DISK}/sdb1/partition`]: '1',
    [`${SATA_DISK}/removable`]: '0',
    [`${SATA_DISK}/sda2/partition`]: '2',
    [`${SD_DISK}/removable`]: '1',
    [`${SD_DISK}/mmcblk0p1/partition`]: '1',
  };
}

const LINKS: Record<string, string> = {
  'sys/class/block/sdb1': `../../../${USB_DISK}/sdb1`,
  'sys/class/block/sda2': `../../../${SATA_DISK}/sda2`,
  'sys/class/block/mmcblk0p1': `../../../${SD_DISK}/mmcblk0p1`,
};

async function run(edit: (t: Record<string, string | null>) => void = () => {}): Promise<{ checks: Record<string, AirGapCheck>; mounts: Awaited<ReturnType<typeof linuxSelfTest>>['mounts'] }> {
  const tree: Record<string, string | null> = baseTree();
  edit(tree);
  const root = mkdtempSync(join(tmpdir(), 'keyroom-fakeroot-'));
  try {
    for (const [path, content] of Object.entries(tree)) {
      if (content === null) continue;
      mkdirSync(dirname(join(root, path)), { recursive: true });
      if (!path.endsWith('/.keep')) writeFileSync(join(root, path), content);
    }
    for (const [path, target] of Object.entries(LINKS)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      symlinkSync(target, join(root, path));
    }
    const f = await linuxSelfTest(root);
    return { checks: Object.fromEntries(f.checks.map((c) => [c.Name, c])), mounts: f.mounts };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('an air-gapped laptop: interfaces down, radios blocked, no default route, no swap: every check passes', async () => {
  const { checks } = await run();
  for (const c of Object.values(checks)) assert.equal(c.Result, 'PASS', `${c.Name}: ${c.Evidence.join(' | ')}`);
  assert.deepEqual(checks.radios?.Evidence, [
    'rfkill phy0: type=wlan soft=1 hard=0',
    'rfkill hci0: type=bluetooth soft=1 hard=0',
    '/sys/class/bluetooth: hci0',
    '/sys/class/ieee80211: phy0',
  ]);
  assert.deepEqual(checks['network.defaultRoutes']?.Evidence, ['IPv6 ::/0 via :: dev lo flags=0x200200 metric 4294967295 (not a way out: not up, a reject route, on loopback)']);
  assert.ok(checks['network.interfaces']?.Evidence.includes('wlp0s20f3: flags=0x1002 operstate=down carrier=unreadable wireless'));
});

test('removable media are marked through sysfs (USB, SD card), the FUSE image names its file, and names are unescaped', async () => {
  const { mounts } = await run();
  const at = (mp: string) => mounts.find((m) => m.MountPoint === mp);
  assert.deepEqual(at('/media/anna/CEREMONY KEYS'), { Source: '/dev/sdb1', MountPoint: '/media/anna/CEREMONY KEYS', Type: 'vfat', Removable: true, Note: 'sdb: removable=1, on USB' });
  assert.deepEqual(at('/media/anna/SD'), { Source: '/dev/mmcblk0p1', MountPoint: '/media/anna/SD', Type: 'exfat', Removable: true, Note: 'mmcblk0: removable=1' });
  assert.deepEqual(at('/'), { Source: '/dev/sda2', MountPoint: '/', Type: 'ext4', Removable: false, Note: 'sda: removable=0' });
  assert.equal(at('/mnt/image')?.Removable, false);
  assert.equal(at('/mnt/image')?.Note, 'FUSE (fuse.fusefat) over the image file /home/anna/fat.img, not removable media itself');
  assert.equal(at('/proc')?.Removable, false);
});

test('a radio left on fails, naming it; a Bluetooth adapter with no switch fails too', async () => {
  const wifi = await run((t) => (t['sys/class/rfkill/rfkill0/soft'] = '0'));
  assert.equal(wifi.checks.radios?.Result, 'FAIL');
  assert.match(wifi.checks.radios?.Advice ?? '', /not blocked: phy0 \(wlan\)/);
  const hard = await run((t) => ((t['sys/class/rfkill/rfkill0/soft'] = '0'), (t['sys/class/rfkill/rfkill0/hard'] = '1')));
  assert.equal(hard.checks.radios?.Result, 'PASS', 'a hardware switch blocks the radio');
  const noSwitch = await run((t) => {
    for (const k of Object.keys(t)) if (k.startsWith('sys/class/rfkill/rfkill1/')) t[k] = null;
  });
  assert.equal(noSwitch.checks.radios?.Result, 'FAIL');
  assert.match(noSwitch.checks.radios?.Advice ?? '', /Bluetooth hci0 with no blocked rfkill switch/);
});

test('an interface administratively up fails even when operstate says unknown; unknown with the flag down passes', async () => {
  const up = await run((t) => ((t['sys/class/net/enp0s31f6/flags'] = '0x1003'), (t['sys/class/net/enp0s31f6/operstate'] = 'unknown')));
  assert.equal(up.checks['network.interfaces']?.Result, 'FAIL');
  assert.match(up.checks['network.interfaces']?.Advice ?? '', /^Interface enp0s31f6 is up/);
  const down = await run((t) => (t['sys/class/net/enp0s31f6/operstate'] = 'unknown'));
  assert.equal(down.checks['network.interfaces']?.Result, 'PASS');
  const carrier = await run((t) => (t['sys/class/net/enp0s31f6/carrier'] = '1'));
  assert.equal(carrier.checks['network.interfaces']?.Result, 'FAIL', 'a carrier means a link');
  const unreadable = await run((t) => (t['sys/class/net/enp0s31f6/flags'] = null));
  assert.equal(unreadable.checks['network.interfaces']?.Result, 'FAIL', 'flags that cannot be read are not "down"');
  const noSys = await run((t) => {
    for (const k of Object.keys(t)) if (k.startsWith('sys/class/net/')) t[k] = null;
  });
  assert.equal(noSys.checks['network.interfaces']?.Result, 'FAIL');
});

test('swap on a disk warns, zram alone passes; a network file system warns', async () => {
  const disk = await run((t) => (t['proc/swaps'] += '/swapfile                               file\t\t8388604\t\t0\t\t-2\n/dev/zram0 partition 4194300 0 100\n'));
  assert.equal(disk.checks.swap?.Result, 'WARN');
  assert.match(disk.checks.swap?.Advice ?? '', /Swap on \/swapfile can write/);
  assert.ok(disk.checks.swap?.Evidence.includes('/proc/swaps: /swapfile file 8388604 0'));
  const zram = await run((t) => (t['proc/swaps'] += '/dev/zram0                              partition\t4194300\t\t0\t\t100\n'));
  assert.equal(zram.checks.swap?.Result, 'PASS');
  const nfs = await run((t) => (t['proc/mounts'] += 'files.example.com:/export /mnt/share nfs4 rw 0 0\n'));
  assert.equal(nfs.checks.mounts?.Result, 'WARN');
  assert.ok(nfs.checks.mounts?.Evidence.includes('network: files.example.com:/export on /mnt/share (nfs4)'));
});

test('default routes: a gateway on a real interface fails with its address; reject, down and loopback routes do not', () => {
  const v4 = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\neth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n';
  const ifs = [{ name: 'lo', flags: 0x9, operstate: 'unknown', carrier: '1', wireless: false }];
  const c = defaultRoutesCheck(v4, '', ifs);
  assert.equal(c.Result, 'FAIL');
  assert.deepEqual(c.Evidence, ['IPv4 default via 192.168.1.1 dev eth0 flags=0x3 metric 100']);
  assert.match(c.Advice, /^A way out: IPv4 default via 192\.168\.1\.1 on eth0\./);
  const v6 = '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000003 00000000 00450003    wlan0\n';
  const c6 = defaultRoutesCheck('Iface\n', v6, ifs);
  assert.equal(c6.Result, 'FAIL');
  assert.match(c6.Advice, /IPv6 default via fe80::1 on wlan0/);
  const reject = defaultRoutesCheck('Iface\neth0\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n', '', ifs);
  assert.equal(reject.Result, 'PASS', 'an IPv4 reject route (ip route add unreachable default) is no way out');
  const unreadable = defaultRoutesCheck(null, '', ifs);
  assert.equal(unreadable.Result, 'FAIL');
});

test('core dumps: a limit above zero warns, a piped handler warns, zero with a file pattern passes', () => {
  assert.equal(coreDumpsCheck('core', LIMITS_ZERO).Result, 'PASS');
  const big = coreDumpsCheck('core', LIMITS_ZERO.replace('Max core file size        0 ', 'Max core file size        unlimited '));
  assert.equal(big.Result, 'WARN');
  assert.deepEqual(big.Evidence, ['kernel.core_pattern: core', 'RLIMIT_CORE of this process (soft): unlimited']);
  const piped = coreDumpsCheck('|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h', LIMITS_ZERO);
  assert.equal(piped.Result, 'WARN');
  assert.match(piped.Advice, /\/usr\/lib\/systemd\/systemd-coredump/);
  assert.equal(coreDumpsCheck(null, null).Result, 'WARN');
});
