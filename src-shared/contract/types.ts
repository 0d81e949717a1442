/** Output shapes of the contract, with the reference KMS's field names. */
import type { PublicKeyFormat, SignatureFormatName } from '../domain/signatureFormats';
import type {
  KeySpec,
  KeyUsage,
  KeyState,
  Origin,
  ProtectionLevel,
  SigningAlgorithm,
  EncryptionAlgorithm,
  MacAlgorithm,
} from '../domain/keySpecs';
import type { ByokTarget, WrappingKeySpec } from '../domain/byokTargets';
import type { AirGapReport } from '../domain/airGap';

export type RotationStatus = 'Enabled' | 'Disabled' | 'Suspended';

export interface KeyMetadata {
  KeyId: string;
  KeySpec: KeySpec;
  KeyUsage: KeyUsage;
  Origin: Origin;
  ProtectionLevel: ProtectionLevel;
  Description: string;
  CreationDate: string;
  Creator: string;
  KeyState: KeyState;
  /** Symmetric and HMAC keys only; asymmetric keys have no primary version. */
  PrimaryKeyVersion?: string;
  DeleteDate?: string;
  MaterialExpireTime?: string;
  AutomaticRotation: RotationStatus;
  RotationInterval?: string;
  LastRotationDate?: string;
  NextRotationDate?: string;
  /** Keyroom's own: material may leave only wrapped (BYOK). Fixed at creation. */
  Exportable: boolean;
}

export interface KeyVersion {
  KeyId: string;
  KeyVersionId: string;
  CreationDate: string;
}

export interface Paged {
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
}

export interface AliasEntry {
  AliasName: string;
  KeyId: string;
  CreationDate: string;
  UpdateDate: string;
}

export interface Empty {
  [k: string]: never;
}

/** One audit log entry as ListAuditEvents shows it (the hash chain stays inside; VerifyAuditLog checks it). */
export interface AuditEvent {
  Seq: number;
  RequestId: string;
  Time: string;
  Operation: string;
  KeyId?: string;
  KeyVersionId?: string;
  Details: Record<string, string | number | boolean | null>;
  Result: string;
}

/** The token this session is logged in to (LoginToken), as ListTokens and LoginToken show it. */
export interface LoggedInToken {
  Label: string;
  SerialNumber: string;
  SlotId: number;
}

export type DigestAlgorithm = 'SHA_256' | 'SHA_384' | 'SM3';

/** A token named by its label and serial number. */
export interface TokenRef {
  Label: string;
  SerialNumber: string;
}

/** Key objects on a token with one CKA_ID and a keyroom/ label that no key version in this keystore names. */
export interface OrphanHsmKey {
  /** CKA_ID in hex: what DeleteOrphanHsmKey takes. */
  ObjectId: string;
  Label: string;
  /** From the label, when it has the form keyroom/<KeyId>/<KeyVersionId>. */
  KeyId?: string;
  KeyVersionId?: string;
  /** The object classes found: private and public (a key pair), or secret. */
  Objects: ('private' | 'public' | 'secret')[];
}

/** ListOrphanHsmKeys. */
export interface OrphanHsmKeys {
  Token: TokenRef;
  /** How many key objects with a keyroom/ label the token holds (orphans or not). */
  KeyroomObjects: number;
  OrphanHsmKeys: OrphanHsmKey[];
  /** What "orphan" can and cannot tell: another keystore may share the token. */
  Note: string;
}

/** ListTokens: a PKCS#11 library and the tokens in its slots. */
export interface ModuleInfoJson {
  Path: string;
  CryptokiVersion: string;
  Manufacturer: string;
  Description: string;
  LibraryVersion: string;
}

export interface TokenFlags {
  TokenInitialized: boolean;
  LoginRequired: boolean;
  UserPinInitialized: boolean;
  UserPinLocked: boolean;
  UserPinFinalTry: boolean;
  UserPinCountLow: boolean;
  UserPinToBeChanged: boolean;
  WriteProtected: boolean;
  ProtectedAuthenticationPath: boolean;
  HardwareSlot: boolean;
  RemovableDevice: boolean;
}

export interface TokenDescription {
  SlotId: number;
  SlotDescription: string;
  Label: string;
  SerialNumber: string;
  Manufacturer: string;
  Model: string;
  HardwareVersion: string;
  FirmwareVersion: string;
  Flags: TokenFlags;
  /** Bytes; absent when the token does not report them (CK_UNAVAILABLE_INFORMATION). */
  FreePrivateMemory?: number;
  FreePublicMemory?: number;
  TotalPrivateMemory?: number;
  TotalPublicMemory?: number;
  /** Which of KEYROOM_MECHANISMS (and the vendor SM2/SM4 ones given) the token has. */
  Mechanisms: string[];
  /** Which of KEYROOM_MECHANISMS it lacks: those keys or operations need a SOFTWARE key. */
  MissingMechanisms: string[];
  /** Vendor-defined mechanism numbers the token lists (hex), for finding SM2/SM4 ones. */
  VendorMechanisms: string[];
}

