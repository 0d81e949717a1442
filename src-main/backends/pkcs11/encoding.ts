/**
 * DER in and out of the token: the SubjectPublicKeyInfo built from a public key object's
 * attributes, CKA_EC_PARAMS for a curve, a raw ECDSA r||s turned into DER SEQUENCE{r, s}, and
 * the DigestInfo that CKM_RSA_PKCS signs. All through @peculiar's ASN.1 schemas and noble's DER
 * helper; nothing is assembled by hand.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { RSAPublicKey, DigestInfo, id_rsaEncryption, id_sha256 } from '@peculiar/asn1-rsa';
import { ECParameters, id_ecPublicKey, id_secp256r1, id_secp384r1 } from '@peculiar/asn1-ecc';
import { DER } from '@noble/curves/abstract/weierstrass.js';
import { KmsError } from '../../../src-shared/errors';

export type TokenCurve = 'prime256v1' | 'secp256k1' | 'secp384r1';

/** secp256k1 (SEC 2) is not among asn1-ecc's constants. */
const id_secp256k1 = '1.3.132.0.10';

export const CURVES: Readonly<Record<TokenCurve, { oid: string; fieldBytes: number }>> = {
  prime256v1: { oid: id_secp256r1, fieldBytes: 32 },
  secp256k1: { oid: id_secp256k1, fieldBytes: 32 },
  secp384r1: { oid: id_secp384r1, fieldBytes: 48 },
};

function ab(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** An unsigned big-endian integer as DER INTEGER content: minimal, with a 0x00 when the top bit is set. */
function unsignedInteger(b: Uint8Array): ArrayBuffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  return ab(trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** CKA_EC_PARAMS: the DER namedCurve OBJECT IDENTIFIER. */
export function ecParamsDer(curve: TokenCurve): Buffer {
  return Buffer.from(AsnConvert.serialize(new ECParameters({ namedCurve: CURVES[curve].oid })));
}

/** SubjectPublicKeyInfo (rsaEncryption, NULL parameters) from CKA_MODULUS and CKA_PUBLIC_EXPONENT. */
export function rsaSpki(modulus: Uint8Array, publicExponent: Uint8Array): Buffer {
  const key = new RSAPublicKey({ modulus: unsignedInteger(modulus), publicExponent: unsignedInteger(publicExponent) });
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: id_rsaEncryption, parameters: null }),
    subjectPublicKey: AsnConvert.serialize(key),
  });
  return Buffer.from(AsnConvert.serialize(spki));
}

/**
 * The uncompressed point 04||x||y from CKA_EC_POINT. PKCS#11 says the attribute is a DER OCTET
 * STRING wrapping the point (SoftHSM, most tokens); some tokens give the bare point.
 */
export function ecPointFromAttribute(value: Uint8Array, curve: TokenCurve): Buffer {
  const pointBytes = 1 + 2 * CURVES[curve].fieldBytes;
  let point: Buffer;
  if (value.length === pointBytes && value[0] === 0x04) {
    point = Buffer.from(value);
  } else {
    try {
      point = Buffer.from(AsnConvert.parse(value, OctetString).buffer);
    } catch {
      throw new KmsError('Hsm.DeviceError', 'The token returned a CKA_EC_POINT that is neither DER nor a bare point.');
    }
  }
  if (point.length !== pointBytes || point[0] !== 0x04) {
    throw new KmsError('Hsm.DeviceError', `The token returned a CKA_EC_POINT of ${point.length} bytes; expected an uncompressed ${curve} point.`);
  }
  return point;
}

/** SubjectPublicKeyInfo (id-ecPublicKey, namedCurve) from the point. */
export function ecSpki(curve: TokenCurve, point: Uint8Array): Buffer {
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: id_ecPublicKey, parameters: ab(ecParamsDer(curve)) }),
    subjectPublicKey: ab(point),
  });
  return Buffer.from(AsnConvert.serialize(spki));
}

/**
 * CKA_EC_PARAMS of an Ed25519 key: the DER OBJECT IDENTIFIER id-Ed25519 (1.3.101.112, RFC 8410).
 * PKCS#11 3.0 also allows the PrintableString "edwards25519"; SoftHSM 2.6 takes the OID.
 */
export const ED25519_EC_PARAMS = Buffer.from('06032b6570', 'hex');

/**
 * The 32-byte Ed25519 public key from CKA_EC_POINT: a DER OCTET STRING wrapping it (PKCS#11 3.0,
 * SoftHSM), or the bare 32 bytes from some tokens.
 */
export function ed25519PointFromAttribute(value: Uint8Array): Buffer {
  if (value.length === 32) return Buffer.from(value);
  let point: Buffer;
  try {
    point = Buffer.from(AsnConvert.parse(value, OctetString).buffer);
  } catch {
    throw new KmsError('Hsm.DeviceError', 'The token returned an Ed25519 CKA_EC_POINT that is neither DER nor 32 bytes.');
  }
  if (point.length !== 32 || value.length !== 34) {
    throw new KmsError('Hsm.DeviceError', `The token returned an Ed25519 CKA_EC_POINT of ${point.length} bytes; expected 32.`);
  }
  return point;
}

/** CKM_ECDSA's raw r||s (each field-size bytes) as DER SEQUENCE{r, s} with minimal INTEGERs. */
export function ecdsaRawToDer(raw: Uint8Array, fieldBytes: number): Buffer {
  if (raw.length !== 2 * fieldBytes) {
    throw new KmsError('Hsm.DeviceError', `The token returned an ECDSA signature of ${raw.length} bytes; expected ${2 * fieldBytes}.`);
  }
  const r = BigInt(`0x${Buffer.from(raw.subarray(0, fieldBytes)).toString('hex')}`);
  const s = BigInt(`0x${Buffer.from(raw.subarray(fieldBytes)).toString('hex')}`);
  return Buffer.from(DER.hexFromSig({ r, s }), 'hex');
}

/** DER DigestInfo { sha256, NULL } || digest: what CKM_RSA_PKCS signs for RSASSA-PKCS1-v1_5. */
export function sha256DigestInfo(digest: Uint8Array): Buffer {
  const info = new DigestInfo({
    digestAlgorithm: new AlgorithmIdentifier({ algorithm: id_sha256, parameters: null }),
    digest: new OctetString(ab(digest)),
  });
  return Buffer.from(AsnConvert.serialize(info));
}

/** A CK_ULONG attribute value (CKA_CLASS, CKA_VALUE_LEN): native-endian, 8 bytes on 64-bit hosts. */
export function ulongAttribute(value: Buffer): number {
  if (value.length >= 8) return Number(value.readBigUInt64LE(0));
  if (value.length === 0) throw new KmsError('Hsm.DeviceError', 'The token returned an empty CK_ULONG attribute.');
  return value.readUIntLE(0, value.length);
}
