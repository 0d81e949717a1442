/**
 * signify (OpenBSD signify.c, Debian signify-openbsd; reference note §3): pure Ed25519 over the
 * whole message, so Keyroom signs only a checksum manifest, in the BSD tag style `-C` reads
 * (`SHA256 (name) = hex`), as an embedded signature: the two header lines then the manifest.
 */
import { EdStructError, decodeEdStruct, edStructLine, readUntrusted, untrustedComment } from '../minisign/edStruct';

export function signifyPublicKeyFile(comment: string, keynum: Uint8Array, pk: Uint8Array): string {
  return `${untrustedComment(comment)}${edStructLine('Ed', keynum, pk)}\n`;
}

/** One manifest line; a name signify's sscanf cannot read back (a `)` or newline) is refused. */
export function signifyManifestLine(name: string, sha256Hex: string): string {
  if (/[\n)]/.test(name) || name.length > 1023) throw new EdStructError(`${name}: signify cannot read a name with ")" or a newline, or longer than 1023 bytes`);
  return `SHA256 (${name}) = ${sha256Hex}\n`;
}

export function signifyEmbeddedSignature(comment: string, keynum: Uint8Array, signature: Uint8Array, message: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${untrustedComment(comment)}${edStructLine('Ed', keynum, signature)}\n`, 'utf8'), message]);
}

export function parseSignifyPublicKey(text: string): { keynum: Buffer; pk: Buffer } {
  const lines = text.split('\n');
  if (lines.length !== 3 || lines[2] !== '') throw new EdStructError('a signify public key file is two lines');
  readUntrusted(lines[0]);
  const s = decodeEdStruct(lines[1]!, 32);
  if (s.tag !== 'Ed') throw new EdStructError('not an Ed25519 public key');
  return { keynum: s.keynum, pk: s.payload };
}

/** An embedded signature file: the key number, the signature, and the message after the two lines. */
export function parseSignifyEmbedded(bytes: Buffer): { keynum: Buffer; signature: Buffer; message: Buffer } {
  const first = bytes.indexOf(0x0a);
  const second = first < 0 ? -1 : bytes.indexOf(0x0a, first + 1);
  if (second < 0) throw new EdStructError('a signify signature file has two header lines');
  readUntrusted(bytes.subarray(0, first).toString('utf8'));
  const s = decodeEdStruct(bytes.subarray(first + 1, second).toString('latin1'), 64);
  if (s.tag !== 'Ed') throw new EdStructError('not an Ed25519 signature');
  return { keynum: s.keynum, signature: s.payload, message: bytes.subarray(second + 1) };
}
