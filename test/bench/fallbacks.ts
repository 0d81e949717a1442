/**
 * What the BoringSSL fallbacks (Electron's main process) cost beside OpenSSL (plain Node): each
 * pair measured in the same run, as ratios fallback / OpenSSL (below 1 = slower).
 *
 * Run alone: node --import tsx test/bench/fallbacks.ts [seconds]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ratePerSecond, round } from './measure';
import { createSm3, type Sm3Provider } from '../../src-main/crypto/sm3';
import { sm4GcmEncrypt } from '../../src-main/crypto/sm4gcm';
import type { Sm4Provider } from '../../src-main/crypto/sm4';
import { eciesDecrypt, eciesEncrypt, type EcdhProvider } from '../../src-main/crypto/ecies';
import { ecPointFromSpki, ecScalarFromPkcs8 } from '../../src-main/crypto/keyEncoding';

function pair(seconds: number, op: (fallback: boolean) => () => unknown, bytes?: number) {
  const native = ratePerSecond(seconds, op(false));
  const fallback = ratePerSecond(seconds, op(true));
  const perSec = (rate: number) => (bytes ? { mbPerSec: round((rate * bytes) / 2 ** 20, 1) } : { opsPerSec: round(rate, 0) });
  return { openssl: perSec(native), fallback: perSec(fallback), ratio: round(fallback / native) };
}

export function benchFallbacks(seconds: number) {
  const mib = randomBytes(2 ** 20);
  const key = randomBytes(16);
  const iv = randomBytes(12);
  const kib4 = randomBytes(4096);
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const d = ecScalarFromPkcs8(k1.privateKey.export({ format: 'der', type: 'pkcs8' }), 32);
  const point = ecPointFromSpki(k1.publicKey.export({ format: 'der', type: 'spki' }));
  const sm3p = (f: boolean): Sm3Provider => (f ? 'js' : 'openssl');
  const sm4p = (f: boolean): Sm4Provider => (f ? 'js' : 'openssl');
  const ecdhp = (f: boolean): EcdhProvider => (f ? 'noble' : 'openssl');
  const ciphertext = eciesEncrypt('secp256k1', point, kib4.subarray(0, 32));
  return {
    sm3_1MiB: pair(seconds, (f) => () => createSm3(sm3p(f)).update(mib).digest(), mib.length),
    sm4Gcm_4KiB: pair(seconds, (f) => () => sm4GcmEncrypt(key, iv, kib4, kib4.subarray(0, 32), sm4p(f)), kib4.length),
    eciesSecp256k1Encrypt: pair(seconds, (f) => () => eciesEncrypt('secp256k1', point, kib4.subarray(0, 32), ecdhp(f))),
    eciesSecp256k1Decrypt: pair(seconds, (f) => () => eciesDecrypt('secp256k1', d, ciphertext, ecdhp(f))),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(JSON.stringify(benchFallbacks(Number(process.argv[2] ?? 1)), null, 2) + '\n');
}
