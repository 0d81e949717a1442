/**
 * OpenPGP v4 packet framing (RFC 4880 §4.2, kept in RFC 9580 §4.2): new-format headers only,
 * as GnuPG 2.2 and Sequoia 1.x read them, and multiprecision integers (RFC 4880 §3.2).
 */
import { KmsError } from '../../../src-shared/errors';

export const PACKET_TAG = { signature: 2, publicKey: 6, userId: 13 } as const;

export function be16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A new-format body length (RFC 4880 §4.2.2.1-3); partial lengths are never written. */
export function bodyLength(len: number): Buffer {
  if (len < 192) return Buffer.from([len]);
  if (len < 8384) return Buffer.from([((len - 192) >> 8) + 192, (len - 192) & 0xff]);
  return Buffer.concat([Buffer.from([0xff]), be32(len)]);
}

/** Tag octet 0xC0|tag (bit 7 set, bit 6 new format), length, body (RFC 4880 §4.2). */
export function packet(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xc0 | tag]), bodyLength(body.length), body]);
}

/**
 * MPI (RFC 4880 §3.2): be16 bit count, then the magnitude with leading zero octets removed. An
 * EdDSA R or S with a leading zero octet is therefore shorter than 32 octets (reference §1 pitfalls).
 */
export function mpi(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  const bytes = magnitude.subarray(i);
  const bits = bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]!));
  return Buffer.concat([be16(bits), bytes]);
}

/** One packet read back: tag and body. */
export interface Packet {
  tag: number;
  body: Buffer;
}

function truncated(): never {
  throw new KmsError('InvalidParameter', 'The OpenPGP data is truncated or uses packet framing Keyroom does not write.');
}

/** Reads the new-format packets Keyroom writes (no old-format headers, no partial lengths). */
export function readPackets(data: Buffer): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at < data.length) {
    const head = data[at]!;
    if ((head & 0xc0) !== 0xc0) return truncated();
    const first = data[at + 1];
    if (first === undefined) return truncated();
    let len: number;
    let start: number;
    if (first < 192) [len, start] = [first, at + 2];
    else if (first < 224) [len, start] = [((first - 192) << 8) + (data[at + 2] ?? truncated()) + 192, at + 3];
    else if (first === 255 && at + 6 <= data.length) [len, start] = [data.readUInt32BE(at + 2), at + 6];
    else return truncated();
    if (start + len > data.length) return truncated();
    packets.push({ tag: head & 0x3f, body: data.subarray(start, start + len) });
    at = start + len;
  }
  return packets;
}

/** Reads one MPI at `at`: its magnitude (as written, no leading zeros) and the next offset. */
export function readMpi(data: Buffer, at: number): { value: Buffer; next: number } {
  if (at + 2 > data.length) return truncated();
  const bytes = (data.readUInt16BE(at) + 7) >> 3;
  if (at + 2 + bytes > data.length) return truncated();
  return { value: data.subarray(at + 2, at + 2 + bytes), next: at + 2 + bytes };
}
