/**
 * Outbound BYOK as data (spec/byok.md): for each cloud, the wrapping algorithms it names, the
 * wrapping-key specs each takes, the key specs whose material it accepts, and the byte layout
 * (the scheme) Keyroom produces. The wizard offers only what this table allows, and the service
 * refuses anything else; neither branches on cloud names beyond looking rows up here.
 */
import type { KeySpec } from './keySpecs';

export const BYOK_TARGETS = ['ALIYUN', 'HUAWEI', 'AWS', 'GCP', 'AZURE'] as const;
export type ByokTarget = (typeof BYOK_TARGETS)[number];

export const BYOK_TARGET_NAMES: Readonly<Record<ByokTarget, string>> = {
  ALIYUN: 'Alibaba Cloud KMS',
  HUAWEI: 'Huawei Cloud KMS',
  AWS: 'AWS KMS',
  GCP: 'Google Cloud KMS',
  AZURE: 'Azure Key Vault / Managed HSM',
};

export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_SM2'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

/**
 * The byte layouts. `h` is the row's OAEP hash; K is 32 random bytes (an AES-256 key); ESK is the
 * ephemeral symmetric key of the envelope forms.
 * - OAEP: OAEP(h)(material), one k-byte block.
 * - RSA_PKCS1: PKCS#1 v1.5 type 2 (material).
 * - OAEP_KWP: OAEP(h)(K) || KWP(K, material) (CKM_RSA_AES_KEY_WRAP).
 * - OAEP_AES_ECB: OAEP(SHA-256)(ESK) || AES-256-ECB-PKCS7(ESK, material) (Alibaba).
 * - OAEP_KWP_FIELDS: two fields, OAEP(h)(K) and KWP(K, material) (Huawei).
 * - SM2: SM2 encryption (material).
 * - SM2_SM4_ECB: SM2(ESK) || SM4-ECB, no padding (ESK, material), ESK 16 bytes (Alibaba).
 * - SM2_SM4_KWP_FIELDS: two fields, SM2(ESK) and RFC 5649 over SM4 (ESK, material) (Huawei).
 */
export const WRAP_SCHEMES = ['OAEP', 'RSA_PKCS1', 'OAEP_KWP', 'OAEP_AES_ECB', 'OAEP_KWP_FIELDS', 'SM2', 'SM2_SM4_ECB', 'SM2_SM4_KWP_FIELDS'] as const;
export type WrapScheme = (typeof WRAP_SCHEMES)[number];

/** How the material is laid out before wrapping: raw secret bytes, PKCS#8 DER, or SM2's bare 32-byte scalar. */
export type MaterialForm = 'raw' | 'pkcs8' | 'sm2-scalar';

export type Sm2CiphertextEncoding = 'DER' | 'C1C3C2';

export interface ByokRow {
  target: ByokTarget;
  /** The cloud's own name for the algorithm, as its console and CLI print it. */
  algorithm: string;
  scheme: WrapScheme;
  /** The OAEP hash (and MGF1 hash) of the RSA schemes. */
  oaepHash?: 'sha1' | 'sha256';
  wrappingKeySpecs: readonly WrappingKeySpec[];
  keySpecs: readonly KeySpec[];
  /** Only for SM2_SM4_ECB: the bare scalar; every other row wraps raw secrets or PKCS#8. */
  sm2Scalar?: true;
  /** The SM2 ciphertext encoding assumed by default (the alternative is a setting). */
  sm2Encoding?: Sm2CiphertextEncoding;
  /** What about this layout could not be checked against the live service (shown in the UI). */
  unconfirmed?: string;
  /** A warning that goes with every use of the row (legacy padding, regional limits). */
  caution?: string;
}

const SYMMETRIC: readonly KeySpec[] = ['AES_256', 'SM4'];
const HMAC: readonly KeySpec[] = ['HMAC_256', 'HMAC_384', 'HMAC_512'];
const RSA: readonly KeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096'];
const RSA_ANY: readonly WrappingKeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096'];
const NIST_AND_K1: readonly KeySpec[] = ['EC_P256', 'EC_P256K', 'EC_P384'];

