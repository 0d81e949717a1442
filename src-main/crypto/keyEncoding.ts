/**
 * DER encodings of asymmetric keys: PKCS#8 PrivateKeyInfo (EC inside as RFC 5915 ECPrivateKey)
 * and SubjectPublicKeyInfo. Node's crypto reads and writes them for RSA and the NIST curves;
 * the raw EC scalar (for @noble/curves and SM2) is taken out with @peculiar's ASN.1 schemas,
 * because Node cannot export SM2 keys as JWK.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { ECPrivateKey } from '@peculiar/asn1-ecc';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { KmsError } from '../../src-shared/errors';

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

export function spkiToPem(spki: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

export function spkiKeyObject(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}
