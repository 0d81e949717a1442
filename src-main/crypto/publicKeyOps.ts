/**
 * Operations that need only a version's public key (SPKI DER), whatever its backend.
 */
import { KmsError } from '../../src-shared/errors';
import { KEY_SPEC_INFO, type KeySpec, type SigningAlgorithm, type EncryptionAlgorithm } from '../../src-shared/domain/keySpecs';
import { spkiKeyObject, ecPointFromSpki } from './keyEncoding';
import { rsaVerifyDigest, rsaOaepEncrypt, rsaPublicKeyOf } from './rsa';
import { ecdsaVerifyDigest } from './ecdsa';
import { eciesEncrypt } from './ecies';
import { sm2VerifyDigest, sm2Encrypt } from './sm2';
import { ed25519Verify } from './ed25519';

/** `digest` is the message itself for ED25519. */
export function verifyDigest(spec: KeySpec, spki: Uint8Array, algorithm: SigningAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  const info = KEY_SPEC_INFO[spec];
  switch (algorithm) {
    case 'RSA_PSS_SHA_256':
      return rsaVerifyDigest(rsaPublicKeyOf(spki), 'PSS', digest, signature);
    case 'RSA_PKCS1_SHA_256':
      return rsaVerifyDigest(rsaPublicKeyOf(spki), 'PKCS1', digest, signature);
    case 'ECDSA_SHA_256':
    case 'ECDSA_SHA_384':
      if (info.curve === 'SM2' || !info.curve) throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit ${spec}.`);
      return ecdsaVerifyDigest(info.curve, spki, digest, signature);
    case 'SM2DSA':
      return sm2VerifyDigest(ecPointFromSpki(spki), digest, signature);
    case 'ED25519':
      if (info.family !== 'ED25519') throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit ${spec}.`);
      return ed25519Verify(spki, digest, signature);
    default: {
      const never: never = algorithm;
      throw new KmsError('Rejected.Algorithm', `Unknown algorithm ${String(never)}.`);
    }
  }
}

export function encryptWithPublicKey(spec: KeySpec, spki: Uint8Array, algorithm: EncryptionAlgorithm, plaintext: Uint8Array): Buffer {
  const info = KEY_SPEC_INFO[spec];
  switch (algorithm) {
    case 'RSAES_OAEP_SHA_256':
      return rsaOaepEncrypt(spkiKeyObject(spki), 'sha256', plaintext);
    case 'RSAES_OAEP_SHA_1':
      return rsaOaepEncrypt(spkiKeyObject(spki), 'sha1', plaintext);
    case 'ECIES_DH_SHA_1_XOR_HMAC':
      if (info.curve !== 'prime256v1' && info.curve !== 'secp256k1') {
        throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit ${spec}.`);
      }
      return eciesEncrypt(info.curve, ecPointFromSpki(spki), plaintext);
    case 'SM2PKE':
      return sm2Encrypt(ecPointFromSpki(spki), plaintext, 'der');
    default: {
      const never: never = algorithm;
      throw new KmsError('Rejected.Algorithm', `Unknown algorithm ${String(never)}.`);
    }
  }
}

/** Largest plaintext each algorithm takes for a key of this spec. */
export function maxAsymmetricPlaintext(spec: KeySpec, algorithm: EncryptionAlgorithm): number {
  const bits = KEY_SPEC_INFO[spec].modulusBits ?? 0;
  switch (algorithm) {
    case 'RSAES_OAEP_SHA_256':
      return bits / 8 - 2 * 32 - 2;
    case 'RSAES_OAEP_SHA_1':
      return bits / 8 - 2 * 20 - 2;
    case 'ECIES_DH_SHA_1_XOR_HMAC':
    case 'SM2PKE':
      return 4096;
    default: {
      const never: never = algorithm;
      return never;
    }
  }
}
