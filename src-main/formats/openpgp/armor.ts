/**
 * ASCII armor (RFC 4880 §6.2) with its CRC24 checksum line (§6.1). RFC 9580 §6.1 makes the
 * checksum optional, but gpg 2.2 refuses to import an armored key without it (reference note §1,
 * VERIFIED-LOCAL), so it is always written, and checked when present on reading.
 */
import { KmsError } from '../../../src-shared/errors';

export type ArmorKind = 'PGP SIGNATURE' | 'PGP PUBLIC KEY BLOCK';

const CRC24_INIT = 0xb704ce;
const CRC24_POLY = 0x1864cfb;

/** CRC-24 of RFC 4880 §6.1 (the C routine there, bit by bit). */
export function crc24(data: Uint8Array): number {
  let crc = CRC24_INIT;
  for (const octet of data) {
    crc ^= octet << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= CRC24_POLY;
    }
  }
  return crc & 0xffffff;
}

function crcLine(data: Uint8Array): string {
  const crc = crc24(data);
  return `=${Buffer.from([crc >> 16, (crc >> 8) & 0xff, crc & 0xff]).toString('base64')}`;
}

/** BEGIN line, blank line (no headers), base64 in 64-column lines, CRC line, END line. */
export function armor(kind: ArmorKind, data: Uint8Array): string {
  const lines = Buffer.from(data).toString('base64').match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${kind}-----`, '', ...lines, crcLine(data), `-----END ${kind}-----`, ''].join('\n');
}

function refuse(why: string): never {
  throw new KmsError('InvalidParameter', `The OpenPGP armor ${why}.`);
}

/** The data inside an armor of `kind`; headers are skipped, a CRC line that does not match is refused. */
export function dearmor(text: string, kind: ArmorKind): Buffer {
  const lines = text.replace(/\r\n/g, '\n').split('\n').map((l) => l.trimEnd());
  const begin = lines.indexOf(`-----BEGIN ${kind}-----`);
  const end = lines.indexOf(`-----END ${kind}-----`);
  if (begin < 0 || end < begin) return refuse(`has no ${kind} block`);
  const blank = lines.indexOf('', begin);
  if (blank < 0 || blank > end) return refuse('has no blank line after its headers');
  let body = lines.slice(blank + 1, end);
  let crc: string | undefined;
  if (body.length > 0 && body[body.length - 1]!.startsWith('=')) {
    crc = body[body.length - 1];
    body = body.slice(0, -1);
  }
  const joined = body.join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(joined)) return refuse('is not base64');
  const data = Buffer.from(joined, 'base64');
  if (crc !== undefined && crc !== crcLine(data)) return refuse('checksum does not match: the file is damaged');
  return data;
}
