/**
 * PKCS#10 (RFC 2986) with @peculiar's ASN.1 schemas: the CertificationRequestInfo to be signed
 * (subject, public key, extensionRequest), the signature AlgorithmIdentifier of each algorithm, and
 * the signed request. The DER written here is what the key signs; no byte is assembled by hand.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Attribute,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { RsaSaPssParams, id_RSASSA_PSS, id_mgf1, id_sha256WithRSAEncryption, sha256 } from '@peculiar/asn1-rsa';
import type { SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import {
  DN_ATTRIBUTES,
  EXTENDED_KEY_USAGES,
  type BasicConstraintsRequest,
  type ExtendedKeyUsageName,
  type KeyUsageName,
  type ParsedDn,
  type SanEntry,
} from '../../../../src-shared/domain/csrRequest';

/** PKCS#9 extensionRequest. */
const ID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
/** GM/T 0006: SM2 signature with SM3. */
const SM2_WITH_SM3 = '1.2.156.10197.1.501';
const PSS_SALT_BYTES = 32;

export interface CsrExtensions {
  subjectAltNames: SanEntry[];
  keyUsage: KeyUsageName[];
  extendedKeyUsage: string[];
  basicConstraints?: BasicConstraintsRequest;
}

/** RFC 4514 lists the most specific RDN first; the DER sequence starts at the root (C first). */
export function nameOf(dn: ParsedDn): Name {
  return new Name(
    [...dn].reverse().map(
      (rdn) =>
        new RelativeDistinguishedName(
          rdn.map((e) => new AttributeTypeAndValue({ type: DN_ATTRIBUTES[e.type].oid, value: new AttributeValue({ [e.stringType]: e.value }) })),
        ),
    ),
  );
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function generalName(san: SanEntry): GeneralName {
  switch (san.type) {
    case 'DNS':
      return new GeneralName({ dNSName: san.value });
    case 'IP':
      return new GeneralName({ iPAddress: san.value });
    case 'email':
      return new GeneralName({ rfc822Name: san.value });
    case 'URI':
      return new GeneralName({ uniformResourceIdentifier: san.value });
  }
}

/** The extensions requested, in the order OpenSSL lists them; critical as RFC 5280 asks. */
export function extensionsOf(x: CsrExtensions): Extension[] {
  const out: Extension[] = [];
  if (x.basicConstraints) {
    const bc = new BasicConstraints({ cA: x.basicConstraints.ca, ...(x.basicConstraints.pathLen !== undefined ? { pathLenConstraint: x.basicConstraints.pathLen } : {}) });
    out.push(extension(id_ce_basicConstraints, true, bc));
  }
  if (x.keyUsage.length) {
    const flags = x.keyUsage.reduce((f, name) => f | KeyUsageFlags[name], 0);
    out.push(extension(id_ce_keyUsage, true, new KeyUsage(flags)));
  }
  if (x.extendedKeyUsage.length) {
    const oids = x.extendedKeyUsage.map((n) => EXTENDED_KEY_USAGES[n as ExtendedKeyUsageName] ?? n);
    out.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(oids)));
  }
  if (x.subjectAltNames.length) {
    out.push(extension(id_ce_subjectAltName, false, new SubjectAlternativeName(x.subjectAltNames.map(generalName))));
  }
  return out;
}

export function requestInfo(dn: ParsedDn, spki: Uint8Array, x: CsrExtensions): CertificationRequestInfo {
  const extensions = extensionsOf(x);
  const attributes = new Attributes(
    extensions.length ? [new Attribute({ type: ID_EXTENSION_REQUEST, values: [AsnConvert.serialize(new Extensions(extensions))] })] : [],
  );
  return new CertificationRequestInfo({
    version: 0,
    subject: nameOf(dn),
    subjectPKInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    attributes,
  });
}

const ID_ED25519 = '1.3.101.112';

export function signatureAlgorithm(algorithm: SigningAlgorithm): AlgorithmIdentifier {
  switch (algorithm) {
    case 'RSA_PKCS1_SHA_256':
      // Built from the OID: asn1-rsa 2.x's `sha256WithRSAEncryption` constant carries ...1.1.16
      // (sha512-256WithRSAEncryption), which OpenSSL rejects as an unknown signature algorithm.
      return new AlgorithmIdentifier({ algorithm: id_sha256WithRSAEncryption, parameters: null });
    case 'RSA_PSS_SHA_256': {
      const params = new RsaSaPssParams({
        hashAlgorithm: sha256,
        maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: id_mgf1, parameters: AsnConvert.serialize(sha256) }),
        saltLength: PSS_SALT_BYTES,
      });
      return new AlgorithmIdentifier({ algorithm: id_RSASSA_PSS, parameters: AsnConvert.serialize(params) });
    }
    case 'ECDSA_SHA_256':
      return new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
    case 'ECDSA_SHA_384':
      return new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA384 });
    case 'SM2DSA':
      return new AlgorithmIdentifier({ algorithm: SM2_WITH_SM3 });
    case 'ED25519':
      // RFC 8410 §3: id-Ed25519 with the parameters absent (not NULL).
      return new AlgorithmIdentifier({ algorithm: ID_ED25519 });
  }
}

export function tbsDer(info: CertificationRequestInfo): Buffer {
  return Buffer.from(AsnConvert.serialize(info));
}

export function signedRequestDer(info: CertificationRequestInfo, algorithm: SigningAlgorithm, signature: Uint8Array): Buffer {
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: signatureAlgorithm(algorithm),
    signature: new Uint8Array(signature).buffer,
  });
  return Buffer.from(AsnConvert.serialize(request));
}
