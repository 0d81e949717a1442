/**
 * The key specs of kms.md as data: family, usages, protection levels and the algorithms each
 * usage allows. Services consult this table instead of branching on spec names.
 */
export const KEY_SPECS = [
  'AES_256',
  'SM4',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'EC_P256',
  'EC_P256K',
  'EC_P384',
  'EC_SM2',
  'ED25519',
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

/** The reference's alternative spellings, accepted on input and normalised. */
export const KEY_SPEC_ALIASES: Readonly<Record<string, KeySpec>> = {
  Aliyun_AES_256: 'AES_256',
  Aliyun_SM4: 'SM4',
};

export const KEY_USAGES = ['ENCRYPT/DECRYPT', 'SIGN/VERIFY', 'GENERATE/VERIFY_MAC'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const PROTECTION_LEVELS = ['SOFTWARE', 'HSM'] as const;
export type ProtectionLevel = (typeof PROTECTION_LEVELS)[number];

export const ORIGINS = ['Aliyun_KMS', 'EXTERNAL'] as const;
export type Origin = (typeof ORIGINS)[number];

export const KEY_STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport'] as const;
export type KeyState = (typeof KEY_STATES)[number];

export const SYMMETRIC_ALGORITHMS = ['AES_256_GCM', 'SM4_GCM'] as const;
export type SymmetricAlgorithm = (typeof SYMMETRIC_ALGORITHMS)[number];

export const ENCRYPTION_ALGORITHMS = [
  'RSAES_OAEP_SHA_256',
  'RSAES_OAEP_SHA_1',
  'ECIES_DH_SHA_1_XOR_HMAC',
  'SM2PKE',
] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];

export const SIGNING_ALGORITHMS = [
  'RSA_PSS_SHA_256',
  'RSA_PKCS1_SHA_256',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'SM2DSA',
  'ED25519',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
/** Pure Ed25519 (RFC 8032) signs the message itself; every other algorithm signs a digest. */
export type MessageSigningAlgorithm = 'ED25519';
export type DigestSigningAlgorithm = Exclude<SigningAlgorithm, MessageSigningAlgorithm>;

export function signsMessage(algorithm: SigningAlgorithm): algorithm is MessageSigningAlgorithm {
  return algorithm === 'ED25519';
}

/** The longest message AsymmetricSign/Verify take for a message-signing algorithm (spec: 4096 bytes). */
export const MAX_SIGNED_MESSAGE_BYTES = 4096;

export const MAC_ALGORITHMS = ['HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;
export type MacAlgorithm = (typeof MAC_ALGORITHMS)[number];

export type DigestName = 'sha256' | 'sha384' | 'sha512' | 'sm3' | 'sha1';

export type KeyFamily = 'AES' | 'SM4' | 'HMAC' | 'RSA' | 'EC' | 'SM2' | 'ED25519';

export interface KeySpecInfo {
  family: KeyFamily;
  /** Allowed usages; the first is the default when CreateKey names none. */
  usages: readonly KeyUsage[];
  protectionLevels: readonly ProtectionLevel[];
  /** Bytes of secret material for symmetric and HMAC keys. */
  secretBytes?: number;
  /** RSA modulus bits. */
  modulusBits?: number;
  /** Curve name as Node's crypto (OpenSSL) knows it, for EC and SM2. */
  curve?: 'prime256v1' | 'secp256k1' | 'secp384r1' | 'SM2';
  symmetricAlgorithm?: SymmetricAlgorithm;
  encryptionAlgorithms: readonly EncryptionAlgorithm[];
  signingAlgorithms: readonly SigningAlgorithm[];
  macAlgorithm?: MacAlgorithm;
}

const RSA_ENC = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'] as const;
const RSA_SIG = ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256'] as const;
const BOTH_LEVELS = ['SOFTWARE', 'HSM'] as const;
const ENC_OR_SIGN = ['ENCRYPT/DECRYPT', 'SIGN/VERIFY'] as const;

/**
 * SM4 and EC_SM2 may be asked for in an HSM (kms.md: "only if the token has the mechanism"); the
 * token then answers Hsm.MechanismUnsupported, naming a SOFTWARE key as the alternative.
 */
export const KEY_SPEC_INFO: Readonly<Record<KeySpec, KeySpecInfo>> = {
  AES_256: {
    family: 'AES', usages: ['ENCRYPT/DECRYPT'], protectionLevels: BOTH_LEVELS, secretBytes: 32,
    symmetricAlgorithm: 'AES_256_GCM', encryptionAlgorithms: [], signingAlgorithms: [],
  },
  SM4: {
    family: 'SM4', usages: ['ENCRYPT/DECRYPT'], protectionLevels: BOTH_LEVELS, secretBytes: 16,
    symmetricAlgorithm: 'SM4_GCM', encryptionAlgorithms: [], signingAlgorithms: [],
  },
  HMAC_256: {
    family: 'HMAC', usages: ['GENERATE/VERIFY_MAC'], protectionLevels: BOTH_LEVELS, secretBytes: 32,
    macAlgorithm: 'HMAC_SHA_256', encryptionAlgorithms: [], signingAlgorithms: [],
  },
  HMAC_384: {
    family: 'HMAC', usages: ['GENERATE/VERIFY_MAC'], protectionLevels: BOTH_LEVELS, secretBytes: 48,
    macAlgorithm: 'HMAC_SHA_384', encryptionAlgorithms: [], signingAlgorithms: [],
  },
  HMAC_512: {
    family: 'HMAC', usages: ['GENERATE/VERIFY_MAC'], protectionLevels: BOTH_LEVELS, secretBytes: 64,
    macAlgorithm: 'HMAC_SHA_512', encryptionAlgorithms: [], signingAlgorithms: [],
  },
  RSA_2048: {
    family: 'RSA', usages: ENC_OR_SIGN, protectionLevels: BOTH_LEVELS, modulusBits: 2048,
    encryptionAlgorithms: RSA_ENC, signingAlgorithms: RSA_SIG,
  },
  RSA_3072: {
    family: 'RSA', usages: ENC_OR_SIGN, protectionLevels: BOTH_LEVELS, modulusBits: 3072,
    encryptionAlgorithms: RSA_ENC, signingAlgorithms: RSA_SIG,
  },
  RSA_4096: {
    family: 'RSA', usages: ENC_OR_SIGN, protectionLevels: BOTH_LEVELS, modulusBits: 4096,
    encryptionAlgorithms: RSA_ENC, signingAlgorithms: RSA_SIG,
  },
  EC_P256: {
    family: 'EC', usages: ENC_OR_SIGN, protectionLevels: BOTH_LEVELS, curve: 'prime256v1',
    encryptionAlgorithms: ['ECIES_DH_SHA_1_XOR_HMAC'], signingAlgorithms: ['ECDSA_SHA_256'],
  },
  EC_P256K: {
    family: 'EC', usages: ENC_OR_SIGN, protectionLevels: BOTH_LEVELS, curve: 'secp256k1',
    encryptionAlgorithms: ['ECIES_DH_SHA_1_XOR_HMAC'], signingAlgorithms: ['ECDSA_SHA_256'],
  },
  EC_P384: {
    family: 'EC', usages: ['SIGN/VERIFY'], protectionLevels: BOTH_LEVELS, curve: 'secp384r1',
    encryptionAlgorithms: [], signingAlgorithms: ['ECDSA_SHA_384'],
  },
  EC_SM2: {
    family: 'SM2', usages: ENC_OR_SIGN, protectionLevels: BOTH_LEVELS, curve: 'SM2',
    encryptionAlgorithms: ['SM2PKE'], signingAlgorithms: ['SM2DSA'],
  },
  ED25519: {
    family: 'ED25519', usages: ['SIGN/VERIFY'], protectionLevels: BOTH_LEVELS,
    encryptionAlgorithms: [], signingAlgorithms: ['ED25519'],
  },
};

/** The digest each signing algorithm takes, and its length: a digest of another length is refused. */
export const SIGNING_DIGEST: Readonly<Record<DigestSigningAlgorithm, { digest: DigestName; bytes: number }>> = {
  RSA_PSS_SHA_256: { digest: 'sha256', bytes: 32 },
  RSA_PKCS1_SHA_256: { digest: 'sha256', bytes: 32 },
  ECDSA_SHA_256: { digest: 'sha256', bytes: 32 },
  ECDSA_SHA_384: { digest: 'sha384', bytes: 48 },
  SM2DSA: { digest: 'sm3', bytes: 32 },
};

export const MAC_DIGEST: Readonly<Record<MacAlgorithm, DigestName>> = {
  HMAC_SHA_256: 'sha256',
  HMAC_SHA_384: 'sha384',
  HMAC_SHA_512: 'sha512',
};

export function isSymmetric(spec: KeySpec): boolean {
  const f = KEY_SPEC_INFO[spec].family;
  return f === 'AES' || f === 'SM4';
}

export function isAsymmetric(spec: KeySpec): boolean {
  const f = KEY_SPEC_INFO[spec].family;
  return f === 'RSA' || f === 'EC' || f === 'SM2' || f === 'ED25519';
}

/** Normalise `Aliyun_AES_256` to `AES_256`; undefined for an unknown name. */
export function normaliseKeySpec(name: string): KeySpec | undefined {
  if ((KEY_SPECS as readonly string[]).includes(name)) return name as KeySpec;
  return KEY_SPEC_ALIASES[name];
}

/** The default usage for a spec, following the reference: ENCRYPT/DECRYPT where allowed. */
export function defaultKeyUsage(spec: KeySpec): KeyUsage {
  return KEY_SPEC_INFO[spec].usages[0]!;
}
