/**
 * The numbers inside a SubjectPublicKeyInfo that the formats re-encode (OpenPGP MPIs, JWK members):
 * RSA n and e (RFC 8017 A.1.1), an EC point 04||X||Y (RFC 5480 §2.2), an Ed25519 key's 32 octets
 * (RFC 8410 §4). Parsed with the ASN.1 schemas, not Node's crypto, which lacks secp256k1 under
 * Electron's BoringSSL.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { KmsError } from '../../src-shared/errors';
import type { FormatKeySpec } from './keySpec';

export type PublicKeyNumbers =
  | { kind: 'rsa'; n: Buffer; e: Buffer }
  | { kind: 'ec'; curve: 'P-256' | 'P-384' | 'secp256k1'; x: Buffer; y: Buffer }
  | { kind: 'ed25519'; key: Buffer };

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const ED25519 = '1.3.101.112';

const EC_SPECS = {
  EC_P256: { curve: 'P-256', oidDer: '06082a8648ce3d030107', bytes: 32 },
  EC_P256K: { curve: 'secp256k1', oidDer: '06052b8104000a', bytes: 32 },
  EC_P384: { curve: 'P-384', oidDer: '06052b81040022', bytes: 48 },
} as const;

/** Big-endian magnitude without leading zero octets (ASN.1 INTEGERs carry a sign octet). */
function unsigned(bytes: ArrayBuffer): Buffer {
  const b = Buffer.from(bytes);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function refuse(spec: FormatKeySpec): never {
  throw new KmsError('InvalidParameter.PublicKey', `The public key does not match its key spec ${spec}.`);
}

/** The numbers of `spki`, checked against `spec` (an RSA SPKI under an EC spec is refused). */
export function publicKeyNumbers(spki: Uint8Array, spec: FormatKeySpec): PublicKeyNumbers {
  let info: SubjectPublicKeyInfo;
  try {
    info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  } catch {
    return refuse(spec);
  }
  const oid = info.algorithm.algorithm;
  const bits = Buffer.from(info.subjectPublicKey);
  if (spec === 'ED25519') {
    if (oid !== ED25519 || bits.length !== 32) return refuse(spec);
    return { kind: 'ed25519', key: bits };
  }
  if (spec === 'RSA_2048' || spec === 'RSA_3072' || spec === 'RSA_4096') {
    if (oid !== RSA_ENCRYPTION) return refuse(spec);
    const rsa = AsnConvert.parse(bits, RSAPublicKey);
    const n = unsigned(rsa.modulus);
    if (n.length * 8 !== Number(spec.slice(4))) return refuse(spec);
    return { kind: 'rsa', n, e: unsigned(rsa.publicExponent) };
  }
  const ec = EC_SPECS[spec];
  const params = info.algorithm.parameters ? Buffer.from(info.algorithm.parameters).toString('hex') : '';
  if (oid !== EC_PUBLIC_KEY || params !== ec.oidDer || bits.length !== 1 + 2 * ec.bytes || bits[0] !== 0x04) return refuse(spec);
  return { kind: 'ec', curve: ec.curve, x: bits.subarray(1, 1 + ec.bytes), y: bits.subarray(1 + ec.bytes) };
}

/** The field size in octets of an EC key spec (the width of r and s in IEEE P1363 form). */
export function ecFieldBytes(spec: 'EC_P256' | 'EC_P256K' | 'EC_P384'): number {
  return EC_SPECS[spec].bytes;
}
