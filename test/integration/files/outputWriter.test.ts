/**
 * The output writer itself (src-main/files/outputWriter.ts), on real file systems: never over a
 * file, even one that appears between plan and publish; a file that reads back different is
 * refused and removed; stale temporaries of dead writers removed and reported, live ones left;
 * unsafe folders refused (with another uid, `nobody`, as the other local user); and each Io.* code
 * from the condition that causes it (read-only mount, full tmpfs, a folder a non-root user cannot
 * write to).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KmsError } from '../../../src-shared/errors';
import { discardOutputs, planOutputs, publishOutputs, stageOutputs } from '../../../src-main/files/outputWriter';
import { outputError } from '../../../src-main/files/outputErrors';
import { isRoot, mountExfat, mountFat32, mountTmpfs, TEMPORARY, type MountResult } from '../../support/mounts';
import { openHarness, type Harness } from '../../support/kmsHarness';

const ROOT = resolve(import.meta.dirname, '../../..');
const NOBODY = 65534;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<KmsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KmsError, `a KmsError, not ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const temporaries = (dir: string) => readdirSync(dir).filter((n) => TEMPORARY.test(n));

/** A pid that surely belongs to no process any more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const MEDIA: { name: string; mount(): MountResult }[] = [
  {
    name: 'the default disk (link)',
    mount: () => {
      const dir = mkdtempSync(join(tmpdir(), 'keyroom-writer-'));
      return { dir, unmount: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  { name: 'FAT32 (no hard links: placeholder, then rename)', mount: () => mountFat32(40) },
];

for (const medium of MEDIA) {
  const probe = medium.mount();
  const skip = 'skip' in probe ? probe.skip : false;
  if (!('skip' in probe)) probe.unmount();

  describe(`the output writer on ${medium.name}`, { skip }, () => {
    let m: Exclude<MountResult, { skip: string }>;
    let n = 0;
    const folder = () => {
      const d = join(m.dir, `case${++n}`);
      mkdirSync(d, { mode: 0o700 });
      return d;
    };
    before(() => {
      const r = medium.mount();
      assert.ok(!('skip' in r));
      m = r;
    });
    after(() => m?.unmount());

    it('writes several files; the hash it reports is the file\'s', async () => {
      const d = folder();
      const plan = await planOutputs([join(d, 'a.sig'), join(d, 'b.sig')], 'req-1');
      const staged = await stageOutputs(plan, [
        { path: join(d, 'a.sig'), content: 'first\n' },
        { path: join(d, 'b.sig'), content: Buffer.from([0, 1, 2]) },
      ]);
      assert.deepEqual(readdirSync(d).filter((x) => !TEMPORARY.test(x)), [], 'nothing under a final name before publish');
      const published = await publishOutputs(staged);
      assert.equal(readFileSync(join(d, 'a.sig'), 'utf8'), 'first\n');
      assert.deepEqual(readFileSync(join(d, 'b.sig')), Buffer.from([0, 1, 2]));
      assert.deepEqual(published.map((p) => p.sha256), staged.files.map((f) => f.sha256));
      assert.deepEqual(temporaries(d), []);
    });

    it('checks every name before anything is written', async () => {
      const d = folder();
      writeFileSync(join(d, 'b.sig'), 'theirs');
      await rejectsWith(planOutputs([join(d, 'a.sig'), join(d, 'b.sig')], 'req-2'), 'AlreadyExists.File');
      assert.deepEqual(readdirSync(d), ['b.sig']);
    });

    it('never overwrites a name taken between plan and publish, and takes back what it had put in place', async () => {
      const d = folder();
      const plan = await planOutputs([join(d, 'a.sig'), join(d, 'b.sig')], 'req-3');
      const staged = await stageOutputs(plan, [
        { path: join(d, 'a.sig'), content: 'mine a' },
        { path: join(d, 'b.sig'), content: 'mine b' },
      ]);
      writeFileSync(join(d, 'b.sig'), 'theirs, arrived meanwhile');
      await rejectsWith(publishOutputs(staged), 'AlreadyExists.File');
      assert.equal(readFileSync(join(d, 'b.sig'), 'utf8'), 'theirs, arrived meanwhile');
      assert.deepEqual(readdirSync(d), ['b.sig'], 'a.sig taken back (all or nothing), no temporary left');
    });

    it('refuses a file that reads back different from what was staged, and removes it', async () => {
      const d = folder();
      const plan = await planOutputs([join(d, 'wrapped.bin')], 'req-4');
      const staged = await stageOutputs(plan, [{ path: join(d, 'wrapped.bin'), content: 'the bytes recorded' }]);
      // Changed after its hash was taken (and recorded): a failing medium, or another writer.
      // (Overwritten in place: fusefat refuses O_APPEND.)
      writeFileSync(staged.files[0]!.temp, 'THE BYTES RECORDED', { flag: 'r+' });
      const e = await rejectsWith(publishOutputs(staged), 'Io.Failed');
      assert.match(e.message, /read back different/);
      assert.deepEqual(readdirSync(d), []);
    });

    it('discards what it staged when the record fails', async () => {
      const d = folder();
      const plan = await planOutputs([join(d, 'x.pem')], 'req-5');
      const staged = await stageOutputs(plan, [{ path: join(d, 'x.pem'), content: 'pem' }]);
      assert.equal(temporaries(d).length, 1);
      await discardOutputs(staged);
      assert.deepEqual(readdirSync(d), []);
    });

    it('removes a dead writer\'s temporaries and says so; leaves a live writer\'s, and an empty file it cannot prove is its own', async () => {
      const d = folder();
      const dead = join(d, `.keyroom-${deadPid()}.0f6c2d1e-5d7b-4c4e-9a51-1d2f3a4b5c6d.old.sig.partial`);
      writeFileSync(dead, 'half a signature');
      writeFileSync(`${dead}-journal`, 'journal');
      const sleeper = spawn('sleep', ['30']);
      const live = join(d, `.keyroom-${sleeper.pid}.11111111-2222-4333-8444-555555555555.busy.sig.partial`);
      writeFileSync(live, 'being written');
      const orphanPlaceholder = join(d, 'maybe.sig');
      writeFileSync(orphanPlaceholder, '');
      const complete = join(d, `.keyroom-${deadPid()}.22222222-2222-4333-8444-555555555555.maybe.sig.partial`);
      writeFileSync(complete, 'complete');
      try {
        const plan = await planOutputs([join(d, 'new.sig')], 'req-6');
        assert.deepEqual([...plan.removedStaleFiles].sort(), [dead, `${dead}-journal`, complete].sort());
        assert.equal(plan.warnings.length, 1);
        assert.match(plan.warnings[0]!, /maybe\.sig is empty/);
        assert.deepEqual(readdirSync(d).sort(), [live.split('/').pop()!, 'maybe.sig'].sort());
      } finally {
        sleeper.kill();
      }
    });
  });
}

describe('unsafe folders', { skip: isRoot() ? false : 'needs root to act as another user (nobody)' }, () => {
  let base: string;
  const child = (path: string, content: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/writerChild.ts'), path, content], {
      cwd: ROOT,
      uid: NOBODY,
      gid: NOBODY,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { ok: boolean; code?: string; message?: string };
  };
  const dirWith = (name: string, mode: number, uid = 0, gid = 0) => {
    const d = join(base, name);
    mkdirSync(d);
    chownSync(d, uid, gid);
    chmodSync(d, mode);
    return d;
  };

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'keyroom-unsafe-'));
    chmodSync(base, 0o755);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('the threat is real: in a 0777 folder another user replaces an output; the sticky bit stops them', () => {
    for (const [mode, replaced] of [
      [0o777, true],
      [0o1777, false],
    ] as const) {
      const d = dirWith(`threat-${mode.toString(8)}`, mode);
      writeFileSync(join(d, 'wrapped.bin'), 'keyroom wrote this');
      writeFileSync(join(d, 'evil.bin'), 'attacker');
      chownSync(join(d, 'evil.bin'), NOBODY, NOBODY);
      const mv = spawnSync('mv', ['-f', join(d, 'evil.bin'), join(d, 'wrapped.bin')], { uid: NOBODY, gid: NOBODY });
      assert.equal(mv.status === 0, replaced, `mode ${mode.toString(8)}`);
      assert.equal(readFileSync(join(d, 'wrapped.bin'), 'utf8'), replaced ? 'attacker' : 'keyroom wrote this');
    }
  });

  it('another uid writing into a 0777 folder: Rejected.UnsafeFolder, naming the folder and the fix, before anything is written', () => {
    const d = dirWith('open', 0o777);
    const r = child(join(d, 'out.pem'), 'pem');
    assert.equal(r.ok, false);
    assert.equal(r.code, 'Rejected.UnsafeFolder');
    assert.ok(r.message!.includes(d));
    assert.match(r.message!, /chmod o-w|chmod \+t/);
    assert.deepEqual(readdirSync(d), []);
  });

  it('the same user writing into a 1777 folder is accepted', () => {
    const d = dirWith('sticky', 0o1777);
    const r = child(join(d, 'out.pem'), 'pem');
    assert.equal(r.ok, true, r.message);
    assert.equal(readFileSync(join(d, 'out.pem'), 'utf8'), 'pem');
  });

  it('as root: 0777 and a foreign group\'s 0775 are refused; another user\'s own folder is refused; 1777, 0755 and root\'s group are accepted', async () => {
    await rejectsWith(planOutputs([join(dirWith('r-open', 0o777), 'x')], 'r1'), 'Rejected.UnsafeFolder');
    await rejectsWith(planOutputs([join(dirWith('r-group', 0o775, 0, NOBODY), 'x')], 'r2'), 'Rejected.UnsafeFolder');
    const theirs = await rejectsWith(planOutputs([join(dirWith('r-theirs', 0o755, NOBODY, NOBODY), 'x')], 'r3'), 'Rejected.UnsafeFolder');
    assert.match(theirs.message, /another user \(uid 65534\)/);
    for (const [name, mode] of [
      ['r-sticky', 0o1777],
      ['r-private', 0o755],
      ['r-rootgroup', 0o775],
    ] as const) {
      await planOutputs([join(dirWith(name, mode), 'x')], `ok-${name}`);
    }
  });

  it('an exFAT mount that every user may write to (exfat-fuse\'s default umask 0) is refused by the mount\'s mode', async (t) => {
    const r = mountExfat(32, 'umask=0');
    if ('skip' in r) return t.skip(r.skip);
    try {
      const e = await rejectsWith(planOutputs([join(r.dir, 'x.sig')], 'ex1'), 'Rejected.UnsafeFolder');
      assert.ok(e.message.includes(r.dir));
      assert.deepEqual(readdirSync(r.dir), []);
    } finally {
      r.unmount();
    }
  });
});

describe('file-system errors, each from its real condition', { skip: isRoot() ? false : 'needs root to mount tmpfs and act as nobody' }, () => {
  let h: Harness;
  let keyId: string;
  let versionId: string;
  before(async () => {
    h = await openHarness();
    keyId = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
    versionId = (await h.call('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0]!.KeyVersionId;
  });
  after(() => h?.close());

  it('Io.ReadOnly: a read-only mount, named in the message; the keystore records nothing', async () => {
    const r = mountTmpfs('size=1m,mode=0700,ro');
    assert.ok(!('skip' in r), 'skip' in r ? r.skip : '');
    try {
      const e = await h.refuse('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: join(r.dir, 'k.pem') }, 'Io.ReadOnly');
      assert.ok(e.Message.includes(join(r.dir, 'k.pem')) || e.Message.includes(r.dir));
    } finally {
      r.unmount();
    }
  });

  it('Io.DiskFull: a full output disk; nothing left there and nothing recorded', async () => {
    const r = mountTmpfs('size=256k,mode=0700');
    assert.ok(!('skip' in r), 'skip' in r ? r.skip : '');
    try {
      spawnSync('dd', ['if=/dev/zero', `of=${join(r.dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
      await h.refuse('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: join(r.dir, 'k.pem') }, 'Io.DiskFull');
      await h.refuse('BackupKeystore', { OutputFile: join(r.dir, 'backup.db') }, 'Io.DiskFull');
      assert.deepEqual(readdirSync(r.dir), ['filler']);
      // Room for a public key, not for the keystore: the backup fails inside VACUUM INTO.
      rmSync(join(r.dir, 'filler'));
      spawnSync('dd', ['if=/dev/zero', `of=${join(r.dir, 'filler')}`, 'bs=4k', 'count=50'], { stdio: 'ignore' });
      const e = await h.refuse('BackupKeystore', { OutputFile: join(r.dir, 'backup.db') }, 'Io.DiskFull');
      assert.ok(e.Message.includes(r.dir));
      assert.deepEqual(readdirSync(r.dir), ['filler']);
    } finally {
      r.unmount();
    }
  });

  it('Io.PermissionDenied: a non-root user writing into a folder it may not write to', () => {
    const base = mkdtempSync(join(tmpdir(), 'keyroom-perm-'));
    try {
      chmodSync(base, 0o755);
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/writerChild.ts'), join(base, 'out.pem'), 'pem'], {
        cwd: ROOT,
        uid: NOBODY,
        gid: NOBODY,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { ok: boolean; code: string; message: string };
      assert.equal(out.code, 'Io.PermissionDenied');
      assert.ok(out.message.includes(base));
      assert.deepEqual(readdirSync(base), []);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('the errno table: every code names the path; nothing maps to Internal or Keystore.Io', () => {
    // Io.NotSupported has no condition this machine can produce on demand (a file system without
    // O_EXCL or fsync); its mapping is checked here with the rest of the table.
    const table: [string, string][] = [
      ['ENOSPC', 'Io.DiskFull'],
      ['EDQUOT', 'Io.DiskFull'],
      ['EROFS', 'Io.ReadOnly'],
      ['EACCES', 'Io.PermissionDenied'],
      ['EPERM', 'Io.PermissionDenied'],
      ['EOPNOTSUPP', 'Io.NotSupported'],
      ['ENOTSUP', 'Io.NotSupported'],
      ['ENOSYS', 'Io.NotSupported'],
      ['EIO', 'Io.Failed'],
      ['EEXIST', 'AlreadyExists.File'],
      ['ENOENT', 'InvalidParameter.OutputFile'],
    ];
    for (const [errno, code] of table) {
      const e = outputError(Object.assign(new Error(errno), { code: errno }), '/media/stick/out.sig');
      assert.equal(e.code, code, errno);
      assert.ok(e.message.includes('/media/stick/out.sig'), errno);
    }
  });
});
