/**
 * Test-only preload (`node --import tsx --import <this>`): makes this process's node:crypto
 * refuse what Electron's BoringSSL lacks and Keyroom uses (SM3, SM4, the secp256k1 and SM2
 * curves), with errors like BoringSSL's, before any Keyroom module loads. Everything else stays
 * OpenSSL, so the child exercises exactly the fallbacks. Not a BoringSSL: a stand-in for its gaps.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type * as NodeCrypto from 'node:crypto';

const crypto = createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto;

const MISSING_CURVES = new Set(['secp256k1', 'sm2']);
const isMissingDigest = (name: string): boolean => /^(rsa-)?sm3$/i.test(name);
const isMissingCipher = (name: string): boolean => /^sm4/i.test(name);
const isMissingCurve = (name: string): boolean => MISSING_CURVES.has(name.toLowerCase());

/** OpenSSL 3 reads an SM2-curve PKCS#8 as an 'sm2' key, a type @types/node does not list. */
function refuseKey<K extends NodeCrypto.KeyObject>(key: K): K {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if ((key.asymmetricKeyType as string | undefined) === 'sm2' || (curve !== undefined && isMissingCurve(curve))) {
    throw new Error('error:0f00007b:elliptic curve routines:OPENSSL_internal:UNKNOWN_GROUP');
  }
  return key;
}

const { createHash, createHmac, createCipheriv, createDecipheriv, createECDH, generateKeyPairSync, createPrivateKey, createPublicKey } = crypto;
const { getHashes, getCiphers, getCurves } = crypto;

const patched = {
  createHash: (...args: Parameters<typeof createHash>) => {
    if (isMissingDigest(args[0])) throw new Error('Digest method not supported');
    return createHash(...args);
  },
  createHmac: (...args: Parameters<typeof createHmac>) => {
    if (isMissingDigest(args[0])) throw new Error('Invalid digest: sm3');
    return createHmac(...args);
  },
  createCipheriv: (...args: Parameters<typeof createCipheriv>) => {
    if (isMissingCipher(args[0])) throw new Error('Unknown cipher');
    return createCipheriv(...args);
  },
  createDecipheriv: (...args: Parameters<typeof createDecipheriv>) => {
    if (isMissingCipher(args[0])) throw new Error('Unknown cipher');
    return createDecipheriv(...args);
  },
  createECDH: (curve: string) => {
    if (isMissingCurve(curve)) throw new TypeError('Invalid EC curve name');
    return createECDH(curve);
  },
  generateKeyPairSync: ((type: string, options: { namedCurve?: string }) => {
    if (type === 'ec' && options.namedCurve !== undefined && isMissingCurve(options.namedCurve)) {
      throw new TypeError('Invalid EC curve name');
    }
    return (generateKeyPairSync as (t: string, o: object) => unknown)(type, options);
  }) as typeof generateKeyPairSync,
  createPrivateKey: (key: Parameters<typeof createPrivateKey>[0]) => refuseKey(createPrivateKey(key)),
  createPublicKey: (key: Parameters<typeof createPublicKey>[0]) => refuseKey(createPublicKey(key)),
  getHashes: () => getHashes().filter((h) => !isMissingDigest(h)),
  getCiphers: () => getCiphers().filter((c) => !isMissingCipher(c)),
  getCurves: () => getCurves().filter((c) => !isMissingCurve(c)),
};
Object.assign(crypto, patched);
syncBuiltinESMExports();