export const BYOK_ROWS: readonly ByokRow[] = [
  // Alibaba Cloud KMS
  { target: 'ALIYUN', algorithm: 'RSAES_OAEP_SHA_256', scheme: 'OAEP', oaepHash: 'sha256', wrappingKeySpecs: ['RSA_2048'], keySpecs: SYMMETRIC },
  { target: 'ALIYUN', algorithm: 'RSAES_OAEP_SHA_1', scheme: 'OAEP', oaepHash: 'sha1', wrappingKeySpecs: ['RSA_2048'], keySpecs: SYMMETRIC },
  {
    target: 'ALIYUN', algorithm: 'RSAES_PKCS1_V1_5', scheme: 'RSA_PKCS1', wrappingKeySpecs: ['RSA_2048'], keySpecs: SYMMETRIC,
    caution: 'RSAES_PKCS1_V1_5 is legacy padding, open to padding-oracle attacks on the receiving side; prefer RSAES_OAEP_SHA_256.',
  },
  {
    target: 'ALIYUN', algorithm: 'SM2PKE', scheme: 'SM2', wrappingKeySpecs: ['EC_SM2'], keySpecs: SYMMETRIC, sm2Encoding: 'DER',
    unconfirmed: 'The SM2 ciphertext is written as DER SM2Cipher (GM/T 0009); whether Alibaba Cloud expects raw C1C3C2 instead could not be checked against the live service.',
  },
  {
    target: 'ALIYUN', algorithm: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD', scheme: 'OAEP_AES_ECB', oaepHash: 'sha256',
    wrappingKeySpecs: ['RSA_2048'], keySpecs: [...RSA, 'EC_P256', 'EC_P256K'],
  },
  {
    target: 'ALIYUN', algorithm: 'SM2PKE_SM4_ECB', scheme: 'SM2_SM4_ECB', wrappingKeySpecs: ['EC_SM2'], keySpecs: ['EC_SM2'], sm2Scalar: true, sm2Encoding: 'C1C3C2',
    unconfirmed: 'The layout (SM2 C1C3C2 of a 16-byte SM4 key, then SM4-ECB of the bare 32-byte private scalar) could not be checked against the live service.',
  },
  // Huawei Cloud KMS
  { target: 'HUAWEI', algorithm: 'RSAES_OAEP_SHA_256', scheme: 'OAEP', oaepHash: 'sha256', wrappingKeySpecs: RSA_ANY, keySpecs: SYMMETRIC },
  { target: 'HUAWEI', algorithm: 'RSAES_OAEP_SHA_1', scheme: 'OAEP', oaepHash: 'sha1', wrappingKeySpecs: RSA_ANY, keySpecs: SYMMETRIC },
  {
    target: 'HUAWEI', algorithm: 'RSAES_OAEP_SHA_256', scheme: 'OAEP_KWP_FIELDS', oaepHash: 'sha256', wrappingKeySpecs: RSA_ANY,
    keySpecs: [...RSA, 'EC_P256', 'EC_P384'],
  },
  {
    target: 'HUAWEI', algorithm: 'SM2_ENCRYPT', scheme: 'SM2', wrappingKeySpecs: ['EC_SM2'], keySpecs: ['SM4'], sm2Encoding: 'DER',
    unconfirmed: 'The SM2 ciphertext is written as DER SM2Cipher; that Huawei Cloud expects DER rather than raw C1C3C2 could not be checked against the live service.',
  },
  {
    target: 'HUAWEI', algorithm: 'SM2_ENCRYPT', scheme: 'SM2_SM4_KWP_FIELDS', wrappingKeySpecs: ['EC_SM2'], keySpecs: ['EC_SM2'], sm2Encoding: 'DER',
    unconfirmed: 'The two-field SM2 form (SM2 of a 16-byte SM4 key, RFC 5649 key wrap over SM4 of the PKCS#8 key) could not be checked against the live service, and OpenSSL 3.0 cannot check the SM4 key wrap.',
  },
  // AWS KMS
  {
    target: 'AWS', algorithm: 'RSAES_OAEP_SHA_256', scheme: 'OAEP', oaepHash: 'sha256', wrappingKeySpecs: RSA_ANY, keySpecs: ['AES_256', ...HMAC, ...NIST_AND_K1],
  },
  {
    target: 'AWS', algorithm: 'RSAES_OAEP_SHA_1', scheme: 'OAEP', oaepHash: 'sha1', wrappingKeySpecs: RSA_ANY, keySpecs: ['AES_256', ...HMAC, ...NIST_AND_K1],
  },
  {
    target: 'AWS', algorithm: 'RSA_AES_KEY_WRAP_SHA_256', scheme: 'OAEP_KWP', oaepHash: 'sha256', wrappingKeySpecs: RSA_ANY,
    keySpecs: ['AES_256', ...HMAC, ...RSA, ...NIST_AND_K1], caution: 'RSA_AES_KEY_WRAP is not available in the AWS China Regions.',
  },
  {
    target: 'AWS', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', scheme: 'OAEP_KWP', oaepHash: 'sha1', wrappingKeySpecs: RSA_ANY,
    keySpecs: ['AES_256', ...HMAC, ...RSA, ...NIST_AND_K1], caution: 'RSA_AES_KEY_WRAP is not available in the AWS China Regions.',
  },
  {
    target: 'AWS', algorithm: 'SM2PKE', scheme: 'SM2', wrappingKeySpecs: ['EC_SM2'], keySpecs: ['AES_256', ...HMAC, ...NIST_AND_K1, 'EC_SM2'], sm2Encoding: 'DER',
    caution: 'SM2PKE wrapping keys exist in the AWS China Regions only.',
    unconfirmed: 'The SM2 ciphertext is written as DER SM2Cipher; the encoding AWS China expects could not be checked against the live service.',
  },
  // Google Cloud KMS: the import method names the wrapping key size.
  { target: 'GCP', algorithm: 'RSA_OAEP_3072_SHA1_AES_256', scheme: 'OAEP_KWP', oaepHash: 'sha1', wrappingKeySpecs: ['RSA_3072'], keySpecs: ['AES_256', ...HMAC, ...RSA, ...NIST_AND_K1] },
  { target: 'GCP', algorithm: 'RSA_OAEP_4096_SHA1_AES_256', scheme: 'OAEP_KWP', oaepHash: 'sha1', wrappingKeySpecs: ['RSA_4096'], keySpecs: ['AES_256', ...HMAC, ...RSA, ...NIST_AND_K1] },
  { target: 'GCP', algorithm: 'RSA_OAEP_3072_SHA256_AES_256', scheme: 'OAEP_KWP', oaepHash: 'sha256', wrappingKeySpecs: ['RSA_3072'], keySpecs: ['AES_256', ...HMAC, ...RSA, ...NIST_AND_K1] },
  { target: 'GCP', algorithm: 'RSA_OAEP_4096_SHA256_AES_256', scheme: 'OAEP_KWP', oaepHash: 'sha256', wrappingKeySpecs: ['RSA_4096'], keySpecs: ['AES_256', ...HMAC, ...RSA, ...NIST_AND_K1] },
  { target: 'GCP', algorithm: 'RSA_OAEP_3072_SHA256', scheme: 'OAEP', oaepHash: 'sha256', wrappingKeySpecs: ['RSA_3072'], keySpecs: ['AES_256', ...HMAC, ...NIST_AND_K1] },
  { target: 'GCP', algorithm: 'RSA_OAEP_4096_SHA256', scheme: 'OAEP', oaepHash: 'sha256', wrappingKeySpecs: ['RSA_4096'], keySpecs: ['AES_256', ...HMAC, ...NIST_AND_K1] },
  // Azure Key Vault / Managed HSM
  {
    target: 'AZURE', algorithm: 'CKM_RSA_AES_KEY_WRAP', scheme: 'OAEP_KWP', oaepHash: 'sha1', wrappingKeySpecs: RSA_ANY,
    keySpecs: [...RSA, ...NIST_AND_K1, 'AES_256'],
    caution: 'Azure takes AES (octet) keys into Managed HSM only, not into a Key Vault.',
    unconfirmed: 'MGF1 with SHA-1 is assumed for the OAEP part, and the .byok ciphertext is base64url without padding; neither could be checked against the live service.',
  },
];

