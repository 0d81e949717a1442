/** JWS compact, detached, unencoded payload (RFC 7515, 7797) and its JWK (RFC 7517, 7518, 8037, 7638). */
export { jwsSigningInput, createSigningInputHash, signDetached, JWS_EDDSA_MAX_PAYLOAD_BYTES, type JwsSigningInput, type DetachedJwsInput } from './detached';
export { publicJwk, publicJwkJson, jwkThumbprint, type PublicJwk } from './jwk';
export { jwsAlgorithmFor, JWS_KEY_SPECS, type JwsAlgorithm } from './algorithms';
export { parseDetachedJws, createVerifyingHash, verifyDetachedJws, type ParsedDetachedJws, type JwsVerdict } from './verify';
