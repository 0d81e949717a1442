/**
 * What a step's answer looks like, for checking references (`${make-key.KeyId}`) at lint time:
 * one sample answer per operation, typed as the contract's output with every optional field
 * present and every list holding one element. The type makes the table follow types.ts exactly:
 * a field missing here, misspelt, or of the wrong type fails to compile. The samples double as
 * the placeholders a reference stands for while the parameters are checked against the contract,
 * so each value is a plausible one (UUIDs where a KeyId is expected, a real algorithm name).
 *
 * Operations without a sample here accept any path until someone types them (the runner then
 * finds a missing field on the day): keep the list growing with the plans people write.
 */
import type { KeyMetadata, KeyVersion, OperationOutputs, StaleReport, WrittenFile } from '../../contract/types';
import type { OperationName } from '../../contract/operations';

/** T with every optional field required and every array a one-element tuple. */
export type Sample<T> = T extends string | number | boolean
  ? T
  : T extends readonly (infer E)[]
    ? readonly [Sample<E>]
    : { readonly [K in keyof T]-?: Sample<NonNullable<T[K]>> };

const KEY_ID = '00000000-0000-4000-8000-00000000000a';
const VERSION_ID = '00000000-0000-4000-8000-00000000000b';
const HEX64 = '0'.repeat(64);
const DATE = '2027-01-01T00:00:00Z';
const FILE = '/media/ceremony/output/file';

const stale: Sample<StaleReport> = { RemovedStaleFiles: [FILE], StaleFileWarnings: ['warning'] };
const keyMetadata: Sample<KeyMetadata> = {
  KeyId: KEY_ID,
  KeySpec: 'EC_P256',
  KeyUsage: 'SIGN/VERIFY',
  Origin: 'Aliyun_KMS',
  ProtectionLevel: 'HSM',
  Description: 'description',
  CreationDate: DATE,
  Creator: 'keyroom',
  KeyState: 'Enabled',
  PrimaryKeyVersion: VERSION_ID,
  DeleteDate: DATE,
  MaterialExpireTime: DATE,
  AutomaticRotation: 'Disabled',
  RotationInterval: '365d',
  LastRotationDate: DATE,
  NextRotationDate: DATE,
  Exportable: false,
};
const keyVersion: Sample<KeyVersion> = { KeyId: KEY_ID, KeyVersionId: VERSION_ID, CreationDate: DATE };
const writtenFile: Sample<WrittenFile> = { File: FILE, Sha256: HEX64, Purpose: 'purpose' };

type Samples = { readonly [N in OperationName]?: Sample<OperationOutputs[N]> };

