/**
 * The public key as a JWK (RFC 7517 §4): RSA n/e and EC crv/x/y (RFC 7518 §6.2-6.3), Ed25519 as
 * OKP crv/x (RFC 8037 §2). `kid` is the RFC 7638 thumbprint: base64url(SHA-256) of the required
 * members only, in lexicographic order, with no whitespace (RFC 7638 §3.2-3.3).
 */
import { createHash } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import type { FormatKeySpec } from '../keySpec';
import { publicKeyNumbers } from '../publicKey';
import { base64url } from './base64url';
import { jwsAlgorithmFor, type JwsAlgorithm } from './algorithms';

export type PublicJwkMembers =
  | { kty: 'RSA'; n: string; e: string }
  | { kty: 'EC'; crv: 'P-256' | 'P-384'; x: string; y: string }
  | { kty: 'OKP'; crv: 'Ed25519'; x: string };

export type PublicJwk = PublicJwkMembers & { kid: string; use: 'sig'; alg: JwsAlgorithm };

/** The RFC 7638 §3.2 canonical form: required members, sorted, compact. */
export function jwkThumbprint(jwk: PublicJwkMembers): string {
  const required =
    jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
    : jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return base64url(createHash('sha256').update(JSON.stringify(required)).digest());
}

export function publicJwk(spki: Buffer, keySpec: FormatKeySpec): PublicJwk {
  const alg = jwsAlgorithmFor(keySpec);
  const numbers = publicKeyNumbers(spki, keySpec);
  let members: PublicJwkMembers;
  if (numbers.kind === 'rsa') members = { kty: 'RSA', n: base64url(numbers.n), e: base64url(numbers.e) };
  else if (numbers.kind === 'ed25519') members = { kty: 'OKP', crv: 'Ed25519', x: base64url(numbers.key) };
  else if (numbers.curve === 'P-256' || numbers.curve === 'P-384') members = { kty: 'EC', crv: numbers.curve, x: base64url(numbers.x), y: base64url(numbers.y) };
  else throw new KmsError('Rejected.KeySpec', 'JWS takes RSA, EC_P256, EC_P384 and ED25519 keys.');
  return { ...members, kid: jwkThumbprint(members), use: 'sig', alg };
}

/** The `.jwk.json` text: one JWK, pretty-printed, newline-terminated. */
export function publicJwkJson(spki: Buffer, keySpec: FormatKeySpec): string {
  return `${JSON.stringify(publicJwk(spki, keySpec), null, 2)}\n`;
}
