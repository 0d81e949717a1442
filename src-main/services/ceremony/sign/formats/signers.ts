/**
 * What each format asks the key for (formats/keySpec.ts's Signer contract): the backend algorithm
 * for a key spec, and the format modules' one-argument Signer over a KeySigner.
 */
import { KmsError } from '../../../../../src-shared/errors';
import type { KeySpec } from '../../../../../src-shared/domain/keySpecs';
import type { BackendSigningAlgorithm } from '../../../../backends/backend';
import type { FormatKeySpec, Signer } from '../../../../formats/keySpec';
import type { FormatKey, KeySigner } from './format';

const FORMAT_SPECS: readonly string[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P256K', 'EC_P384', 'ED25519'];

export function formatKeySpec(spec: KeySpec): FormatKeySpec {
  if (!FORMAT_SPECS.includes(spec)) throw new KmsError('Rejected.KeySpec', `A ${spec} key cannot sign release formats.`);
  return spec as FormatKeySpec;
}

/** RSA: PKCS#1 v1.5 (OpenPGP, cosign) or PSS (JWS PS256); EC: ECDSA over the digest; Ed25519: the message. */
export function keySigner(key: FormatKey, signer: KeySigner, rsa: 'PKCS1' | 'PSS'): Signer {
  const spec = formatKeySpec(key.spec);
  const algorithm: BackendSigningAlgorithm = spec.startsWith('RSA_') ? (rsa === 'PSS' ? 'RSA_PSS_SHA_256' : 'RSA_PKCS1_SHA_256') : spec === 'EC_P384' ? 'ECDSA_SHA_384' : spec === 'ED25519' ? 'ED25519' : 'ECDSA_SHA_256';
  return (input) => signer(algorithm, input);
}
