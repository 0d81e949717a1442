/** `openssl speed` as the reference: sign and verify operations per second, parsed from -mr output. */
import { spawnSync } from 'node:child_process';

export interface Speed {
  signPerSec: number;
  verifyPerSec: number;
}

/** Algorithms by `openssl speed` name, e.g. rsa2048, ecdsap256, ecdsap384, sm2. */
export function opensslSpeed(algorithm: string, seconds: number): Speed | undefined {
  const r = spawnSync('openssl', ['speed', '-mr', '-seconds', String(seconds), algorithm], { encoding: 'utf8' });
  // +F2:<i>:<bits>:<sign/s>:<verify/s> (RSA), +F4 (ECDSA), +F7:<i>:<bits>:<curve>:<sign/s>:<verify/s> (SM2)
  for (const line of `${r.stdout}`.split('\n')) {
    const f = line.split(':');
    if (f[0] === '+F2' || f[0] === '+F4') return { signPerSec: Number(f[3]), verifyPerSec: Number(f[4]) };
    if (f[0] === '+F7') return { signPerSec: Number(f[4]), verifyPerSec: Number(f[5]) };
  }
  return undefined;
}