export interface OperationOutputs {
  InitKeystore: { Keystore: string; SchemaVersion: number };
  GetKeystoreStatus: { Keystore: string; Exists: boolean; Unlocked: boolean };
  /** What fell due while the keystore was closed and was carried out (or deferred) on opening. */
  UnlockKeystore: { Keystore: string; DestroyedKeys: string[]; ExpiredMaterial: string[]; DeferredKeys: string[] };
  LockKeystore: { Keystore: string };
  ReportActivity: Empty;
  /** The delay now in force in the main process. */
  SetAutoLock: { AutoLockMinutes: number };
  ChangePassphrase: { Keystore: string };
  BackupKeystore: { OutputFile: string; Sha256: string } & StaleReport;
  VerifyAuditLog: {
    Valid: boolean;
    Entries: number;
    HeadHash?: string;
    FirstBadEntry?: number;
    Reason?: string;
    /** The entry whose hash is the ExpectedHeadHash given (the head written down earlier). */
    ExpectedHeadSeq?: number;
    /** The entry anchored on the logged-in token, when this keystore has an anchor there. */
    AnchorSeq?: number;
    /** Outputs recorded in the log whose publication failed or was interrupted. */
    Unpublished?: UnpublishedFile[];
  };
  AnchorAuditHead: { AnchorSeq: number; AnchorHash: string; ObjectLabel: string; TokenLabel: string; TokenSerial: string };
  ExportAuditLog: { OutputFile: string; Entries: number; Sha256: string } & StaleReport;
  ListAuditEvents: { Events: AuditEvent[] } & Paged;

  CreateKey: { KeyMetadata: KeyMetadata };
  DescribeKey: { KeyMetadata: KeyMetadata };
  ListKeys: { Keys: { Key: { KeyId: string }[] } } & Paged;
  EnableKey: Empty;
  DisableKey: Empty;
  ScheduleKeyDeletion: { KeyId: string; DeleteDate: string };
  CancelKeyDeletion: Empty;
  UpdateKeyDescription: Empty;
  UpdateRotationPolicy: Empty;
  CreateKeyVersion: { KeyVersion: KeyVersion };
  DescribeKeyVersion: { KeyVersion: KeyVersion };
  ListKeyVersions: { KeyVersions: { KeyVersion: KeyVersion[] } } & Paged;

  CreateAlias: Empty;
  UpdateAlias: Empty;
  DeleteAlias: Empty;
  ListAliases: { Aliases: { Alias: AliasEntry[] } } & Paged;
  ListAliasesByKeyId: { Aliases: { Alias: AliasEntry[] } } & Paged;

  Encrypt: { KeyId: string; KeyVersionId: string; CiphertextBlob: string };
  Decrypt: { KeyId: string; KeyVersionId: string; Plaintext: string };
  ReEncrypt: {
    KeyId: string;
    KeyVersionId: string;
    CiphertextBlob: string;
    SourceKeyId: string;
    SourceKeyVersionId: string;
  };
  GenerateDataKey: { KeyId: string; KeyVersionId: string; CiphertextBlob: string; Plaintext: string };
  GenerateDataKeyWithoutPlaintext: { KeyId: string; KeyVersionId: string; CiphertextBlob: string };
  GenerateMac: { KeyId: string; KeyVersionId: string; MacAlgorithm: MacAlgorithm; Mac: string };
  VerifyMac: { KeyId: string; KeyVersionId: string; MacAlgorithm: MacAlgorithm; MacValid: boolean };

  GetPublicKey: { KeyId: string; KeyVersionId: string; PublicKey: string };
  AsymmetricSign: { KeyId: string; KeyVersionId: string; Algorithm: SigningAlgorithm; Value: string };
  AsymmetricVerify: { KeyId: string; KeyVersionId: string; Algorithm: SigningAlgorithm; Value: boolean };
  AsymmetricEncrypt: { KeyId: string; KeyVersionId: string; Algorithm: EncryptionAlgorithm; CiphertextBlob: string };
  AsymmetricDecrypt: { KeyId: string; KeyVersionId: string; Algorithm: EncryptionAlgorithm; Plaintext: string };

