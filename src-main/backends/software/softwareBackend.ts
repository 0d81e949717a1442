/**
 * ProtectionLevel SOFTWARE: the material is sealed in the SQLCipher keystore and used in this
 * process with Node's crypto (OpenSSL), @noble/curves where Node cannot take a digest, and real
 * SM2/SM4. Every secret copy made here is zeroed before returning. Under Electron, Node's crypto
 * is BoringSSL: what it lacks (SM3, SM4, secp256k1, SM2 keys) the crypto modules replace with JS,
 * chosen once at load by probing (see sm3.ts, sm4.ts, ecies.ts, ecKeys.ts).
 */
import { createCipheriv, createDecipheriv, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import {
  KEY_SPEC_INFO,
  MAC_DIGEST,
  type KeySpec,
  type MacAlgorithm,
  type EncryptionAlgorithm,
} from '../../../src-shared/domain/keySpecs';
import type { BackendSigningAlgorithm, ExportWrapRequest, KeyBackend, NewMaterial, SealedBox, StoredVersion, WrappedMaterial } from '../backend';
import { materialInForm, wrapMaterial } from '../../crypto/byokLayouts';
import { secretCheckValue } from '../../crypto/keyCheckValue';
import { ecScalarFromPkcs8 } from '../../crypto/keyEncoding';
import { generateEcKeyPair } from '../../crypto/ecKeys';
import { rsaSignDigest, rsaOaepDecrypt } from '../../crypto/rsa';
import { ecdsaSignDigest } from '../../crypto/ecdsa';
import { eciesDecrypt } from '../../crypto/ecies';
import { sm2SignDigest, sm2Decrypt } from '../../crypto/sm2';
import { sm4GcmEncrypt, sm4GcmDecrypt } from '../../crypto/sm4gcm';
import { wipe } from '../../crypto/wipe';
import { ed25519Sign, generateEd25519 } from '../../crypto/ed25519';

function materialOf(v: StoredVersion): Buffer {
  if (!v.material) throw new KmsError('Rejected.KeyState', 'This key version has no key material (import it first).');
  return v.material;
}

function generateAsymmetric(spec: KeySpec): NewMaterial {
  const info = KEY_SPEC_INFO[spec];
  if (info.family === 'ED25519') {
    const { pkcs8, spki } = generateEd25519();
    return { material: pkcs8, publicKey: spki, hsmObjectId: null };
  }
  if (info.family !== 'RSA') {
    const { pkcs8, spki } = generateEcKeyPair(info.curve!);
    return { material: pkcs8, publicKey: spki, hsmObjectId: null };
  }
  const pair = generateKeyPairSync('rsa', { modulusLength: info.modulusBits!, publicExponent: 0x10001 });
  return {
    material: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    publicKey: pair.publicKey.export({ format: 'der', type: 'spki' }),
    hsmObjectId: null,
  };
}

export class SoftwareBackend implements KeyBackend {
  async generate(spec: KeySpec): Promise<NewMaterial> {
    const info = KEY_SPEC_INFO[spec];
    if (info.secretBytes) return { material: randomBytes(info.secretBytes), publicKey: null, hsmObjectId: null };
    return generateAsymmetric(spec);
  }

  async symmetricEncrypt(v: StoredVersion, iv: Buffer, plaintext: Uint8Array, aad: Buffer): Promise<SealedBox> {
    const key = materialOf(v);
    if (KEY_SPEC_INFO[v.keySpec].symmetricAlgorithm === 'SM4_GCM') return sm4GcmEncrypt(key, iv, plaintext, aad);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext, tag: cipher.getAuthTag() };
  }

  async symmetricDecrypt(v: StoredVersion, iv: Buffer, box: SealedBox, aad: Buffer): Promise<Buffer> {
    const key = materialOf(v);
    if (KEY_SPEC_INFO[v.keySpec].symmetricAlgorithm === 'SM4_GCM') return sm4GcmDecrypt(key, iv, box.ciphertext, box.tag, aad);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(aad);
    decipher.setAuthTag(box.tag);
    const out = decipher.update(box.ciphertext);
    try {
      return Buffer.concat([out, decipher.final()]);
    } catch {
      throw new KmsError('InvalidCiphertext', 'The ciphertext failed authentication: it was altered, or the EncryptionContext differs.');
    } finally {
      wipe(out);
    }
  }

  async mac(v: StoredVersion, algorithm: MacAlgorithm, message: Uint8Array): Promise<Buffer> {
    return createHmac(MAC_DIGEST[algorithm], materialOf(v)).update(message).digest();
  }

  /** `digest` is the message itself for ED25519 (pure Ed25519 signs the message). */
  async sign(v: StoredVersion, algorithm: BackendSigningAlgorithm, digest: Uint8Array): Promise<Buffer> {
    const pkcs8 = materialOf(v);
    const info = KEY_SPEC_INFO[v.keySpec];
    switch (algorithm) {
      case 'RSA_PSS_SHA_256':
        return rsaSignDigest(pkcs8, 'PSS', digest);
      case 'RSA_PKCS1_SHA_256':
        return rsaSignDigest(pkcs8, 'PKCS1', digest);
      case 'RSA_PKCS1_SHA_512':
        if (info.family !== 'RSA') throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit ${v.keySpec}.`);
        return rsaSignDigest(pkcs8, 'PKCS1', digest, 'sha512');
      case 'ECDSA_SHA_256':
      case 'ECDSA_SHA_384':
        if (info.curve === 'SM2' || !info.curve) throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit ${v.keySpec}.`);
        return ecdsaSignDigest(info.curve, pkcs8, digest);
      case 'SM2DSA': {
        const d = ecScalarFromPkcs8(pkcs8, 32);
        try {
          return sm2SignDigest(d, digest);
        } finally {
          wipe(d);
        }
      }
      case 'ED25519':
        if (info.family !== 'ED25519') throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit ${v.keySpec}.`);
        return ed25519Sign(pkcs8, digest);
      default: {
        const never: never = algorithm;
        throw new KmsError('Rejected.Algorithm', `Unknown algorithm ${String(never)}.`);
      }
    }
  }

  async asymmetricDecrypt(v: StoredVersion, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array): Promise<Buffer> {
    const pkcs8 = materialOf(v);
    const info = KEY_SPEC_INFO[v.keySpec];
    switch (algorithm) {
      case 'RSAES_OAEP_SHA_256':
        return rsaOaepDecrypt(pkcs8, 'sha256', ciphertext);
      case 'RSAES_OAEP_SHA_1':
        return rsaOaepDecrypt(pkcs8, 'sha1', ciphertext);
      case 'ECIES_DH_SHA_1_XOR_HMAC': {
        if (info.curve !== 'prime256v1' && info.curve !== 'secp256k1') {
          throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit ${v.keySpec}.`);
        }
        const d = ecScalarFromPkcs8(pkcs8, 32);
        try {
          return eciesDecrypt(info.curve, d, ciphertext);
        } finally {
          wipe(d);
        }
      }
      case 'SM2PKE': {
        const d = ecScalarFromPkcs8(pkcs8, 32);
        try {
          return sm2Decrypt(d, ciphertext);
        } finally {
          wipe(d);
        }
      }
      default: {
        const never: never = algorithm;
        throw new KmsError('Rejected.Algorithm', `Unknown algorithm ${String(never)}.`);
      }
    }
  }

  /** The service has checked the key is Exportable; here the material only changes form and is wrapped. */
  async wrapForExport(v: StoredVersion, request: ExportWrapRequest): Promise<WrappedMaterial> {
    const material = materialInForm(request, materialOf(v));
    try {
      return wrapMaterial(request, material);
    } finally {
      wipe(material);
    }
  }

  async keyCheckValue(v: StoredVersion): Promise<Buffer> {
    return secretCheckValue(v.keySpec, materialOf(v));
  }

  async destroy(): Promise<void> {
    // Nothing outside the keystore: deleting the rows (secure_delete on) destroys the material.
  }
}
