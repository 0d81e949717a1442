/**
 * Software keys and signers for the format tests, behaving as Keyroom's backends do (see
 * src-main/formats/keySpec.ts Signer): RSA and EC sign a digest with Keyroom's own crypto
 * (RSASSA-PKCS1-v1_5 or PSS with SHA-256, ECDSA returning DER), Ed25519 signs the message with
 * Node's crypto (the ED25519 key spec arrives in a separate change).
 */
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { ecdsaSignDigest, type EcdsaCurve } from '../../src-main/crypto/ecdsa';
import { rsaSignDigest } from '../../src-main/crypto/rsa';
import { generateEcKeyPair } from '../../src-main/crypto/ecKeys';
import type { FormatKeySpec, Signer } from '../../src-main/formats/keySpec';

export interface TestKey {
  spec: FormatKeySpec;
  spki: Buffer;
  /** PKCS#1 v1.5 for RSA, DER ECDSA for EC, pure Ed25519. */
  sign: Signer;
  /** RSA only: PSS (SHA-256, MGF1-SHA-256, salt 32), as RSA_PSS_SHA_256 signs. */
  signPss?: Signer;
}

const CURVES: Readonly<Record<'EC_P256' | 'EC_P256K' | 'EC_P384', EcdsaCurve>> = { EC_P256: 'prime256v1', EC_P256K: 'secp256k1', EC_P384: 'secp384r1' };

export function ed25519TestKey(): TestKey & { privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    spec: 'ED25519',
    spki: publicKey.export({ format: 'der', type: 'spki' }),
    privateKey,
    sign: async (message) => nodeSign(null, message, privateKey),
  };
}

export function testKey(spec: FormatKeySpec): TestKey {
  if (spec === 'ED25519') return ed25519TestKey();
  if (spec === 'EC_P256' || spec === 'EC_P256K' || spec === 'EC_P384') {
    const curve = CURVES[spec];
    const { pkcs8, spki } = generateEcKeyPair(curve);
    return { spec, spki, sign: async (digest) => ecdsaSignDigest(curve, pkcs8, digest) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    spec,
    spki: publicKey.export({ format: 'der', type: 'spki' }),
    sign: async (digest) => rsaSignDigest(pkcs8, 'PKCS1', digest),
    signPss: async (digest) => rsaSignDigest(pkcs8, 'PSS', digest),
  };
}
