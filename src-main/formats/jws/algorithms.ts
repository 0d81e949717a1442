/**
 * The JWS algorithm of each key spec (RFC 7518 §3.1; RFC 8037 §3.1) and what the key is asked
 * to sign for it. secp256k1 (ES256K, RFC 8812) is left out: the spec's table offers JWS for
 * P-256, P-384, RSA and Ed25519 only.
 */
import { KmsError } from '../../../src-shared/errors';
import type { FormatKeySpec } from '../keySpec';

export type JwsAlgorithm = 'ES256' | 'ES384' | 'PS256' | 'EdDSA';

/**
 * The hash of the signing input the key signs, or 'message' where the key must see the signing
 * input itself (EdDSA is pure Ed25519, RFC 8037 §3.1). PS256 is RSASSA-PSS with SHA-256, MGF1
 * with SHA-256 and a 32-octet salt (RFC 7518 §3.5): Keyroom's RSA_PSS_SHA_256 exactly.
 */
export const JWS_SIGNING: Readonly<Record<JwsAlgorithm, 'sha256' | 'sha384' | 'message'>> = {
  ES256: 'sha256',
  ES384: 'sha384',
  PS256: 'sha256',
  EdDSA: 'message',
};

export const JWS_KEY_SPECS: readonly FormatKeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384', 'ED25519'];

export function jwsAlgorithmFor(spec: FormatKeySpec): JwsAlgorithm {
  switch (spec) {
    case 'EC_P256':
      return 'ES256';
    case 'EC_P384':
      return 'ES384';
    case 'ED25519':
      return 'EdDSA';
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return 'PS256';
    case 'EC_P256K':
      throw new KmsError('Rejected.KeySpec', `JWS does not take ${spec} keys here; it takes ${JWS_KEY_SPECS.join(', ')}.`);
  }
}
