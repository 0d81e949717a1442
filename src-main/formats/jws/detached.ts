/**
 * JWS compact serialization with a detached, unencoded payload (RFC 7515 §7.1 and Appendix F;
 * RFC 7797 §3, §5). The protected header is {"alg":..,"kid":..,"b64":false,"crit":["b64"]} (the
 * crit entry is mandatory with b64:false, RFC 7797 §6). The signing input is
 * ASCII(BASE64URL(header)) || '.' || the file's bytes, not base64: so the key signs over the
 * whole file. For ES256/ES384/PS256 the caller streams the file into a hash that starts with the
 * prefix; for EdDSA the key must see the whole signing input, so the payload is capped like raw
 * Ed25519 (64 MiB). The token is BASE64URL(header) || '..' || BASE64URL(signature).
 *
 * To check it with a JOSE library, pass the file as the detached payload with b64 false; see the
 * WebCrypto verifier in test/integration/formats/jws.test.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { ecdsaDerToP1363 } from '../ecdsaSignature';
import type { FormatKeySpec, Signer } from '../keySpec';
import { ecFieldBytes } from '../publicKey';
import { assertSigned } from '../verifySigned';
import { jwsAlgorithmFor, JWS_SIGNING, type JwsAlgorithm } from './algorithms';
import { base64url } from './base64url';
import { publicJwk } from './jwk';

/** Pure Ed25519 over the whole file: the same cap as a raw Ed25519 signature. */
export const JWS_EDDSA_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export interface JwsProtectedHeader {
  alg: string;
  kid?: string;
  b64: false;
  crit: ['b64'];
}

/** BASE64URL(UTF8(JSON)) of a header, members in the order given (RFC 7515 §5.1 step 3-4). */
export function encodeProtectedHeader(header: JwsProtectedHeader): string {
  return base64url(JSON.stringify(header));
}

/** ASCII(encoded header) || '.': what precedes the payload in the signing input (RFC 7797 §3). */
export function signingInputPrefix(encodedHeader: string): Buffer {
  return Buffer.from(`${encodedHeader}.`, 'ascii');
}

export interface JwsSigningInput {
  alg: JwsAlgorithm;
  encodedHeader: string;
  prefix: Buffer;
  /** The hash to stream `prefix || file` into, or 'message' (EdDSA: pass the file itself). */
  digest: 'sha256' | 'sha384' | 'message';
}

/** The header and signing-input prefix for a key (kid: its RFC 7638 thumbprint). */
export function jwsSigningInput(spki: Buffer, keySpec: FormatKeySpec): JwsSigningInput {
  const alg = jwsAlgorithmFor(keySpec);
  const encodedHeader = encodeProtectedHeader({ alg, kid: publicJwk(spki, keySpec).kid, b64: false, crit: ['b64'] });
  return { alg, encodedHeader, prefix: signingInputPrefix(encodedHeader), digest: JWS_SIGNING[alg] };
}

/** A hash of the algorithm's digest, already fed with the prefix: stream the file into it. */
export function createSigningInputHash(input: JwsSigningInput): Hash {
  if (input.digest === 'message') throw new KmsError('Internal', 'EdDSA JWS signs the signing input itself, not a hash of it.');
  return createHash(input.digest).update(input.prefix);
}

export interface DetachedJwsInput {
  keySpec: FormatKeySpec;
  spki: Buffer;
  signingInput: JwsSigningInput;
  /** ES/PS: the hash from createSigningInputHash, fed with the file (consumed). EdDSA: the file's bytes. */
  payload: { hash: Hash } | { bytes: Buffer };
  /** EC: digest -> DER; RSA: digest -> RSASSA-PSS (RSA_PSS_SHA_256); Ed25519: message -> 64 octets. */
  sign: Signer;
}

function failed(why: string): never {
  throw new KmsError('Internal', `The key returned ${why}; nothing was written.`);
}

/** The `.jws` text (compact, detached; no trailing newline, as RFC 7515 §7.1 has none). */
export async function signDetached(input: DetachedJwsInput): Promise<string> {
  const { signingInput, keySpec } = input;
  if (signingInput.alg !== jwsAlgorithmFor(keySpec)) throw new KmsError('Internal', `A ${keySpec} key does not sign JWS ${signingInput.alg}.`);
  let toSign: Buffer;
  if (signingInput.digest === 'message') {
    if (!('bytes' in input.payload)) throw new KmsError('Internal', 'EdDSA JWS needs the payload bytes.');
    if (input.payload.bytes.length > JWS_EDDSA_MAX_PAYLOAD_BYTES) {
      throw new KmsError('InvalidParameter.InputFile', `An EdDSA JWS signs the whole file, and files over ${JWS_EDDSA_MAX_PAYLOAD_BYTES / 1024 / 1024} MiB are refused; use ES256, ES384 or PS256 keys, or another format, for larger files.`);
    }
    toSign = Buffer.concat([signingInput.prefix, input.payload.bytes]);
  } else {
    if (!('hash' in input.payload)) throw new KmsError('Internal', `${signingInput.alg} JWS needs the signing-input hash.`);
    toSign = input.payload.hash.digest();
  }
  const signed = await input.sign(toSign);
  let signature: Buffer;
  if (keySpec === 'EC_P256' || keySpec === 'EC_P384') signature = ecdsaDerToP1363(signed, ecFieldBytes(keySpec)); // RFC 7518 §3.4
  else if (keySpec === 'ED25519') signature = signed.length === 64 ? signed : failed('an Ed25519 signature that is not 64 octets');
  else signature = signed.length * 8 === Number(keySpec.slice(4)) ? signed : failed('an RSA signature of the wrong length');
  assertSigned(keySpec, input.spki, toSign, signed, 'PSS');
  return `${signingInput.encodedHeader}..${base64url(signature)}`;
}