  GetParametersForImport: { KeyId: string; ImportToken: string; PublicKey: string; TokenExpireTime: string };
  ImportKeyMaterial: Empty;
  DeleteKeyMaterial: Empty;

  ExportPublicKey: { KeyId: string; KeyVersionId: string; OutputFile: string; Format: PublicKeyFormat; Sha256: string; Fingerprint: string } & StaleReport;
  /** OrphanHsmKeys: with the keystore open and a token logged in, how many ListOrphanHsmKeys lists. */
  ListTokens: { Module: ModuleInfoJson; Tokens: TokenDescription[]; LoggedIn?: LoggedInToken; OrphanHsmKeys?: number };
  LoginToken: LoggedInToken;
  LogoutToken: Empty;
  ListOrphanHsmKeys: OrphanHsmKeys;
  DeleteOrphanHsmKey: { Token: TokenRef; Deleted: OrphanHsmKey };
  DigestFile: { InputFile: string; Size: number; Algorithm: DigestAlgorithm; Digest: string };
  CancelOperation: { Cancelled: true };

  /** Recorded: whether the verdict went into the audit log (a keystore open in the app; RequestId is then the entry's id). */
  AirGapSelfTest: AirGapReport & { Recorded: boolean };
  CheckImportParameters: CheckedImportParameters;
  WrapKeyMaterial: WrappedKeyMaterial & StaleReport;
  GenerateCsr: GeneratedCsr & StaleReport;
  SignFile: SignedFiles & StaleReport;
  RotateAlias: { AliasName: string; PreviousKeyId: string; KeyId: string; KeyMetadata: KeyMetadata; PreviousKeyState?: KeyState; PreviousDeleteDate?: string };
  ReEncryptFiles: { Files: { File: string; OutputFile: string; SourceKeyId: string; KeyId: string; KeyVersionId: string; Sha256: string }[] } & StaleReport;
  ListDueRotations: { Keys: { KeyId: string; KeySpec: KeySpec; Description: string; NextRotationDate: string }[] };
  RotateDueKeys: { Rotated: { KeyId: string; KeyVersionId: string }[]; Deferred: { KeyId: string; Reason: string }[] };
  GetAliasHistory: { AliasName: string; History: { Time: string; Operation: string; KeyId?: string; PreviousKeyId?: string; RequestId: string }[] };
  VerifyFile: { Value: boolean; File: string; Digest: string };
  GetKeyCheckValue: { KeyId: string; KeyVersionId: string; KeyCheckValue: string; Kind: string };
  PrepareRehearsal: RehearsalParameters;
  CheckRehearsal: RehearsalVerdict;
  LintCeremonyPlan: LintedPlan;
}

/** A value to read aloud: SHA-256 as lowercase hex, as upper-case hex in groups of four, and as PGP words. */
export interface ReadAloudHash {
  Sha256: string;
  Sha256Groups: string;
  Sha256Words: string[];
}

/** LintCeremonyPlan: a plan with no problems. */
export interface LintedPlan {
  Plan: string;
  /** Over the file's exact bytes: it identifies the plan on the run sheet and in the transcript. */
  PlanHash: ReadAloudHash;
  CeremonyId: string;
  Title: string;
  Timezone: string;
  ExpectedMinutes?: number;
  Roles: { Name: string; Min: number; Max?: number }[];
  Steps: { Id: string; Title: string; Performer: string; Witnesses: number; Action: string; Operation?: string; Minutes?: number }[];
  /** The steps' own estimates added up; steps without one count nothing (StepsWithoutEstimate lists them). */
  TotalMinutes: number;
  StepsWithoutEstimate: string[];
  /** Not problems, but worth a look before the day (estimates beyond expectedMinutes). */
  Warnings: string[];
}

/** A cloud's wrapping public key and token, checked (CheckImportParameters; part of WrapKeyMaterial). */
export interface CheckedImportParameters {
  Target: ByokTarget;
  WrappingAlgorithm: string;
  WrappingKeySpec: WrappingKeySpec;
  /** SHA-256 of the wrapping key's DER SubjectPublicKeyInfo, lowercase hex. */
  PublicKeyFingerprint: string;
  /** The same fingerprint as 24 English words (BIP-39 word list), to read aloud against the connected side. */
  PublicKeyFingerprintWords: string[];
  /** ISO-8601 UTC, when a token expiry was given. */
  TokenExpireTime?: string;
  TokenSecondsLeft?: number;
  /** Cautions to show: legacy padding, less than an hour left on the token, regional limits. */
  Warnings: string[];
  /** What about this layout could not be checked against the live service. */
  Unconfirmed?: string;
}

