/**
 * An independent JWS verifier for the tests, written from RFC 7515 §5.2 and RFC 7797 §3-§6 with
 * Node's WebCrypto doing the cryptography (the JWK imported as is): compact form, detached
 * payload, b64:false understood through crit, and the algorithm of the key. It shares no code
 * with src-main/formats/jws.
 */
import { webcrypto } from 'node:crypto';

interface Jwk {
  kty: string;
  crv?: string;
  alg?: string;
  [member: string]: unknown;
}

const PARAMS: Readonly<Record<string, { importAs: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm; verifyAs: webcrypto.EcdsaParams | webcrypto.RsaPssParams | webcrypto.Algorithm }>> = {
  ES256: { importAs: { name: 'ECDSA', namedCurve: 'P-256' }, verifyAs: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { importAs: { name: 'ECDSA', namedCurve: 'P-384' }, verifyAs: { name: 'ECDSA', hash: 'SHA-384' } },
  PS256: { importAs: { name: 'RSA-PSS', hash: 'SHA-256' }, verifyAs: { name: 'RSA-PSS', saltLength: 32 } },
  EdDSA: { importAs: { name: 'Ed25519' }, verifyAs: { name: 'Ed25519' } },
};

/** Resolves true when `token` is a valid detached JWS of `payload` under `jwk`; throws on a malformed token. */
export async function verifyDetachedJws(token: string, jwk: Jwk, payload: Uint8Array): Promise<boolean> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] !== '') throw new Error('not a compact JWS with a detached payload');
  const [encodedHeader, , encodedSignature] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as { alg?: string; b64?: boolean; crit?: string[] };
  // RFC 7797 §6: a b64:false header must list b64 in crit; RFC 7515 §4.1.11: crit names only what we understand.
  if (header.b64 !== false || !Array.isArray(header.crit) || header.crit.join() !== 'b64') throw new Error('not an unencoded-payload JWS');
  const params = PARAMS[header.alg ?? ''];
  if (params === undefined || (jwk.alg !== undefined && jwk.alg !== header.alg)) throw new Error(`algorithm ${header.alg} does not fit the key`);
  const key = await webcrypto.subtle.importKey('jwk', jwk as webcrypto.JsonWebKey, params.importAs, false, ['verify']);
  const signingInput = Buffer.concat([Buffer.from(`${encodedHeader}.`, 'ascii'), payload]);
  return webcrypto.subtle.verify(params.verifyAs, key, Buffer.from(encodedSignature, 'base64url'), signingInput);
}