/**
 * What each cloud's import token looks like (spec/byok.md), so that a token the cloud never issued
 * (whitespace, a JSON fragment, junk bytes, a token meant for another cloud) is refused before
 * anything is written, instead of being carried into the import command. Accurate rather than
 * strict where the spec is silent: Alibaba's token is "opaque", so only its alphabet is checked
 * (its tokens are base64 text; base64url and '-' are let through); Huawei's is base64 (either
 * alphabet); AWS's is the base64 of a binary token (decoded for fileb://, so standard base64 with
 * padding); Google's "token" is the ImportJob's resource name; Azure has none (the key-exchange
 * key's id goes in KeyEncryptionKeyId). Surrounding whitespace (a pasted line) is ignored.
 */
export interface ImportTokenForm {
  /** What the cloud issues, for the message. */
  describe: string;
  /** null: the cloud issues no import token. */
  pattern: RegExp | null;
  maxChars: number;
}

export const IMPORT_TOKEN_FORMS: Readonly<Record<ByokTarget, ImportTokenForm>> = {
  ALIYUN: { describe: 'the ImportToken text GetParametersForImport returns (letters, digits, + / = _ -)', pattern: /^[A-Za-z0-9+/_-]+={0,2}$/, maxChars: 16_384 },
  HUAWEI: { describe: 'the base64 import_token get-parameters-for-import returns', pattern: /^[A-Za-z0-9+/_-]+={0,2}$/, maxChars: 16_384 },
  AWS: {
    describe: 'the base64 ImportToken of get-parameters-for-import\'s JSON output',
    pattern: /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/,
    maxChars: 100_000,
  },
  GCP: {
    describe: 'the ImportJob\'s name, projects/<project>/locations/<location>/keyRings/<ring>/importJobs/<job>',
    pattern: /^projects\/[A-Za-z0-9_.:-]+\/locations\/[A-Za-z0-9_-]+\/keyRings\/[A-Za-z0-9_-]+\/importJobs\/[A-Za-z0-9_-]+$/,
    maxChars: 1024,
  },
  AZURE: { describe: 'no import token (the key-exchange key\'s id goes in KeyEncryptionKeyId)', pattern: null, maxChars: 0 },
};