/** What an operation that writes files says about leftovers of interrupted runs in its folders. */
export interface StaleReport {
  /** Keyroom's own temporaries (and proven placeholders) of interrupted runs, removed before writing. */
  RemovedStaleFiles?: string[];
  /** Files that look like leftovers but could not be proven Keyroom's; left alone. */
  StaleFileWarnings?: string[];
}

/** An output whose audit entry was committed but which never reached its final name. */
export interface UnpublishedFile {
  Seq: number;
  RequestId: string;
  Operation: string;
  File: string;
}

export interface WrittenFile {
  File: string;
  Sha256: string;
  /** What the file is for, e.g. "encrypted key material (binary, for fileb://)". */
  Purpose: string;
}

export interface WrappedKeyMaterial {
  KeyId: string;
  KeyVersionId: string;
  Target: ByokTarget;
  WrappingAlgorithm: string;
  WrappingKeySpec: WrappingKeySpec;
  /** Base64 of the whole wrapped blob (Huawei: the encrypted_key_material field). */
  EncryptedKeyMaterial: string;
  /** Huawei asymmetric keys only: the encrypted_privatekey field, base64. */
  EncryptedPrivateKey?: string;
  /** AES/SM4/HMAC: 6 hex digits; asymmetric keys: the SHA-256 fingerprint of the public key. */
  KeyCheckValue: string;
  /** The wrapping (cloud's) public key's SHA-256 fingerprint. */
  PublicKeyFingerprint: string;
  Files: WrittenFile[];
  /** manifest.json's path (also in Files). */
  Manifest: string;
  /** The command to run on the connected side, with the file names filled in. */
  ImportCommand: string;
  Warnings: string[];
  Unconfirmed?: string;
}

export interface RehearsalParameters {
  RehearsalId: string;
  Target: ByokTarget;
  WrappingAlgorithm: string;
  WrappingKeySpec: WrappingKeySpec;
  /** As the cloud would hand it out: PEM for GCP and Azure, base64 DER for the others. */
  PublicKey: string;
  ImportToken?: string;
  TokenExpireTime?: string;
  CloudKeyId: string;
  KeyEncryptionKeyId?: string;
}

export interface RehearsalVerdict {
  RehearsalId: string;
  /** True when the unwrapped material gives the manifest's key check value and every file's SHA-256 matches. */
  Matches: boolean;
  KeyCheckValue: string;
  ManifestKeyCheckValue: string;
  FilesChecked: number;
  /** What was checked, or what did not match, in words. */
  Details: string[];
}

export interface GeneratedCsr {
  KeyId: string;
  KeyVersionId: string;
  Algorithm: SigningAlgorithm;
  /** The request, PEM (whatever the file's encoding). */
  Csr: string;
  OutputFile?: string;
  /** SHA-256 of the request as written: the file's bytes, or the PEM text when no file was asked for. */
  Sha256: string;
  /** RFC 4514, most specific first. */
  Subject: string;
  SubjectAltNames: string[];
  /** SHA-256 of the key's DER SubjectPublicKeyInfo, hex. */
  PublicKeyFingerprint: string;
  /** The OpenSSL command that checks the request's signature. */
  VerifyCommand: string;
}

export interface FileSignature {
  /** The release-signature format (spec/signatures.md); `raw` is the OpenSSL-readable signature. */
  Format: SignatureFormatName;
  File: string;
  Size: number;
  /** The digest named by Digest: the raw algorithm's, or SHA-512 (ssh), BLAKE2b-512 (minisign), SHA-256 (signify). */
  DigestAlgorithm?: string;
  /** The digest the key signed, hex: SHA-256/384 of the file, or for SM2DSA e = SM3(Z_A || file) (SM3SUMS lists the plain SM3). */
  Digest: string;
  SignatureFile: string;
  /** Written when SignatureEncoding is base64. */
  SignatureFileBase64?: string;
  /** The command that verifies this signature (openssl, ssh-keygen, minisign, signify-openbsd). */
  VerifyCommand: string;
}

export interface SignedFiles {
  KeyId: string;
  KeyVersionId: string;
  Algorithm: SigningAlgorithm;
  Signatures: FileSignature[];
  Manifest?: string;
  ManifestSignatureFile?: string;
  /** The public key PEM the signatures verify with (written beside the signatures); with no raw format, the first format's key file. */
  PublicKeyFile: string;
  /** Every public key file of the chosen formats (PEM, .ssh.pub, .allowed_signers, .minisign.pub, .signify.pub). */
  PublicKeyFiles: string[];
}
