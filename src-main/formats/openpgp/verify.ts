/**
 * Checks a detached v4 signature (the `.asc` Keyroom writes) against the key version it claims,
 * as gpg and sqv would: one Signature packet, v4, binary-document type, the key's algorithm and
 * hash, a hashed creation time, the issuer fingerprint (when present) naming this key, the
 * digest's left 16 bits, and the signature itself. EdDSA R and S are left-padded back to 32
 * octets, since their MPIs drop leading zeros (reference note §1 pitfalls; openpgpjs#1083).
 */
import type { Hash } from 'node:crypto';
import { ecdsaRsToDer } from '../ecdsaSignature';
import type { FormatKeySpec } from '../keySpec';
import { verifySigned } from '../verifySigned';
import { dearmor } from './armor';
import { v4Fingerprint } from './fingerprint';
import { be32, readMpi, readPackets, PACKET_TAG } from './packets';
import { publicKeyAlgorithmFor, publicKeyBody, type OpenPgpPublicKey } from './publicKey';
import { HASH_ALGORITHM_ID, OPENPGP_HASH, SIGNATURE_TYPE, SUBPACKET } from './signature';

export type OpenPgpVerdict = { valid: true; signatureTime: Date } | { valid: false; reason: string };

interface Subpacket {
  type: number;
  data: Buffer;
}

/** Splits a subpacket area (RFC 4880 §5.2.3.1); undefined when the lengths do not add up. */
function readSubpackets(area: Buffer): Subpacket[] | undefined {
  const out: Subpacket[] = [];
  let at = 0;
  while (at < area.length) {
    const first = area[at]!;
    let len: number;
    if (first < 192) [len, at] = [first, at + 1];
    else if (first < 255) [len, at] = [((first - 192) << 8) + (area[at + 1] ?? 0) + 192, at + 2];
    else if (at + 5 <= area.length) [len, at] = [area.readUInt32BE(at + 1), at + 5];
    else return undefined;
    if (len < 1 || at + len > area.length) return undefined;
    out.push({ type: area[at]! & 0x7f, data: area.subarray(at + 1, at + len) });
    at += len;
  }
  return out;
}

function leftPad(value: Buffer, bytes: number): Buffer | undefined {
  if (value.length > bytes) return undefined;
  return Buffer.concat([Buffer.alloc(bytes - value.length), value]);
}

/** The token's reply as the Signer contract has it, from the packet's MPIs. */
function signedFromMpis(spec: FormatKeySpec, mpis: Buffer): Buffer | undefined {
  const first = readMpi(mpis, 0);
  if (spec.startsWith('RSA_')) return first.next === mpis.length ? leftPad(first.value, Number(spec.slice(4)) / 8) : undefined;
  const second = readMpi(mpis, first.next);
  if (second.next !== mpis.length) return undefined;
  if (spec === 'ED25519') {
    const r = leftPad(first.value, 32);
    const s = leftPad(second.value, 32);
    return r && s ? Buffer.concat([r, s]) : undefined;
  }
  return ecdsaRsToDer(first.value, second.value);
}

export interface VerifyDetachedInput {
  armoredSignature: string;
  publicKey: OpenPgpPublicKey;
  /** A hash of OPENPGP_HASH[keySpec] fed with the file; it is copied, not consumed. */
  fileHash: Hash;
}

export function verifyDetached(input: VerifyDetachedInput): OpenPgpVerdict {
  const spec = input.publicKey.keySpec;
  let packets;
  try {
    packets = readPackets(dearmor(input.armoredSignature, 'PGP SIGNATURE'));
  } catch (e) {
    return { valid: false, reason: e instanceof Error ? e.message : 'unreadable' };
  }
  if (packets.length !== 1 || packets[0]!.tag !== PACKET_TAG.signature) return { valid: false, reason: 'not one OpenPGP signature packet' };
  const body = packets[0]!.body;
  if (body.length < 6 || body[0] !== 4) return { valid: false, reason: 'not a version 4 signature' };
  if (body[1] !== SIGNATURE_TYPE.binaryDocument) return { valid: false, reason: 'not a binary document signature' };
  if (body[2] !== publicKeyAlgorithmFor(spec) || body[3] !== HASH_ALGORITHM_ID[OPENPGP_HASH[spec]]) return { valid: false, reason: `not made by a ${spec} key with ${OPENPGP_HASH[spec]}` };
  const hashedEnd = 6 + body.readUInt16BE(4);
  if (hashedEnd + 2 > body.length) return { valid: false, reason: 'truncated' };
  const unhashedEnd = hashedEnd + 2 + body.readUInt16BE(hashedEnd);
  if (unhashedEnd + 2 > body.length) return { valid: false, reason: 'truncated' };
  const hashed = readSubpackets(body.subarray(6, hashedEnd));
  if (!hashed || !readSubpackets(body.subarray(hashedEnd + 2, unhashedEnd))) return { valid: false, reason: 'malformed subpackets' };
  const created = hashed.find((s) => s.type === SUBPACKET.creationTime);
  if (!created || created.data.length !== 4) return { valid: false, reason: 'no hashed signature creation time' };
  const fingerprint = v4Fingerprint(publicKeyBody(input.publicKey));
  const issuer = hashed.find((s) => s.type === SUBPACKET.issuerFingerprint);
  if (issuer && !issuer.data.equals(Buffer.concat([Buffer.from([4]), fingerprint]))) return { valid: false, reason: 'made by another key (issuer fingerprint)' };
  const sigfields = body.subarray(0, hashedEnd);
  const digest = input.fileHash.copy().update(sigfields).update(Buffer.from([4, 0xff])).update(be32(sigfields.length)).digest();
  if (!digest.subarray(0, 2).equals(body.subarray(unhashedEnd, unhashedEnd + 2))) return { valid: false, reason: 'the file does not match (digest prefix)' };
  let signed: Buffer | undefined;
  try {
    signed = signedFromMpis(spec, body.subarray(unhashedEnd + 2));
  } catch {
    signed = undefined;
  }
  if (!signed) return { valid: false, reason: 'malformed signature values' };
  if (!verifySigned(spec, input.publicKey.spki, digest, signed)) return { valid: false, reason: 'bad signature' };
  return { valid: true, signatureTime: new Date(created.data.readUInt32BE(0) * 1000) };
}
