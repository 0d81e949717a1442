/**
 * DER encodings of asymmetric keys: PKCS#8 PrivateKeyInfo (EC inside as RFC 5915 ECPrivateKey)
 * and SubjectPublicKeyInfo. Node's crypto reads and writes them for RSA and the NIST curves;
 * the raw EC scalar (for @noble/curves and SM2) is taken out with @peculiar's ASN.1 schemas,
 * because Node cannot export SM2 keys as JWK. EC keys are also written here, byte for byte as
 * OpenSSL 3 writes them, for where Node's crypto lacks the curve (secp256k1 and SM2 under
 * Electron's BoringSSL); nothing here hands an EC key to Node's crypto, for the same reason.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { ECParameters, ECPrivateKey } from '@peculiar/asn1-ecc';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { KmsError } from '../../src-shared/errors';
import type { KeySpec, KeySpecInfo } from '../../src-shared/domain/keySpecs';
import { wipe } from './wipe';
import { ID_ED25519, ed25519RawFromSpki } from './ed25519';

export type EcCurve = NonNullable<KeySpecInfo['curve']>;

/** The private scalar d of an EC PKCS#8 key, left-padded to the curve's byte length. */
export function ecScalarFromPkcs8(pkcs8: Uint8Array, byteLength: number): Buffer {
  const info = AsnConvert.parse(pkcs8, PrivateKeyInfo);
  const ec = AsnConvert.parse(info.privateKey.buffer, ECPrivateKey);
  const d = Buffer.from(ec.privateKey.buffer);
  if (d.length === byteLength) return d;
  if (d.length > byteLength) throw new KmsError('Internal', 'An EC private key in the keystore has the wrong length.');
  const padded = Buffer.alloc(byteLength);
  d.copy(padded, byteLength - d.length);
  d.fill(0);
  return padded;
}

/** The raw public point (uncompressed 04||x||y) inside an SPKI. */
export function ecPointFromSpki(spki: Uint8Array): Buffer {
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  return Buffer.from(info.subjectPublicKey);
}

/**
 * PEM of an SPKI (RFC 7468 §13), as OpenSSL writes it: 64-character base64 lines. Armoured here,
 * not through createPublicKey, which fails for curves BoringSSL lacks (secp256k1, SM2).
 */
export function spkiToPem(spki: Uint8Array): string {
  const lines = Buffer.from(spki).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

export function spkiKeyObject(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/** RFC 5480 §2.1.1 id-ecPublicKey, and the named-curve OIDs (SM2: GM/T 0006-2012). */
const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVE_OIDS: Readonly<Record<EcCurve, string>> = {
  prime256v1: '1.2.840.10045.3.1.7',
  secp256k1: '1.3.132.0.10',
  secp384r1: '1.3.132.0.34',
  SM2: '1.2.156.10197.1.301',
};

/** AlgorithmIdentifier { id-ecPublicKey, namedCurve } (RFC 5480 §2.1.1). */
function ecAlgorithm(curve: EcCurve): AlgorithmIdentifier {
  const namedCurve = AsnConvert.serialize(new ECParameters({ namedCurve: CURVE_OIDS[curve] }));
  return new AlgorithmIdentifier({ algorithm: ID_EC_PUBLIC_KEY, parameters: namedCurve });
}

/** SubjectPublicKeyInfo of an uncompressed point 04||x||y (RFC 5480 §2). */
export function ecSpkiFromPoint(curve: EcCurve, point: Uint8Array): Buffer {
  const spki = new SubjectPublicKeyInfo({ algorithm: ecAlgorithm(curve), subjectPublicKey: new Uint8Array(point).buffer });
  return Buffer.from(AsnConvert.serialize(spki));
}

/**
 * One DER TLV over the concatenated contents, in a fresh buffer. The private key is written by
 * hand, not with the ASN.1 schemas, so that every copy of the scalar is one this module can
 * zero. Contents here are always shorter than 2^16 bytes.
 */
function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const length = contents.reduce((n, c) => n + c.length, 0);
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), ...contents]);
}

/**
 * PKCS#8 PrivateKeyInfo { 0, algorithm, ECPrivateKey { 1, d, [1] publicKey } } (RFC 5208,
 * RFC 5915), the layout OpenSSL 3 exports: the curve only in the algorithm, the public point
 * included. `d` is the scalar left-padded to the curve size. The caller zeroes the result.
 */
