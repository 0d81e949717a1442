/**
 * SM2 signature throughput: this backend (in-process, one thread) against `openssl speed sm2`
 * (OpenSSL's C, one thread) and sm-crypto (pure-JS bigint SM2) on the same machine.
 * The requirement this feeds: signPerSec >= 0.5 x openssl's sign/s.
 *
 * Other work on the machine moves both numbers by +-30% from one second to the next, so ours and
 * openssl's are measured in alternating rounds and each side reports its best round: load then
 * hits both sides alike instead of whichever happened to run during a busy moment.
 *
 * Run alone: node --import tsx test/bench/sm2.ts [seconds]
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ratePerSecond } from './measure';
import { opensslSpeed } from './opensslSpeed';
import {
  _SM2_TABLE_FROM_USE,
  sm2MessageDigest,
  sm2PublicKeyFromPrivate,
  sm2SignDigest,
  sm2VerifyDigest,
} from '../../src-main/crypto/sm2';

export interface Sm2BenchResult {
  signPerSec: number;
  verifyPerSec: number;
  opensslSignPerSec: number;
  opensslVerifyPerSec: number;
  signRatio: number;
  verifyRatio: number;
  smCryptoSignPerSec: number;
}

interface SmCryptoSm2 {
  doSignature(msg: number[], privateKeyHex: string, options: { der: true }): string;
}

const ROUNDS = 2;

export async function benchSm2(seconds = 2): Promise<Sm2BenchResult> {
  const d = privateKey();
  const pub = sm2PublicKeyFromPrivate(d);
  const e = sm2MessageDigest(pub, Buffer.from('keyroom sm2 benchmark'));
  const sig = sm2SignDigest(d, e);
  // Warm-up: builds the fixed-base table, gives this key its own table (from its
  // _SM2_TABLE_FROM_USE-th use) and lets V8 optimise: the steady state of a KMS serving requests.
  for (let i = 0; i < 2 * _SM2_TABLE_FROM_USE; i++) {
    sm2SignDigest(d, e);
    if (!sm2VerifyDigest(pub, e, sig)) throw new Error('benchSm2: own signature does not verify');
  }

  const perRound = seconds / ROUNDS;
  let signPerSec = 0;
  let verifyPerSec = 0;
  let opensslSignPerSec = 0;
  let opensslVerifyPerSec = 0;
  for (let round = 0; round < ROUNDS; round++) {
    signPerSec = Math.max(signPerSec, ratePerSecond(perRound, () => sm2SignDigest(d, e)));
    verifyPerSec = Math.max(verifyPerSec, ratePerSecond(perRound, () => sm2VerifyDigest(pub, e, sig)));
    const openssl = opensslSpeed('sm2', Math.max(1, Math.round(perRound)));
    if (!openssl) throw new Error('benchSm2: openssl speed sm2 printed no result');
    opensslSignPerSec = Math.max(opensslSignPerSec, openssl.signPerSec);
    opensslVerifyPerSec = Math.max(opensslVerifyPerSec, openssl.verifyPerSec);
  }
  const smCryptoSignPerSec = smCryptoRate(Math.min(seconds, 1), d, e);

  return {
    signPerSec,
    verifyPerSec,
    opensslSignPerSec,
    opensslVerifyPerSec,
    signRatio: signPerSec / opensslSignPerSec,
    verifyRatio: verifyPerSec / opensslVerifyPerSec,
    smCryptoSignPerSec,
  };
}

function smCryptoRate(seconds: number, d: Uint8Array, e: Uint8Array): number {
  const smCrypto = createRequire(import.meta.url)('sm-crypto') as { sm2: SmCryptoSm2 };
  const privateHex = Buffer.from(d).toString('hex');
  const digest = Array.from(e);
  // Same work as sm2SignDigest: sign a ready digest (no Z_A hashing), DER output.
  return ratePerSecond(seconds, () => smCrypto.sm2.doSignature(digest, privateHex, { der: true }));
}

function privateKey(): Uint8Array {
  // Any 32 random bytes below n - 1 (n starts 0xfffffffe...) is a valid key; 0x7f.. certainly is.
  const d = randomBytes(32);
  d[0] = (d[0] ?? 0) & 0x7f;
  d[31] = (d[31] ?? 0) | 1;
  return d;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 2);
  benchSm2(seconds).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
