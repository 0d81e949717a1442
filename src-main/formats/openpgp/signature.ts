/**
 * v4 Signature packets (RFC 4880 §5.2.3) and what the key signs for them (reference note §0, §1).
 *
 * sigfields = 0x04 || type || pk algorithm || hash algorithm || be16(len) || hashed subpackets;
 * the digest is H(prefix || sigfields || 0x04 || 0xFF || be32(len(sigfields))) (§5.2.4), where the
 * prefix is the file (document signatures) or the key and User ID (certifications). The packet
 * is sigfields || be16(len) || unhashed subpackets || the digest's first 2 octets || MPIs.
 *
 * The key signs:
 * - RSA: the digest, as RSASSA-PKCS1-v1_5 with its DigestInfo (RFC 4880 §5.2.2), one MPI;
 * - ECDSA: the digest (RFC 6637 §5), the DER reply re-encoded as MPI(r) || MPI(s);
 * - EdDSA legacy: the digest octets as the Ed25519 message (draft-koch-eddsa-for-openpgp §6;
 *   openpgpjs eddsa_legacy.js), R and S as two MPIs that lose leading zero octets.
 */
import type { Hash } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { ecdsaDerToRs } from '../ecdsaSignature';
import type { FormatKeySpec, Signer } from '../keySpec';
import { ecFieldBytes } from '../publicKey';
import { assertSigned } from '../verifySigned';
import { armor } from './armor';
import { v4Fingerprint, v4KeyId } from './fingerprint';
import { be16, be32, bodyLength, mpi, packet, PACKET_TAG } from './packets';
import { openPgpTime, publicKeyAlgorithmFor, publicKeyBody, type OpenPgpPublicKey } from './publicKey';

export type OpenPgpHash = 'sha256' | 'sha384' | 'sha512';

/** Hash algorithm IDs (RFC 4880 §9.4). */
export const HASH_ALGORITHM_ID: Readonly<Record<OpenPgpHash, number>> = { sha256: 8, sha384: 9, sha512: 10 };

/**
 * The hash each key spec signs with: what Keyroom's signing algorithms take (RSA_PKCS1_SHA_256,
 * ECDSA_SHA_256 for P-256 and secp256k1, ECDSA_SHA_384 for P-384), and SHA-512 for Ed25519 (a
 * 256-bit or longer hash is required for EdDSA; reference note §1).
 */
export const OPENPGP_HASH: Readonly<Record<FormatKeySpec, OpenPgpHash>> = {
  RSA_2048: 'sha256',
  RSA_3072: 'sha256',
  RSA_4096: 'sha256',
  EC_P256: 'sha256',
  EC_P256K: 'sha256',
  EC_P384: 'sha384',
  ED25519: 'sha512',
};

/** Signature types (RFC 4880 §5.2.1). */
export const SIGNATURE_TYPE = { binaryDocument: 0x00, positiveCertification: 0x13 } as const;

/** Subpacket types (RFC 4880 §5.2.3.1; issuer fingerprint: RFC 9580 §5.2.3.35). */
export const SUBPACKET = { creationTime: 2, issuerKeyId: 16, preferredHashes: 21, keyFlags: 27, issuerFingerprint: 33 } as const;

/** Key flags (RFC 4880 §5.2.3.21): certify 0x01, sign 0x02. sqv refuses a key without sign. */
export const KEY_FLAGS = { certify: 0x01, sign: 0x02 } as const;

/** length (covering the type octet) || type || data (RFC 4880 §5.2.3.1). */
export function subpacket(type: number, data: Buffer): Buffer {
  return Buffer.concat([bodyLength(data.length + 1), Buffer.from([type]), data]);
}

export function creationTimeSubpacket(when: Date): Buffer {
  return subpacket(SUBPACKET.creationTime, be32(openPgpTime(when)));
}

export function issuerFingerprintSubpacket(fingerprint: Buffer): Buffer {
  return subpacket(SUBPACKET.issuerFingerprint, Buffer.concat([Buffer.from([0x04]), fingerprint]));
}

