/**
 * SSH signatures as `ssh-keygen -Y sign` writes them (openssh-portable PROTOCOL.sshsig, sshsig.c;
 * reference note §2): the key signs a short blob naming the namespace and the file's hash, never
 * the file. Keys and signature blobs per RFC 8709 (ssh-ed25519), RFC 5656 (ecdsa-sha2-nistp256/384,
 * r and s as mpints) and RFC 8332 (rsa-sha2-512). Bytes only: the caller's key does the signing.
 */
import { WireError, WireReader, sshMpint, sshString } from './wire';

export type SshKey =
  | { kind: 'ed25519'; pk: Buffer }
  | { kind: 'ecdsa'; curve: 'nistp256' | 'nistp384'; point: Buffer }
  | { kind: 'rsa'; n: Buffer; e: Buffer };

export type SshHashAlg = 'sha256' | 'sha512';

const MAGIC = Buffer.from('SSHSIG', 'ascii');
const VERSION = 1;
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
/** OpenSSH wraps at 70 columns (sshbuf_dtob64). */
const WRAP = 70;

export function sshKeyType(key: SshKey): string {
  if (key.kind === 'ed25519') return 'ssh-ed25519';
  if (key.kind === 'ecdsa') return `ecdsa-sha2-${key.curve}`;
  return 'ssh-rsa';
}

export function sshPublicKeyBlob(key: SshKey): Buffer {
  if (key.kind === 'ed25519') return Buffer.concat([sshString('ssh-ed25519'), sshString(key.pk)]);
  if (key.kind === 'ecdsa') return Buffer.concat([sshString(sshKeyType(key)), sshString(key.curve), sshString(key.point)]);
  return Buffer.concat([sshString('ssh-rsa'), sshMpint(key.e), sshMpint(key.n)]);
}

/** One `authorized_keys`-style line: `type base64 comment`. */
export function sshPublicKeyLine(key: SshKey, comment: string): string {
  return `${sshKeyType(key)} ${sshPublicKeyBlob(key).toString('base64')} ${comment}\n`;
}

/** An `allowed_signers` line for `ssh-keygen -Y verify -f`: principal, the namespace it may sign, the key. */
export function allowedSignersLine(principal: string, namespace: string, key: SshKey): string {
  return `${principal} namespaces="${namespace}" ${sshKeyType(key)} ${sshPublicKeyBlob(key).toString('base64')}\n`;
}

/** What the key signs (after its own hash, for ECDSA and RSA): "SSHSIG" || namespace || reserved || hashalg || H(file). */
export function sshsigSignedData(namespace: string, hashAlg: SshHashAlg, fileDigest: Uint8Array): Buffer {
  return Buffer.concat([MAGIC, sshString(namespace), sshString(''), sshString(hashAlg), sshString(fileDigest)]);
}

/**
 * The signature blob: ssh-ed25519 with R||S (64 bytes, leading zeros kept: it is a string, not
 * an mpint), ecdsa with mpint r || mpint s inside a string, rsa-sha2-512 with the k-byte value.
 */
export function sshSignatureBlob(key: SshKey, signature: { ed25519: Buffer } | { r: Buffer; s: Buffer } | { rsa: Buffer }): Buffer {
  if (key.kind === 'ed25519' && 'ed25519' in signature) return Buffer.concat([sshString('ssh-ed25519'), sshString(signature.ed25519)]);
  if (key.kind === 'ecdsa' && 'r' in signature) return Buffer.concat([sshString(sshKeyType(key)), sshString(Buffer.concat([sshMpint(signature.r), sshMpint(signature.s)]))]);
  if (key.kind === 'rsa' && 'rsa' in signature) return Buffer.concat([sshString('rsa-sha2-512'), sshString(signature.rsa)]);
  throw new Error('signature kind does not match the key');
}

export function sshsigBlob(key: SshKey, namespace: string, hashAlg: SshHashAlg, signatureBlob: Buffer): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(VERSION);
  return Buffer.concat([MAGIC, version, sshString(sshPublicKeyBlob(key)), sshString(namespace), sshString(''), sshString(hashAlg), sshString(signatureBlob)]);
}

export function armorSshsig(blob: Buffer): string {
  const b64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += WRAP) lines.push(b64.slice(i, i + WRAP));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

export interface ParsedSshsig {
  publicKey: Buffer;
  namespace: string;
  hashAlg: SshHashAlg;
  /** The signature's algorithm name (ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-512, ...). */
  sigType: string;
  /** ssh-ed25519 / rsa: the raw bytes; ecdsa: the inner blob (mpint r, mpint s). */
  sigBody: Buffer;
}

/** The armored file, read strictly; throws WireError saying what is wrong. */
export function parseSshsig(text: string): ParsedSshsig {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  if (lines[0] !== BEGIN || lines[lines.length - 1] !== END) throw new WireError('not an SSH SIGNATURE armor');
  const b64 = lines.slice(1, -1).join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new WireError('bad base64');
  const blob = Buffer.from(b64, 'base64');
  const r = new WireReader(blob);
  if (!r.raw(6).equals(MAGIC)) throw new WireError('bad magic');
  if (r.uint32() !== VERSION) throw new WireError('unsupported version');
  const publicKey = r.string();
  const namespace = r.text();
  if (r.string().length !== 0) throw new WireError('reserved field not empty');
  const hashAlg = r.text();
  if (hashAlg !== 'sha256' && hashAlg !== 'sha512') throw new WireError(`hash algorithm ${hashAlg} is not sha256 or sha512`);
  const sig = new WireReader(r.string());
  r.end();
  const sigType = sig.text();
  const sigBody = sig.string();
  sig.end();
  return { publicKey, namespace, hashAlg, sigType, sigBody };
}

/** r and s of an ecdsa signature body, each a strictly minimal positive mpint, nothing after. */
export function parseEcdsaSigBody(body: Buffer): { r: Buffer; s: Buffer } {
  const rd = new WireReader(body);
  const r = rd.positiveMpint();
  const s = rd.positiveMpint();
  rd.end();
  return { r, s };
}

export { WireError };
