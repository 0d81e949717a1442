/**
 * A key backend holds or reaches the secret half of key versions. It is chosen per key by its
 * ProtectionLevel; services never branch on it beyond picking it. Public-key operations
 * (verify, asymmetric encrypt, GetPublicKey) need no backend: see crypto/publicKeyOps.ts.
 */
import type { KeySpec, KeyUsage, MacAlgorithm, SigningAlgorithm, EncryptionAlgorithm } from '../../src-shared/domain/keySpecs';

/**
 * What a backend signs with: the KMS algorithms, and RSASSA-PKCS1-v1_5 over a SHA-512 digest, which
 * no KMS operation offers but a release format needs (SSHSIG's rsa-sha2-512). Services choose it only
 * for an RSA key whose own algorithms are allowed.
 */
export type BackendSigningAlgorithm = SigningAlgorithm | 'RSA_PKCS1_SHA_512';

/** What the keystore holds for one key version. */
export interface StoredVersion {
  keyId: string;
  keyVersionId: string;
  keySpec: KeySpec;
  /** SOFTWARE: raw secret (symmetric, HMAC) or PKCS#8 DER (asymmetric). Null when not imported yet. */
  material: Buffer | null;
  /** SubjectPublicKeyInfo DER for asymmetric versions. */
  publicKey: Buffer | null;
  /** HSM: the CKA_ID linking the token objects to this version. */
  hsmObjectId: Buffer | null;
  /** HSM: the serial of the token that holds them (absent token: Hsm.TokenNotPresent). */
  tokenSerial?: string | null;
}

export interface NewMaterial {
  material: Buffer | null;
  publicKey: Buffer | null;
  hsmObjectId: Buffer | null;
  /** HSM: the serial number of the token that holds the objects (recorded on the key). */
  tokenSerial?: string | null;
}

export interface SealedBox {
  ciphertext: Buffer;
  tag: Buffer;
}

// The BYOK request and result belong to the layouts (crypto/byokLayouts.ts), the bottom layer.
export type { ExportWrapRequest, WrappedMaterial } from '../crypto/byokLayouts';
import type { ExportWrapRequest, WrappedMaterial } from '../crypto/byokLayouts';

/** One key object Keyroom made on a token, as the token describes it (no secret attribute is read). */
export interface KeyroomTokenObject {
  /** CKA_ID: what the keystore's key_versions.hsm_object_id holds. */
  objectId: Buffer;
  label: string;
  objectClass: 'private' | 'public' | 'secret';
  /** From a label of the form keyroom/<KeyId>/<KeyVersionId>. */
  keyId?: string;
  keyVersionId?: string;
}

export interface KeyBackend {
  /** `usage` lets a token set only the usage flags (CKA_SIGN, CKA_DECRYPT...) the key needs. */
  generate(spec: KeySpec, opts: { exportable: boolean; keyId: string; keyVersionId: string; usage: KeyUsage }): Promise<NewMaterial>;
  symmetricEncrypt(v: StoredVersion, iv: Buffer, plaintext: Uint8Array, aad: Buffer): Promise<SealedBox>;
  /** Throws KmsError('InvalidCiphertext') when the tag does not match. */
  symmetricDecrypt(v: StoredVersion, iv: Buffer, box: SealedBox, aad: Buffer): Promise<Buffer>;
  mac(v: StoredVersion, algorithm: MacAlgorithm, message: Uint8Array): Promise<Buffer>;
  /** `digest` is the digest the algorithm names, or for ED25519 (pure EdDSA) the message itself. */
  sign(v: StoredVersion, algorithm: BackendSigningAlgorithm, digest: Uint8Array): Promise<Buffer>;
  asymmetricDecrypt(v: StoredVersion, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array): Promise<Buffer>;
  /**
   * Outbound BYOK: the version's material wrapped under a cloud's public key. It never exists in
   * plaintext outside the backend (an HSM wraps inside the token with C_WrapKey). Refuses with
   * Rejected.NotExportable for material that was not made exportable, and Hsm.MechanismUnsupported
   * where the token cannot make the layout.
   */
  wrapForExport(v: StoredVersion, request: ExportWrapRequest): Promise<WrappedMaterial>;
  /**
   * The key check value of symmetric and HMAC material, 3 bytes: the block cipher on one zero
   * block (AES, SM4), or HMAC(material, 16 zero bytes) with the key's own hash (HMAC).
   */
  keyCheckValue(v: StoredVersion): Promise<Buffer>;
  /** Destroy whatever lives outside the keystore (token objects); the keystore rows go with the key. */
  destroy(v: StoredVersion): Promise<void>;
  /**
   * Token backends only: the key objects Keyroom made on the device (label `keyroom/...`), to find
   * those no keystore row names (a crash between generating on the token and committing the row).
   */
  listKeyroomObjects?(): Promise<{ token: { label: string; serial: string }; objects: KeyroomTokenObject[] }>;
  /** Token backends only: destroy the `keyroom/` key objects with this CKA_ID; returns what went. */
  destroyKeyroomObjects?(objectId: Buffer): Promise<KeyroomTokenObject[]>;
}
