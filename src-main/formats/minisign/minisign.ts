/**
 * minisign (jedisct1/minisign src/minisign.c; reference note §3): the prehashed "ED" form only.
 * The key signs BLAKE2b-512(file) (64 bytes), then the global signature over sig || trusted
 * comment. The key number is 8 bytes; minisign prints it read little-endian as 16 hex digits.
 */
import { EdStructError, decodeEdStruct, edStructLine, oneLine, readUntrusted, untrustedComment } from './edStruct';

const TRUSTED = 'trusted comment: ';

/** The key id as minisign prints it: the 8 key-number bytes read little-endian, uppercase hex. */
export function minisignKeyIdText(keynum: Uint8Array): string {
  return Buffer.from(keynum).reverse().toString('hex').toUpperCase();
}

export function minisignPublicKeyFile(keynum: Uint8Array, pk: Uint8Array): string {
  return `${untrustedComment(`minisign public key ${minisignKeyIdText(keynum)}`)}${edStructLine('Ed', keynum, pk)}\n`;
}

/** minisign's default trusted comment (default_trusted_comment): time, file name, "hashed". */
export function minisignTrustedComment(unixSeconds: number, fileName: string): string {
  return oneLine(`timestamp:${unixSeconds}\tfile:${fileName}\thashed`);
}

/** What the key signs second: the first signature followed by the trusted comment's text. */
export function minisignGlobalInput(signature: Uint8Array, trustedComment: string): Buffer {
  return Buffer.concat([signature, Buffer.from(oneLine(trustedComment), 'utf8')]);
}

export function minisignSignatureFile(untrusted: string, keynum: Uint8Array, signature: Uint8Array, trustedComment: string, globalSignature: Uint8Array): string {
  return `${untrustedComment(untrusted)}${edStructLine('ED', keynum, signature)}\n${TRUSTED}${oneLine(trustedComment)}\n${Buffer.from(globalSignature).toString('base64')}\n`;
}

export function parseMinisignPublicKey(text: string): { keynum: Buffer; pk: Buffer } {
  const lines = text.split('\n');
  if (lines.length !== 3 || lines[2] !== '') throw new EdStructError('a minisign public key file is two lines');
  readUntrusted(lines[0]);
  const s = decodeEdStruct(lines[1]!, 32);
  if (s.tag !== 'Ed') throw new EdStructError('not an Ed25519 public key');
  return { keynum: s.keynum, pk: s.payload };
}

export interface ParsedMinisig {
  keynum: Buffer;
  signature: Buffer;
  trustedComment: string;
  globalSignature: Buffer;
}

/** A `.minisig`, strictly: four lines, "ED" (prehashed; legacy "Ed" is refused, as `minisign -H` does). */
export function parseMinisig(text: string): ParsedMinisig {
  const lines = text.split('\n');
  if (lines.length !== 5 || lines[4] !== '') throw new EdStructError('a .minisig file is four lines');
  readUntrusted(lines[0]);
  const s = decodeEdStruct(lines[1]!, 64);
  if (s.tag !== 'ED') throw new EdStructError(s.tag === 'Ed' ? 'a legacy (not prehashed) signature; Keyroom checks prehashed "ED" signatures only' : 'unknown signature algorithm');
  if (!lines[2]!.startsWith(TRUSTED)) throw new EdStructError('the third line is not "trusted comment: ..."');
  const trustedComment = oneLine(lines[2]!.slice(TRUSTED.length));
  const g = lines[3]!;
  const globalSignature = Buffer.from(g, 'base64');
  if (globalSignature.length !== 64 || globalSignature.toString('base64') !== g) throw new EdStructError('the global signature is not 64 bytes of canonical base64');
  return { keynum: s.keynum, signature: s.payload, trustedComment, globalSignature };
}