export function issuerKeyIdSubpacket(fingerprint: Buffer): Buffer {
  return subpacket(SUBPACKET.issuerKeyId, v4KeyId(fingerprint));
}

/** The key's signature as the algorithm-specific MPIs (RFC 4880 §5.2.2; RFC 6637 §7). */
export function signatureMpis(spec: FormatKeySpec, signed: Buffer): Buffer {
  if (spec === 'ED25519') {
    if (signed.length !== 64) throw new KmsError('Internal', 'The key returned an Ed25519 signature that is not 64 octets; nothing was written.');
    return Buffer.concat([mpi(signed.subarray(0, 32)), mpi(signed.subarray(32))]);
  }
  if (spec === 'EC_P256' || spec === 'EC_P256K' || spec === 'EC_P384') {
    const { r, s } = ecdsaDerToRs(signed, ecFieldBytes(spec));
    return Buffer.concat([mpi(r), mpi(s)]);
  }
  if (signed.length * 8 !== Number(spec.slice(4))) throw new KmsError('Internal', 'The key returned an RSA signature of the wrong length; nothing was written.');
  return mpi(signed);
}

export interface SignatureInput {
  publicKey: OpenPgpPublicKey;
  signatureType: number;
  hashAlgorithm: OpenPgpHash;
  /** Hashed subpackets, each made with subpacket(). */
  hashed: Buffer[];
  unhashed: Buffer[];
  /** A hash of `hashAlgorithm` already fed with what the signature covers before sigfields; it is consumed. */
  hash: Hash;
  sign: Signer;
}

/** A v4 Signature packet (tag 2), signed by `sign`. */
export async function signaturePacket(input: SignatureInput): Promise<Buffer> {
  const spec = input.publicKey.keySpec;
  if (input.hashAlgorithm !== OPENPGP_HASH[spec]) {
    throw new KmsError('Internal', `OpenPGP signatures with ${spec} keys use ${OPENPGP_HASH[spec]}, not ${input.hashAlgorithm}.`);
  }
  const hashed = Buffer.concat(input.hashed);
  const unhashed = Buffer.concat(input.unhashed);
  const sigfields = Buffer.concat([
    Buffer.from([0x04, input.signatureType, publicKeyAlgorithmFor(spec), HASH_ALGORITHM_ID[input.hashAlgorithm]]),
    be16(hashed.length),
    hashed,
  ]);
  const trailer = Buffer.concat([Buffer.from([0x04, 0xff]), be32(sigfields.length)]);
  const digest = input.hash.update(sigfields).update(trailer).digest();
  const signed = await input.sign(digest);
  const mpis = signatureMpis(spec, signed); // the reply's shape first, then its validity
  assertSigned(spec, input.publicKey.spki, digest, signed);
  const body = Buffer.concat([sigfields, be16(unhashed.length), unhashed, digest.subarray(0, 2), mpis]);
  return packet(PACKET_TAG.signature, body);
}

export interface DetachedSignatureInput {
  publicKey: OpenPgpPublicKey;
  hashAlgorithm: OpenPgpHash;
  /** A hash of `hashAlgorithm` fed with the file's bytes; it is copied, not consumed, so other formats can share it. */
  fileHash: Hash;
  signatureTime: Date;
  sign: Signer;
}

/**
 * An armored detached binary-document signature (type 0x00), the `.asc` that
 * `gpg --verify f.asc f`, `gpgv` and `sqv` read. Creation time and issuer fingerprint are hashed;
 * the issuer Key ID is unhashed (reference note §1).
 */
export async function signDetached(input: DetachedSignatureInput): Promise<string> {
  const fingerprint = v4Fingerprint(publicKeyBody(input.publicKey));
  const sig = await signaturePacket({
    publicKey: input.publicKey,
    signatureType: SIGNATURE_TYPE.binaryDocument,
    hashAlgorithm: input.hashAlgorithm,
    hashed: [creationTimeSubpacket(input.signatureTime), issuerFingerprintSubpacket(fingerprint)],
    unhashed: [issuerKeyIdSubpacket(fingerprint)],
    hash: input.fileHash.copy(),
    sign: input.sign,
  });
  return armor('PGP SIGNATURE', sig);
}
