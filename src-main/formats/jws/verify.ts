/**
 * Checks a detached, unencoded-payload JWS (the `.jws` Keyroom writes) as RFC 7515 §5.2 and
 * RFC 7797 §3-§6 say: compact form with an empty payload part, a protected header with b64 false
 * and crit exactly ["b64"] (a crit naming anything else is not understood, so refused), the alg
 * of the key, a kid (when present) equal to the key's thumbprint, then the signature over
 * ASCII(header) || '.' || the file. The caller streams the file into createVerifyingHash().
 */
import { createHash, type Hash } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { ecdsaRsToDer } from '../ecdsaSignature';
import type { FormatKeySpec } from '../keySpec';
import { ecFieldBytes } from '../publicKey';
import { verifySigned } from '../verifySigned';
import { jwsAlgorithmFor, JWS_SIGNING } from './algorithms';
import { JWS_EDDSA_MAX_PAYLOAD_BYTES, signingInputPrefix } from './detached';
import { publicJwk } from './jwk';

export interface ParsedDetachedJws {
  encodedHeader: string;
  alg: string;
  kid?: string;
  prefix: Buffer;
  signature: Buffer;
}

function refuse(why: string): never {
  throw new KmsError('InvalidParameter', `The JWS is not a detached unencoded-payload JWS Keyroom can check: ${why}.`);
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Node decodes base64url leniently (a stray last character is dropped): only the canonical text is read. */
function canonicalBase64url(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : refuse('the signature is not canonical base64url');
}

export function parseDetachedJws(token: string): ParsedDetachedJws {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts[1] !== '') return refuse('it needs three parts with the payload part empty');
  const [encodedHeader, , encodedSignature] = parts as [string, string, string];
  if (!B64URL.test(encodedHeader) || !B64URL.test(encodedSignature)) return refuse('a part is not base64url');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  } catch {
    return refuse('the header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return refuse('the header is not an object');
  const h = header as Record<string, unknown>;
  if (h.b64 !== false) return refuse('b64 is not false');
  if (!Array.isArray(h.crit) || h.crit.length !== 1 || h.crit[0] !== 'b64') return refuse('crit is not ["b64"]');
  if (typeof h.alg !== 'string') return refuse('alg is missing');
  if (h.kid !== undefined && typeof h.kid !== 'string') return refuse('kid is not a string');
  return {
    encodedHeader,
    alg: h.alg,
    ...(typeof h.kid === 'string' ? { kid: h.kid } : {}),
    prefix: signingInputPrefix(encodedHeader),
    signature: canonicalBase64url(encodedSignature),
  };
}

/** A hash fed with the signing-input prefix, or undefined for EdDSA (pass the file's bytes). */
export function createVerifyingHash(parsed: ParsedDetachedJws, keySpec: FormatKeySpec): Hash | undefined {
  const digest = JWS_SIGNING[jwsAlgorithmFor(keySpec)];
  return digest === 'message' ? undefined : createHash(digest).update(parsed.prefix);
}

export type JwsVerdict = { valid: true } | { valid: false; reason: string };

export interface VerifyDetachedJwsInput {
  parsed: ParsedDetachedJws;
  keySpec: FormatKeySpec;
  spki: Buffer;
  /** ES/PS: the hash from createVerifyingHash fed with the file (consumed). EdDSA: the file's bytes. */
  payload: { hash: Hash } | { bytes: Buffer };
}

export function verifyDetachedJws(input: VerifyDetachedJwsInput): JwsVerdict {
  const { parsed, keySpec, spki } = input;
  const alg = jwsAlgorithmFor(keySpec);
  if (parsed.alg !== alg) return { valid: false, reason: `alg is ${parsed.alg}, not ${alg} of a ${keySpec} key` };
  if (parsed.kid !== undefined && parsed.kid !== publicJwk(spki, keySpec).kid) return { valid: false, reason: 'kid names another key' };
  let input2: Buffer;
  if (JWS_SIGNING[alg] === 'message') {
    if (!('bytes' in input.payload)) return { valid: false, reason: 'EdDSA needs the file bytes' };
    if (input.payload.bytes.length > JWS_EDDSA_MAX_PAYLOAD_BYTES) return { valid: false, reason: 'the file is over the EdDSA limit' };
    input2 = Buffer.concat([parsed.prefix, input.payload.bytes]);
  } else {
    if (!('hash' in input.payload)) return { valid: false, reason: `${alg} needs the signing-input hash` };
    input2 = input.payload.hash.digest();
  }
  let signed = parsed.signature;
  if (keySpec === 'EC_P256' || keySpec === 'EC_P384') {
    const size = ecFieldBytes(keySpec);
    if (signed.length !== 2 * size) return { valid: false, reason: `an ${alg} signature is ${2 * size} octets (RFC 7518 §3.4)` };
    signed = ecdsaRsToDer(signed.subarray(0, size), signed.subarray(size));
  }
  return verifySigned(keySpec, spki, input2, signed, 'PSS') ? { valid: true } : { valid: false, reason: 'bad signature' };
}