export function ecPkcs8FromScalar(curve: EcCurve, d: Uint8Array, point: Uint8Array): Buffer {
  const scalar = tlv(0x04, d);
  const ecPrivateKey = tlv(0x30, Buffer.of(0x02, 0x01, 0x01), scalar, tlv(0xa1, tlv(0x03, Buffer.of(0), point)));
  const wrapped = tlv(0x04, ecPrivateKey);
  try {
    return tlv(0x30, Buffer.of(0x02, 0x01, 0x00), Buffer.from(AsnConvert.serialize(ecAlgorithm(curve))), wrapped);
  } finally {
    wipe(scalar, ecPrivateKey, wrapped);
  }
}

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const SPEC_OF_CURVE: Readonly<Record<string, KeySpec>> = {
  [CURVE_OIDS.prime256v1]: 'EC_P256',
  [CURVE_OIDS.secp256k1]: 'EC_P256K',
  [CURVE_OIDS.secp384r1]: 'EC_P384',
  [CURVE_OIDS.SM2]: 'EC_SM2',
};

/**
 * The key spec of a DER SubjectPublicKeyInfo (a public key from outside: a cloud's wrapping key, a
 * signer's PEM), or a KmsError('InvalidParameter.PublicKey') saying why it is none of Keyroom's.
 * Strict DER: trailing bytes, or a private key whose outer SEQUENCE happens to parse, are refused.
 */
export function keySpecOfSpki(spki: Uint8Array): KeySpec {
  const bad = (why: string) => new KmsError('InvalidParameter.PublicKey', why);
  let info: SubjectPublicKeyInfo;
  try {
    info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
    if (!Buffer.from(AsnConvert.serialize(info)).equals(Buffer.from(spki))) throw new Error('not DER');
  } catch {
    throw bad('The public key is not a DER SubjectPublicKeyInfo (is it a private key, or truncated?).');
  }
  const oid = info.algorithm.algorithm;
  if (oid === ID_ED25519) {
    // RFC 8410 §3: the parameters MUST be absent and the key is 32 bytes: one exact byte layout.
    try {
      ed25519RawFromSpki(spki);
    } catch {
      throw bad('The Ed25519 public key is not RFC 8410\'s form (parameters absent, 32-byte key).');
    }
    return 'ED25519';
  }
  if (oid === RSA_ENCRYPTION) {
    let bits: number | undefined;
    try {
      bits = spkiKeyObject(spki).asymmetricKeyDetails?.modulusLength;
    } catch {
      throw bad('The RSA public key does not parse.');
    }
    const spec = `RSA_${bits}`;
    if (spec === 'RSA_2048' || spec === 'RSA_3072' || spec === 'RSA_4096') return spec;
    throw bad(`The key is RSA with a ${bits}-bit modulus; Keyroom takes RSA_2048, RSA_3072 or RSA_4096.`);
  }
  // id-ecPublicKey names its curve in the parameters; some SM2 keys carry the curve OID as the algorithm.
  const curve = oid === ID_EC_PUBLIC_KEY && info.algorithm.parameters ? AsnConvert.parse(info.algorithm.parameters, ECParameters).namedCurve : oid;
  const spec = curve ? SPEC_OF_CURVE[curve] : undefined;
  if (!spec) throw bad('The key is neither RSA nor on a curve Keyroom knows (P-256, secp256k1, P-384, SM2).');
  const point = Buffer.from(info.subjectPublicKey);
  if (point[0] !== 0x04) throw bad('The EC public key is not an uncompressed point.');
  return spec;
}

/**
 * The length a DER element says it has (header and content), read from its first bytes; undefined
 * when the header is not a definite DER length (X.690 10.1).
 */
export function derElementLength(der: Uint8Array): number | undefined {
  if (der.length < 2) return undefined;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n || der[2] === 0) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return len < 0x80 ? undefined : 2 + n + len;
}

/**
 * Refuse PKCS#8 that is not exactly one DER PrivateKeyInfo: what a strict importer (Python's
 * `cryptography`, a cloud) does with the zero bytes a padding token's KWP leaves after it
 * (backends/pkcs11/kwpProbe.ts). OpenSSL and Node stop reading at the end of the SEQUENCE and
 * would not notice.
 */
export function requireExactPkcs8(material: Uint8Array): void {
  const said = material[0] === 0x30 ? derElementLength(material) : undefined;
  if (said === material.length) {
    try {
      AsnConvert.parse(material, PrivateKeyInfo);
      return;
    } catch {
      // reported below
    }
  }
  throw new KmsError(
    'InvalidEncryptedKeyMaterial',
    said === undefined
      ? `The unwrapped material (${material.length} bytes) is not a DER PKCS#8 PrivateKeyInfo.`
      : `The unwrapped PKCS#8 is ${material.length} bytes but its DER says ${said}: ${material.length > said ? 'bytes follow the key (a key wrap that counted its padding)' : 'it is truncated'}; a strict importer refuses it.`,
  );
}