export const ANSWER_SAMPLES: Samples = {
  CreateKey: { KeyMetadata: keyMetadata },
  DescribeKey: { KeyMetadata: keyMetadata },
  CreateKeyVersion: { KeyVersion: keyVersion },
  DescribeKeyVersion: { KeyVersion: keyVersion },
  EnableKey: {},
  DisableKey: {},
  CreateAlias: {},
  UpdateAlias: {},
  DeleteAlias: {},
  UpdateKeyDescription: {},
  ScheduleKeyDeletion: { KeyId: KEY_ID, DeleteDate: DATE },
  GetPublicKey: { KeyId: KEY_ID, KeyVersionId: VERSION_ID, PublicKey: '-----BEGIN PUBLIC KEY-----' },
  ExportPublicKey: { KeyId: KEY_ID, KeyVersionId: VERSION_ID, OutputFile: FILE, Format: 'PEM', Sha256: HEX64, Fingerprint: HEX64, ...stale },
  BackupKeystore: { OutputFile: FILE, Sha256: HEX64, ...stale },
  ExportAuditLog: { OutputFile: FILE, Entries: 1, Sha256: HEX64, ...stale },
  VerifyAuditLog: {
    Valid: true,
    Entries: 1,
    HeadHash: HEX64,
    FirstBadEntry: 1,
    Reason: 'reason',
    ExpectedHeadSeq: 1,
    AnchorSeq: 1,
    Unpublished: [{ Seq: 1, RequestId: KEY_ID, Operation: 'SignFile', File: FILE }],
  },
  AnchorAuditHead: { AnchorSeq: 1, AnchorHash: HEX64, ObjectLabel: 'label', TokenLabel: 'token', TokenSerial: 'serial' },
  DigestFile: { InputFile: FILE, Size: 1, Algorithm: 'SHA_256', Digest: HEX64 },
  GetKeyCheckValue: { KeyId: KEY_ID, KeyVersionId: VERSION_ID, KeyCheckValue: 'ABCDEF', Kind: 'kind' },
  GenerateCsr: {
    KeyId: KEY_ID,
    KeyVersionId: VERSION_ID,
    Algorithm: 'ECDSA_SHA_256',
    Csr: '-----BEGIN CERTIFICATE REQUEST-----',
    OutputFile: FILE,
    Sha256: HEX64,
    Subject: 'CN=Example',
    SubjectAltNames: ['DNS:example.com'],
    PublicKeyFingerprint: HEX64,
    VerifyCommand: 'openssl req -verify',
    ...stale,
  },
  SignFile: {
    KeyId: KEY_ID,
    KeyVersionId: VERSION_ID,
    Algorithm: 'ECDSA_SHA_256',
    Signatures: [
      { Format: 'raw', File: FILE, Size: 1, DigestAlgorithm: 'SHA_256', Digest: HEX64, SignatureFile: FILE, SignatureFileBase64: FILE, VerifyCommand: 'openssl dgst -verify' },
    ],
    Manifest: FILE,
    ManifestSignatureFile: FILE,
    PublicKeyFile: FILE,
    PublicKeyFiles: [FILE],
    ...stale,
  },
  VerifyFile: { Value: true, File: FILE, Digest: HEX64 },
  CheckImportParameters: {
    Target: 'ALIYUN',
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_2048',
    PublicKeyFingerprint: HEX64,
    PublicKeyFingerprintWords: ['abandon'],
    TokenExpireTime: DATE,
    TokenSecondsLeft: 1,
    Warnings: ['warning'],
    Unconfirmed: 'unconfirmed',
  },
  WrapKeyMaterial: {
    KeyId: KEY_ID,
    KeyVersionId: VERSION_ID,
    Target: 'ALIYUN',
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_2048',
    EncryptedKeyMaterial: 'AAAA',
    EncryptedPrivateKey: 'AAAA',
    KeyCheckValue: 'ABCDEF',
    PublicKeyFingerprint: HEX64,
    Files: [writtenFile],
    Manifest: FILE,
    ImportCommand: 'aliyun kms ImportKeyMaterial',
    Warnings: ['warning'],
    Unconfirmed: 'unconfirmed',
    ...stale,
  },
  GetParametersForImport: { KeyId: KEY_ID, ImportToken: 'token', PublicKey: 'AAAA', TokenExpireTime: DATE },
  ImportKeyMaterial: {},
  RotateAlias: {
    AliasName: 'alias/example',
    PreviousKeyId: KEY_ID,
    KeyId: KEY_ID,
    KeyMetadata: keyMetadata,
    PreviousKeyState: 'Disabled',
    PreviousDeleteDate: DATE,
  },
};

/**
 * What a plan may refer to beyond the operation's own answer, per operation. The runner adds
 * these to the recorded answer when the step is done: the version a new key was created with
 * (asymmetric keys have no PrimaryKeyVersion, and ExportPublicKey needs one), and for an
 * asymmetric key the SHA-256 of its SubjectPublicKeyInfo, as the app shows it.
 */
export const CREATED_KEY_EXTRAS = { KeyVersionId: VERSION_ID, PublicKeyFingerprint: HEX64 } as const;
export const OPERATIONS_CREATING_KEYS: readonly OperationName[] = ['CreateKey', 'RotateAlias'];

/**
 * The answer as a plan sees it: the operation's output, with the fields of a KeyMetadata or
 * KeyVersion it holds lifted to the top (`${make-key.KeyId}` for `KeyMetadata.KeyId`; the
 * output's own top-level field wins when both have one), plus `extras`. The runner records
 * answers through this too, so lint and run agree on every path.
 */
export function planAnswerView(output: Readonly<Record<string, unknown>>, extras: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const inner of ['KeyMetadata', 'KeyVersion']) {
    const value = output[inner];
    if (value && typeof value === 'object' && !Array.isArray(value)) Object.assign(view, value);
  }
  return Object.assign(view, output, extras);
}
