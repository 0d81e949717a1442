/**
 * The two-line files minisign and signify share (reference note §3): `untrusted comment: <text>`,
 * then base64 of a 2-byte algorithm tag, the 8-byte key number and the payload (a 32-byte public
 * key or a 64-byte signature). Read strictly: exact lengths, canonical base64, nothing else.
 */
export const KEYNUM_BYTES = 8;
const UNTRUSTED = 'untrusted comment: ';

export class EdStructError extends Error {}

export function edStructLine(tag: 'Ed' | 'ED', keynum: Uint8Array, payload: Uint8Array): string {
  if (keynum.length !== KEYNUM_BYTES) throw new EdStructError('a key number is 8 bytes');
  return Buffer.concat([Buffer.from(tag, 'ascii'), keynum, payload]).toString('base64');
}

/** A comment must be one printable line (minisign's is_printable, signify's fgets). */
export function oneLine(text: string): string {
  if (/\p{Cc}/u.test(text.replace(/\t/g, ''))) throw new EdStructError('a comment must be one printable line');
  return text;
}

export function untrustedComment(text: string): string {
  return `${UNTRUSTED}${oneLine(text)}\n`;
}

export function decodeEdStruct(line: string, payloadBytes: number): { tag: string; keynum: Buffer; payload: Buffer } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(line)) throw new EdStructError('not base64');
  const b = Buffer.from(line, 'base64');
  if (b.toString('base64') !== line) throw new EdStructError('not canonical base64');
  if (b.length !== 2 + KEYNUM_BYTES + payloadBytes) throw new EdStructError(`expected ${2 + KEYNUM_BYTES + payloadBytes} bytes, found ${b.length}`);
  return { tag: b.subarray(0, 2).toString('latin1'), keynum: b.subarray(2, 2 + KEYNUM_BYTES), payload: b.subarray(2 + KEYNUM_BYTES) };
}

/** The text after `untrusted comment: ` on a line, or an error. */
export function readUntrusted(line: string | undefined): string {
  if (line === undefined || !line.startsWith(UNTRUSTED)) throw new EdStructError('the first line is not "untrusted comment: ..."');
  return line.slice(UNTRUSTED.length);
}
