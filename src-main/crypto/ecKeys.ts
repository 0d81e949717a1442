/**
 * EC key pair generation for the software backend, as PKCS#8 and SPKI DER. Node's crypto
 * (OpenSSL) generates wherever it has the curve; otherwise @noble/curves (and ./sm2 for SM2)
 * draw the scalar and ./keyEncoding writes the same DER OpenSSL would. Electron's Node is built
 * on BoringSSL, which has P-256 and P-384 but neither secp256k1 nor SM2. The provider is chosen
 * once per curve, on first use, by generating and exporting one throwaway key natively (not at
 * load: four trial key generations would slow every start of the command line, most of which
 * make no EC key).
 */
import { generateKeyPairSync } from 'node:crypto';
import { NOBLE_CURVES } from './ecdsa';
import { ecPkcs8FromScalar, ecSpkiFromPoint, type EcCurve } from './keyEncoding';
import { sm2GeneratePrivateKey, sm2PublicKeyFromPrivate } from './sm2';
import { wipe } from './wipe';

export type EcKeygenProvider = 'openssl' | 'noble';

export interface EcKeyPairDer {
  /** PKCS#8 PrivateKeyInfo; secret, the caller zeroes it. */
  pkcs8: Buffer;
  spki: Buffer;
}

function nativeGenerate(curve: EcCurve): EcKeyPairDer {
  const pair = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    pkcs8: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    spki: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

function nativeKeygenWorks(curve: EcCurve): boolean {
  try {
    wipe(nativeGenerate(curve).pkcs8);
    return true;
  } catch {
    return false; // BoringSSL: "Invalid EC curve name" / UNKNOWN_GROUP
  }
}

/** Each curve's provider as an enumerable getter that probes once, on first read. */
function probedOnFirstRead(curves: readonly EcCurve[]): Readonly<Record<EcCurve, EcKeygenProvider>> {
  const providers = {} as Record<EcCurve, EcKeygenProvider>;
  for (const curve of curves) {
    let found: EcKeygenProvider | undefined;
    Object.defineProperty(providers, curve, { enumerable: true, get: () => (found ??= nativeKeygenWorks(curve) ? 'openssl' : 'noble') });
  }
  return Object.freeze(providers);
}

/** The key generation provider for each curve in this process. */
export const EC_KEYGEN_PROVIDERS: Readonly<Record<EcCurve, EcKeygenProvider>> = probedOnFirstRead(['prime256v1', 'secp256k1', 'secp384r1', 'SM2']);

/** `provider` is for tests that compare the providers; callers leave it out. */
export function generateEcKeyPair(curve: EcCurve, provider: EcKeygenProvider = EC_KEYGEN_PROVIDERS[curve]): EcKeyPairDer {
  if (provider === 'openssl') return nativeGenerate(curve);
  let d: Uint8Array;
  let point: Uint8Array;
  if (curve === 'SM2') {
    d = sm2GeneratePrivateKey(); // [1, n-2], which SM2 signing needs; noble's range is [1, n-1]
    point = sm2PublicKeyFromPrivate(d);
  } else {
    const { impl } = NOBLE_CURVES[curve];
    d = impl.utils.randomSecretKey(); // uniform in [1, n-1], curve-size big-endian bytes
    point = impl.getPublicKey(d, false);
  }
  try {
    return { pkcs8: ecPkcs8FromScalar(curve, d, point), spki: ecSpkiFromPoint(curve, point) };
  } finally {
    wipe(d);
  }
}
