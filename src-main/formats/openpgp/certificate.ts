/**
 * A transferable public key (RFC 4880 §11.1): Public-Key packet, User ID packet, and a positive
 * self-certification (type 0x13) binding them, which `gpg --import` needs to keep the User ID.
 * The certification hashes 0x99 || be16(len) || key body || 0xB4 || be32(len) || User ID
 * (RFC 4880 §5.2.4). Its hashed area has creation time, key flags certify+sign, preferred hashes
 * and the issuer fingerprint (sqv refuses a signing key without the sign flag; reference §1).
 * The certification is dated at the key's creation, so every export of one key version carries
 * the same key packet and fingerprint.
 */
import { createHash } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import type { Signer } from '../keySpec';
import { armor } from './armor';
import { v4Fingerprint } from './fingerprint';
import { be16, be32, packet, PACKET_TAG } from './packets';
import { publicKeyBody, type OpenPgpPublicKey } from './publicKey';
import {
  creationTimeSubpacket,
  HASH_ALGORITHM_ID,
  issuerFingerprintSubpacket,
  issuerKeyIdSubpacket,
  KEY_FLAGS,
  OPENPGP_HASH,
  SIGNATURE_TYPE,
  signaturePacket,
  subpacket,
  SUBPACKET,
} from './signature';

/** `Name <email>`: a name without angle brackets and one address (the RFC 2822 form of RFC 4880 §5.11). */
const USER_ID = /^[^<>\r\n\t]*[^<>\s][^<>\r\n\t]* <[^<>\s@]+@[^<>\s@]+>$/;

export function assertOpenPgpUserId(userId: string): void {
  if (!USER_ID.test(userId) || Buffer.byteLength(userId) > 1024) {
    throw new KmsError('InvalidParameter', `The OpenPGP User ID must be 'Name <email>' (for example 'Release Signing <release@example.org>'), not '${userId.slice(0, 80)}'.`);
  }
}

/** The hash prefix of a certification over `body` and `userId` (RFC 4880 §5.2.4). */
export function certificationPrefix(body: Buffer, userId: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x99]), be16(body.length), body, Buffer.from([0xb4]), be32(userId.length), userId]);
}

export interface TransferablePublicKeyInput extends OpenPgpPublicKey {
  userId: string;
  sign: Signer;
}

export interface TransferablePublicKey {
  /** The `.pgp.asc` text (armored, with CRC24). */
  armored: string;
  /** The binary packets: what `gpg --dearmor` gives, a keyring for gpgv. */
  binary: Buffer;
  /** The v4 fingerprint, 40 uppercase hex digits as gpg prints it. */
  fingerprint: string;
}

export async function transferablePublicKey(input: TransferablePublicKeyInput): Promise<TransferablePublicKey> {
  assertOpenPgpUserId(input.userId);
  const key = { spki: input.spki, keySpec: input.keySpec, created: input.created };
  const body = publicKeyBody(key);
  const fingerprint = v4Fingerprint(body);
  const userId = Buffer.from(input.userId, 'utf8');
  const hashAlgorithm = OPENPGP_HASH[input.keySpec];
  const preferred = Buffer.from([HASH_ALGORITHM_ID.sha512, HASH_ALGORITHM_ID.sha384, HASH_ALGORITHM_ID.sha256]);
  const certification = await signaturePacket({
    publicKey: key,
    signatureType: SIGNATURE_TYPE.positiveCertification,
    hashAlgorithm,
    hashed: [
      creationTimeSubpacket(input.created),
      subpacket(SUBPACKET.keyFlags, Buffer.from([KEY_FLAGS.certify | KEY_FLAGS.sign])),
      subpacket(SUBPACKET.preferredHashes, preferred),
      issuerFingerprintSubpacket(fingerprint),
    ],
    unhashed: [issuerKeyIdSubpacket(fingerprint)],
    hash: createHash(hashAlgorithm).update(certificationPrefix(body, userId)),
    sign: input.sign,
  });
  const binary = Buffer.concat([packet(PACKET_TAG.publicKey, body), packet(PACKET_TAG.userId, userId), certification]);
  return { armored: armor('PGP PUBLIC KEY BLOCK', binary), binary, fingerprint: fingerprint.toString('hex').toUpperCase() };
}
