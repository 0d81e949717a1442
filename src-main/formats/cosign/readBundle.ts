/**
 * Reads back a bundle of the one shape Keyroom writes (./bundle.ts), strictly: exact members,
 * the v0.3 media type, SHA2_256 and canonical base64. Anything else (tlog entries, certificates,
 * DSSE envelopes) is refused rather than half-checked; VerifyFile checks the signature itself.
 */
import { KmsError } from '../../../src-shared/errors';
import { SIGSTORE_BUNDLE_V03 } from './bundle';

function refuse(why: string): never {
  throw new KmsError('InvalidParameter', `The sigstore bundle is not one Keyroom can check: ${why}.`);
}

function object(value: unknown, where: string, members: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse(`${where} is not an object`);
  const keys = Object.keys(value).sort();
  if (keys.join() !== [...members].sort().join()) return refuse(`${where} has members ${keys.join(', ') || 'none'}, expected ${members.join(', ')}`);
  return value as Record<string, unknown>;
}

function base64(value: unknown, where: string): Buffer {
  if (typeof value !== 'string') return refuse(`${where} is not a string`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value || bytes.length === 0) return refuse(`${where} is not canonical base64`);
  return bytes;
}

export interface ReadBundle {
  hint: string;
  fileSha256: Buffer;
  signature: Buffer;
}

export function readMessageSignatureBundle(text: string): ReadBundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('it is not JSON');
  }
  const top = object(parsed, 'the bundle', ['mediaType', 'verificationMaterial', 'messageSignature']);
  if (top.mediaType !== SIGSTORE_BUNDLE_V03) return refuse(`mediaType is not ${SIGSTORE_BUNDLE_V03}`);
  const material = object(top.verificationMaterial, 'verificationMaterial', ['publicKey']);
  const publicKey = object(material.publicKey, 'verificationMaterial.publicKey', ['hint']);
  if (typeof publicKey.hint !== 'string') return refuse('the key hint is not a string');
  const message = object(top.messageSignature, 'messageSignature', ['messageDigest', 'signature']);
  const digest = object(message.messageDigest, 'messageSignature.messageDigest', ['algorithm', 'digest']);
  if (digest.algorithm !== 'SHA2_256') return refuse('the digest algorithm is not SHA2_256');
  const fileSha256 = base64(digest.digest, 'the digest');
  if (fileSha256.length !== 32) return refuse('the digest is not 32 octets');
  return { hint: publicKey.hint, fileSha256, signature: base64(message.signature, 'the signature') };
}
