/**
 * SignFile on a large file (1 GiB by default), side by side in this run:
 * - digest throughput: SignFile (streamed hashing, progress, the signature and its audit entry)
 *   against `openssl dgst` on the same file, OpenSSL's process start-up subtracted (timed on an
 *   empty file); SHA-256 (ECDSA P-256) and SM3 (SM2DSA). Goal: at least 0.95 of OpenSSL.
 * - peak memory of a process that signs: a child signs a 64 MiB and then a 1 GiB file and reports
 *   its maxRSS, so flat means the same figure for both (and a child that does all but SignFile
 *   gives the baseline of Node, tsx and SQLCipher). Goal: under 150 MiB for any size.
 * The file is read once first so both sides read it from the page cache.
 *
 * Run alone: node --import tsx test/bench/signFile.ts [sizeMiB]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Session } from '../../src-main/services/session';
import { dispatch } from '../../src-main/handlers/dispatch';
import { round } from './measure';

const MIB = 1024 * 1024;
const PASS = 'benchmark passphrase';

function makeFile(path: string, sizeMiB: number): void {
  const fd = openSync(path, 'w', 0o600);
  const chunk = randomBytes(MIB);
  for (let i = 0; i < sizeMiB; i++) writeSync(fd, chunk);
  closeSync(fd);
}

async function call(session: Session, name: Parameters<typeof dispatch>[1], input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await dispatch(session, name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.Code} ${r.error.Message}`);
  return r.value as Record<string, unknown>;
}

/** Sign `file` once with a fresh keystore and key; the process's peak RSS in MiB afterwards. */
async function signOnce(dir: string, file: string, spec: 'EC_P256' | 'EC_SM2'): Promise<{ seconds: number }> {
  const session = new Session({ keystorePath: join(dir, `${spec}-${Math.random().toString(36).slice(2)}.db`) });
  await call(session, 'InitKeystore', { Passphrase: PASS });
  const key = (await call(session, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' })) as { KeyMetadata: { KeyId: string } };
  const out = mkdtempSync(join(dir, 'sigs-'));
  const t = performance.now();
  await call(session, 'SignFile', { KeyId: key.KeyMetadata.KeyId, Algorithm: spec === 'EC_SM2' ? 'SM2DSA' : 'ECDSA_SHA_256', File: file, OutputDir: out });
  const seconds = (performance.now() - t) / 1000;
  await session.lock();
  return { seconds };
}

function opensslSeconds(flag: string, file: string, empty: string): number {
  const time = (f: string) => {
    const t = performance.now();
    execFileSync('openssl', ['dgst', flag, f], { stdio: ['ignore', 'pipe', 'inherit'] });
    return (performance.now() - t) / 1000;
  };
  const startUp = Math.min(time(empty), time(empty), time(empty));
  return time(file) - startUp;
}

function childPeakMiB(dir: string, file: string, mode = '--child'): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), mode, dir, file], { encoding: 'utf8' });
  return Number(out.trim());
}

export async function benchSignFile(dir: string, sizeMiB = 1024) {
  const file = join(dir, 'release.bin');
  const small = join(dir, 'small.bin');
  const empty = join(dir, 'empty.bin');
  makeFile(file, sizeMiB);
  makeFile(small, 64);
  writeFileSync(empty, '');
  readFileSync(small);
  const throughput: Record<string, unknown> = {};
  for (const [name, spec, flag] of [['SHA_256', 'EC_P256', '-sha256'], ['SM3', 'EC_SM2', '-sm3']] as const) {
    execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] }); // into the page cache
    // Alternating rounds, best of each: load on the machine then hits both sides alike.
    let keyroomS = Infinity;
    let opensslS = Infinity;
    for (let round = 0; round < 2; round++) {
      keyroomS = Math.min(keyroomS, (await signOnce(dir, file, spec)).seconds);
      opensslS = Math.min(opensslS, opensslSeconds(flag, file, empty));
    }
    const mb = (sizeMiB * MIB) / 1e6;
    throughput[name] = { signFileMBps: round(mb / keyroomS, 0), opensslDgstMBps: round(mb / opensslS, 0), ratio: round(opensslS / keyroomS, 2) };
  }
  // The baseline child does everything but SignFile (Node, tsx, SQLCipher, a keystore and a key).
  const peak = { baselineNoSigning: childPeakMiB(dir, empty, '--baseline'), file64MiB: childPeakMiB(dir, small), [`file${sizeMiB}MiB`]: childPeakMiB(dir, file) };
  return { sizeMiB, throughput, peakRssMiB: peak };
}

if (process.argv[2] === '--child' || process.argv[2] === '--baseline') {
  // Runs in its own process so its peak RSS is the signing's alone.
  const [dir, file] = process.argv.slice(3) as [string, string];
  if (process.argv[2] === '--child') await signOnce(dir, file, 'EC_P256');
  else {
    const session = new Session({ keystorePath: join(dir, `baseline-${Math.random().toString(36).slice(2)}.db`) });
    await call(session, 'InitKeystore', { Passphrase: PASS });
    await call(session, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    await session.lock();
  }
  process.stdout.write(`${round(process.resourceUsage().maxRSS / 1024, 0)}\n`);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-bench-sign-'));
  mkdirSync(dir, { recursive: true });
  try {
    process.stdout.write(`${JSON.stringify(await benchSignFile(dir, Number(process.argv[2] ?? 1024)), null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
