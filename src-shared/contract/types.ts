/** Output shapes of the contract, with the reference KMS's field names. */
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
  ChangePassphrase: { Keystore: string };
  BackupKeystore: { OutputFile: string; Sha256: string };
  VerifyAuditLog: { Valid: boolean; Entries: number; HeadHash?: string; FirstBadEntry?: number; Reason?: string };
  ExportAuditLog: { OutputFile: string; Entries: number; Sha256: string };
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

  ExportPublicKey: { KeyId: string; KeyVersionId: string; OutputFile: string; Sha256: string; Fingerprint: string };
  ListTokens: { Module: ModuleInfoJson; Tokens: TokenDescription[]; LoggedIn?: LoggedInToken };
  LoginToken: LoggedInToken;
  LogoutToken: Empty;
  DigestFile: { InputFile: string; Size: number; Algorithm: DigestAlgorithm; Digest: string };
  CancelOperation: { Cancelled: true };
}
