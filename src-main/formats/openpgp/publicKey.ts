/**
 * The v4 Public-Key packet body (RFC 4880 §5.5.2): 0x04 || be32(created) || algorithm || key
 * material. Key material per algorithm:
 * - RSA (1): MPI(n) || MPI(e) (RFC 4880 §5.5.2);
 * - ECDSA (19): len || curve OID without DER tag and length || MPI(04||X||Y) (RFC 6637 §9, §11);
 * - EdDSA legacy (22): OID 1.3.6.1.4.1.11591.15.1 || MPI(0x40 || A) (RFC 9580 §5.5.5.5, §11.2.2;
 *   draft-koch-eddsa-for-openpgp). v4 with algorithm 22, not RFC 9580's algorithm 27, because
 *   gpg 2.2 and sqv 1.1 read only the former (reference note §1).
 * secp256k1 has no RFC code point; its OID is the one GnuPG and openpgp.js use. sqv 1.1 refuses
 * it (reference note §1, VERIFIED-LOCAL); gpg and gpgv accept it.
 */
import { KmsError } from '../../../src-shared/errors';
import type { FormatKeySpec } from '../keySpec';
import { publicKeyNumbers } from '../publicKey';
import { be32, mpi } from './packets';

export const PUBLIC_KEY_ALGORITHM = { rsa: 1, ecdsa: 19, eddsaLegacy: 22 } as const;
export type PublicKeyAlgorithm = (typeof PUBLIC_KEY_ALGORITHM)[keyof typeof PUBLIC_KEY_ALGORITHM];

/** Curve OIDs as OpenPGP writes them: the DER contents only (RFC 6637 §11; RFC 9580 §9.2). */
const CURVE_OID = {
  'P-256': '2a8648ce3d030107',
  'P-384': '2b81040022',
  secp256k1: '2b8104000a',
  Ed25519Legacy: '2b06010401da470f01',
} as const;

export function publicKeyAlgorithmFor(spec: FormatKeySpec): PublicKeyAlgorithm {
  if (spec === 'ED25519') return PUBLIC_KEY_ALGORITHM.eddsaLegacy;
  return spec.startsWith('RSA_') ? PUBLIC_KEY_ALGORITHM.rsa : PUBLIC_KEY_ALGORITHM.ecdsa;
}

function oidField(hex: string): Buffer {
  const oid = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from([oid.length]), oid]);
}

/** OpenPGP v4 times are unsigned 32-bit seconds since the epoch (RFC 4880 §3.5). */
export function openPgpTime(when: Date): number {
  const seconds = Math.floor(when.getTime() / 1000);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 0xffffffff) {
    throw new KmsError('InvalidParameter', `The time ${when.toISOString()} cannot be written in OpenPGP (1970 to 2106).`);
  }
  return seconds;
}

export interface OpenPgpPublicKey {
  spki: Buffer;
  keySpec: FormatKeySpec;
  /** The key version's creation time: the fingerprint depends on it (reference note §1 pitfalls). */
  created: Date;
}

export function publicKeyBody(key: OpenPgpPublicKey): Buffer {
  const numbers = publicKeyNumbers(key.spki, key.keySpec);
  const head = Buffer.concat([Buffer.from([0x04]), be32(openPgpTime(key.created)), Buffer.from([publicKeyAlgorithmFor(key.keySpec)])]);
  switch (numbers.kind) {
    case 'rsa':
      return Buffer.concat([head, mpi(numbers.n), mpi(numbers.e)]);
    case 'ec':
      return Buffer.concat([head, oidField(CURVE_OID[numbers.curve]), mpi(Buffer.concat([Buffer.from([0x04]), numbers.x, numbers.y]))]);
    case 'ed25519':
      return Buffer.concat([head, oidField(CURVE_OID.Ed25519Legacy), mpi(Buffer.concat([Buffer.from([0x40]), numbers.key]))]);
  }
}