/** Why `token` is not an import token `target` issues, or undefined when it looks like one. */
export function importTokenProblem(target: ByokTarget, token: string): string | undefined {
  const form = IMPORT_TOKEN_FORMS[target];
  const name = BYOK_TARGET_NAMES[target];
  if (form.pattern === null) return `${name} issues ${form.describe}; leave ImportToken out`;
  const t = token.trim();
  if (t === '') return `the ImportToken is empty or only spaces; give ${form.describe}`;
  if (t.length > form.maxChars) return `the ImportToken is longer than any ${name} issues (at most ${form.maxChars} characters); give ${form.describe}`;
  if (!form.pattern.test(t)) return `this is not an import token ${name} issues; give ${form.describe}`;
  return undefined;
}

/** The key specs `target` takes material for, in KEY_SPECS order of first appearance. */
export function byokKeySpecs(target: ByokTarget): KeySpec[] {
  const out: KeySpec[] = [];
  for (const row of BYOK_ROWS) if (row.target === target) for (const s of row.keySpecs) if (!out.includes(s)) out.push(s);
  return out;
}

/** The rows (one per wrapping algorithm) that can carry a `keySpec` key to `target`. */
export function byokRowsFor(target: ByokTarget, keySpec?: KeySpec): ByokRow[] {
  return BYOK_ROWS.filter((r) => r.target === target && (keySpec === undefined || r.keySpecs.includes(keySpec)));
}

/** The row for this target, algorithm and key spec, or undefined when the cloud does not take it. */
export function byokRow(target: ByokTarget, algorithm: string, keySpec: KeySpec): ByokRow | undefined {
  return BYOK_ROWS.find((r) => r.target === target && r.algorithm === algorithm && r.keySpecs.includes(keySpec));
}

/** Every algorithm name `target` knows, whatever the key spec. */
export function byokAlgorithms(target: ByokTarget): string[] {
  return [...new Set(BYOK_ROWS.filter((r) => r.target === target).map((r) => r.algorithm))];
}

export function materialForm(row: ByokRow, keySpec: KeySpec): MaterialForm {
  if (row.sm2Scalar) return 'sm2-scalar';
  return ['AES_256', 'SM4', 'HMAC_256', 'HMAC_384', 'HMAC_512'].includes(keySpec) ? 'raw' : 'pkcs8';
}

/** Whether the scheme puts the material in one RSA block (so its size is bounded by the wrapping key). */
export function isDirectRsa(scheme: WrapScheme): boolean {
  return scheme === 'OAEP' || scheme === 'RSA_PKCS1';
}
