/**
 * Start-up of the `keyroom` command, side by side in one run with bare Node (`node -e 0`):
 * `keyroom --help` (goal: within 100 ms of bare Node) and `ListKeys` on a small keystore (goal:
 * within 100 ms of bare Node plus the KDF, PBKDF2-HMAC-SHA512 with 256,000 iterations, measured
 * here in this process). Each command is the installed one (bin/keyroom running the bundle in
 * out/cli/, rebuilt first so the numbers are for the current sources), spawned with no shell; the
 * runs are interleaved so a busy moment of the machine falls on all of them alike, and the
 * median is reported. The development path (tsx compiling the sources, src-main/cli/bin.js) is
 * measured too, for comparison, and all three again in CPU time, which a busy machine hardly moves.
 *
 * Run alone: node --import tsx test/bench/startup.ts [runs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Session } from '../../src-main/services/session';
import { dispatch } from '../../src-main/handlers/dispatch';
import { KEYROOM_BIN } from '../support/keyroomCli';
import { median, round } from './measure';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASS = 'benchmark passphrase';
const GOAL_MS = 100;

/** Wall time of one run of `node args`, in ms; throws when the command fails. */
function spawnMs(args: readonly string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

/**
 * CPU time (user + system, all threads) of one run of `node args`, read by a preloaded hook at
 * exit: unlike wall time it hardly moves when other processes share the machine.
 */
function spawnCpuMs(hook: string, args: readonly string[]): number {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const m = /keyroom-bench-cpu (\d+(?:\.\d+)?)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return Number(m[1]);
}

export async function benchStartup(dir: string, runs = 15) {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'buildCli.js')], { stdio: 'inherit' });

  // A small keystore: three keys, made through the service (not measured).
  const keystore = join(dir, 'startup.db');
  const passFile = join(dir, 'startup.pass');
  writeFileSync(passFile, `${PASS}\n`, { mode: 0o600 });
  const session = new Session({ keystorePath: keystore });
  for (const [name, input] of [
    ['InitKeystore', { Passphrase: PASS }],
    ['CreateKey', { KeySpec: 'AES_256', KeyUsage: 'ENCRYPT/DECRYPT' }],
    ['CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' }],
    ['CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' }],
  ] as const) {
    const r = await dispatch(session, name, input);
    if (!r.ok) throw new Error(`${name}: ${r.error.Code} ${r.error.Message}`);
  }
  await session.lock();

  const kdfCpuMs = median(Array.from({ length: 5 }, () => {
    const c = process.cpuUsage();
    pbkdf2Sync(PASS, 'salt-of-16-bytes', 256_000, 64, 'sha512');
    const d = process.cpuUsage(c);
    return (d.user + d.system) / 1000;
  }));
  // The KDF alone, and the whole in-process unlock (KDF, SQLCipher open, schema check), each the median of 5.
  const kdfMs = median(Array.from({ length: 5 }, () => {
    const t = performance.now();
    pbkdf2Sync(PASS, 'salt-of-16-bytes', 256_000, 64, 'sha512');
    return performance.now() - t;
  }));
  const unlockRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await session.unlock(Buffer.from(PASS));
    unlockRuns.push(performance.now() - t);
    await session.lock();
  }
  await session.dispose();

  const commands = {
    bare: ['-e', '0'],
    help: [KEYROOM_BIN, '--help'],
    listKeys: [KEYROOM_BIN, '--keystore', keystore, '--passphrase-file', passFile, 'ListKeys'],
  } as const;
  const times: Record<keyof typeof commands, number[]> = { bare: [], help: [], listKeys: [] };
  for (const args of Object.values(commands)) spawnMs(args); // warm the page cache
  for (let i = 0; i < runs; i++) for (const [name, args] of Object.entries(commands)) times[name as keyof typeof commands].push(spawnMs(args));
  const hook = join(dir, 'cpuAtExit.mjs');
  writeFileSync(hook, "process.on('exit', () => { const c = process.cpuUsage(); process.stderr.write(`\\nkeyroom-bench-cpu ${(c.user + c.system) / 1000}\\n`); });\n");
  const cpu: Record<keyof typeof commands, number[]> = { bare: [], help: [], listKeys: [] };
  for (let i = 0; i < runs; i++) for (const [name, args] of Object.entries(commands)) cpu[name as keyof typeof commands].push(spawnCpuMs(hook, args));
  // The development path: few runs, it is slow.
  const tsxHelp = median(Array.from({ length: 3 }, () => spawnMs([join(ROOT, 'src-main', 'cli', 'bin.js'), '--help'])));

  const bare = median(times.bare);
  const help = median(times.help);
  const listKeys = median(times.listKeys);
  return {
    runs,
    nodeBareMs: round(bare, 1),
    help: { ms: round(help, 1), overBareMs: round(help - bare, 1), goal: `<= ${GOAL_MS} ms over bare Node`, met: help - bare <= GOAL_MS },
    kdf: { pbkdf2Sha512_256kMs: round(kdfMs, 1), keystoreUnlockInProcessMs: round(median(unlockRuns), 1) },
    listKeys: {
      ms: round(listKeys, 1),
      overBareAndKdfMs: round(listKeys - bare - kdfMs, 1),
      // SQLCipher's own KDF and open cost more than Node's PBKDF2: the same against the in-process unlock.
      overBareAndUnlockMs: round(listKeys - bare - median(unlockRuns), 1),
      goal: `<= ${GOAL_MS} ms over bare Node + KDF`,
      met: listKeys - bare - kdfMs <= GOAL_MS,
    },
    // The same three in CPU time (each with a small exit hook preloaded), for a busy machine, where
    // wall times grow with the load but CPU times do not.
    cpu: {
      nodeBareMs: round(median(cpu.bare), 1),
      helpOverBareMs: round(median(cpu.help) - median(cpu.bare), 1),
      pbkdf2Sha512_256kMs: round(kdfCpuMs, 1),
      listKeysOverBareAndKdfMs: round(median(cpu.listKeys) - median(cpu.bare) - kdfCpuMs, 1),
      helpGoalMet: median(cpu.help) - median(cpu.bare) <= GOAL_MS,
      listKeysGoalMet: median(cpu.listKeys) - median(cpu.bare) - kdfCpuMs <= GOAL_MS,
    },
    developmentTsxHelpMs: round(tsxHelp, 1),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-bench-startup-'));
  try {
    process.stdout.write(JSON.stringify(await benchStartup(dir, Number(process.argv[2] ?? 15)), null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
