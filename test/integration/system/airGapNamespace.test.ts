/**
 * AirGapSelfTest through the built `keyroom` command on the real kernel: inside a fresh network
 * namespace with its own sysfs (only `lo`, down; IPv6's reject route on `lo`) the network checks
 * pass, and on this machine (which has a network) they fail, naming the interface and the default
 * route that iproute2 (netlink, not the files Keyroom reads) reports. A real FAT mount (fusefat) is
 * listed with its image file. Root only; skipped, saying why, where namespaces cannot be made.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { KEYROOM_BIN, assertFreshCliBundle } from '../../support/keyroomCli';
import { isRoot, mountFat32, onPath, type Mounted } from '../../support/mounts';
import { worstResult, type AirGapReport } from '../../../src-shared/domain/airGap';

function canUnshare(): string | null {
  if (!isRoot()) return 'network namespaces need root';
  if (!onPath('unshare')) return 'unshare (util-linux) is missing';
  const r = spawnSync('unshare', ['-n', '-m', 'sh', '-c', 'mount -t sysfs none /sys'], { encoding: 'utf8' });
  return r.status === 0 ? null : `unshare -n -m with a fresh sysfs failed here: ${r.stderr.trim()}`;
}

const SKIP = process.platform !== 'linux' ? 'Linux only' : canUnshare();

function selfTest(inNamespace: boolean): AirGapReport & { Recorded: boolean; RequestId: string } {
  const cmd = [process.execPath, KEYROOM_BIN, 'AirGapSelfTest'];
  // The command runs as "$0" "$@" after the fresh sysfs is mounted: no quoting of paths.
  const r = inNamespace
    ? spawnSync('unshare', ['-n', '-m', 'sh', '-c', 'mount -t sysfs none /sys && exec "$0" "$@"', ...cmd], { encoding: 'utf8' })
    : spawnSync(cmd[0] as string, cmd.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, `keyroom AirGapSelfTest exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as AirGapReport & { Recorded: boolean; RequestId: string };
}

function byName(r: AirGapReport, name: string) {
  const c = r.Checks.find((x) => x.Name === name);
  assert.ok(c, `no check ${name}`);
  return c;
}

describe('AirGapSelfTest on the real kernel', { skip: SKIP ?? false }, () => {
  let fat: Mounted | null = null;
  let fatSkip = '';
  before(() => {
    assertFreshCliBundle();
    const m = mountFat32(16);
    if ('skip' in m) fatSkip = m.skip;
    else fat = m;
  });
  after(() => fat?.unmount());

  it('passes the network checks in a fresh namespace: only lo, down, and the IPv6 reject route on lo is no way out', () => {
    const r = selfTest(true);
    const ifs = byName(r, 'network.interfaces');
    assert.equal(ifs.Result, 'PASS', ifs.Evidence.join('\n'));
    assert.equal(ifs.Evidence.length, 1);
    assert.match(ifs.Evidence[0] ?? '', /^lo: flags=0x8 operstate=down carrier=unreadable \(loopback/);
    const routes = byName(r, 'network.defaultRoutes');
    assert.equal(routes.Result, 'PASS', routes.Evidence.join('\n'));
    for (const line of routes.Evidence) assert.match(line, /a reject route, on loopback|no default route/);
    assert.equal(r.Verdict, worstResult(r.Checks.map((c) => c.Result)));
    assert.ok(r.Checks.every((c) => c.Result !== 'FAIL'), r.Checks.map((c) => `${c.Name} ${c.Result}`).join(', '));
    assert.equal(r.Platform, 'linux');
    assert.equal(r.Recorded, false, 'no keystore is opened by the command line for this operation');
    if (fat) assert.ok(r.Mounts.some((m) => m.MountPoint === fat?.dir), 'the namespace sees the FAT mount it was copied with');
  });

  it('fails on this machine, naming each interface that is up and the default route iproute2 reports', (t) => {
    if (!onPath('ip')) {
      t.skip('ip (iproute2) is missing; the test preflight installs it');
      return;
    }
    const upLinks = spawnSync('ip', ['-o', 'link', 'show', 'up'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => /^\d+: ([^:@]+)[@:]/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined && n !== 'lo');
    const route = /^default via (\S+) dev (\S+)/m.exec(spawnSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout);
    if (upLinks.length === 0 || !route) {
      t.skip('this machine has no interface up or no IPv4 default route to be found');
      return;
    }
    const r = selfTest(false);
    assert.equal(r.Verdict, 'FAIL');
    const ifs = byName(r, 'network.interfaces');
    assert.equal(ifs.Result, 'FAIL');
    for (const name of upLinks) assert.match(ifs.Advice, new RegExp(`\\b${name}\\b`), `names ${name}`);
    const routes = byName(r, 'network.defaultRoutes');
    assert.equal(routes.Result, 'FAIL');
    const [, gateway, dev] = route;
    assert.ok(routes.Evidence.some((e) => e.startsWith(`IPv4 default via ${gateway} dev ${dev} `)), routes.Evidence.join('\n'));
    assert.match(routes.Advice, new RegExp(`IPv4 default via ${gateway?.replace(/\./g, '\\.')} on ${dev}`));
  });

  it('lists a real FAT mount (fusefat) with the image file its driver serves', (t) => {
    if (!fat) {
      t.skip(fatSkip);
      return;
    }
    const r = selfTest(false);
    const m = r.Mounts.find((x) => x.MountPoint === fat?.dir);
    assert.ok(m, `the FAT mount ${fat.dir} is listed`);
    assert.equal(m.Type, 'fuse.fusefat');
    assert.equal(m.Removable, false, 'an image file is not removable media');
    assert.match(m.Note ?? '', /^FUSE \(fuse\.fusefat\) over the image file \/.*\/fat\.img, not removable media itself$/);
    assert.ok(byName(r, 'mounts').Evidence.some((e) => e.startsWith(`FUSE: fusefat on ${fat?.dir} `)));
  });
});
