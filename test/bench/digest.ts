/**
 * DigestFile (the signing wizard's first step) against `openssl dgst` on the same file, one after
 * the other in this run: MB/s each and the ratio (Keyroom / OpenSSL; 1 = as fast). The file is
 * 256 MiB of random bytes in a temp dir, read once first so both read it from the page cache.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { digestFile } from '../../src-main/services/files/digestFile';
import { UNCONTROLLED } from '../../src-main/services/operationControl';
import { round } from './measure';

const MIB = 1024 * 1024;

export async function benchDigestFile(dir: string, sizeMiB = 256) {
  const file = join(dir, 'artifact.bin');
  const fd = openSync(file, 'w', 0o600);
  const chunk = randomBytes(MIB);
  for (let i = 0; i < sizeMiB; i++) writeSync(fd, chunk);
  closeSync(fd);
  readFileSync(file); // into the page cache, so neither side pays the disk
  const out: Record<string, { keyroomMBps: number; opensslMBps: number; ratio: number }> = {};
  for (const [algorithm, openssl] of [['SHA_256', '-sha256'], ['SHA_384', '-sha384'], ['SM3', '-sm3']] as const) {
    let t = performance.now();
    await digestFile({ InputFile: file, Algorithm: algorithm }, UNCONTROLLED);
    const keyroomS = (performance.now() - t) / 1000;
    t = performance.now();
    execFileSync('openssl', ['dgst', openssl, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const opensslS = (performance.now() - t) / 1000;
    const mb = (sizeMiB * MIB) / 1e6;
    out[algorithm] = { keyroomMBps: round(mb / keyroomS, 0), opensslMBps: round(mb / opensslS, 0), ratio: round(opensslS / keyroomS, 2) };
  }
  return out;
}
