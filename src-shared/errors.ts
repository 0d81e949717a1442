/**
 * The one error type that crosses every boundary (service -> handler -> CLI / IPC).
 * Codes are stable and dotted like the reference KMS's; the message says what to do, and
 * never contains a secret (passphrase, PIN, key material, plaintext).
 */
export const ERROR_CODES = [
  'InvalidParameter',
  'InvalidParameter.KeySpec',
  'InvalidParameter.KeyUsage',
  'InvalidParameter.ProtectionLevel',
  'InvalidParameter.Origin',
  'InvalidParameter.Algorithm',
  'InvalidParameter.AliasName',
  'InvalidParameter.EncryptionContext',
  'InvalidParameter.Digest',
  'InvalidParameter.Base64',
  'InvalidParameter.PendingWindowInDays',
  'InvalidParameter.RotationInterval',
  'InvalidParameter.NumberOfBytes',
  'InvalidParameter.WrappingAlgorithm',
  'InvalidParameter.WrappingKeySpec',
  'InvalidParameter.KeyMaterialExpireUnix',
  'InvalidParameter.Passphrase',
  'InvalidParameter.OutputFile',
  /** LoginToken named a token other than the one this session was started for (--token, KEYROOM_TOKEN). */
  'InvalidParameter.TokenLabel',
  'MissingParameter',
  'NotFound.Key',
  'NotFound.KeyVersion',
  'NotFound.Alias',
  'AlreadyExists.Alias',
  'AlreadyExists.File',
  'Rejected.KeyState',
  'Rejected.KeyUsage',
  'Rejected.KeySpec',
  'Rejected.Algorithm',
  'Rejected.Origin',
  'Rejected.ProtectionLevel',
  /** An IPC call that did not come from the main frame of Keyroom's own window showing its bundle. */
  'Rejected.Sender',
  'InvalidCiphertext',
  'InvalidEncryptedKeyMaterial',
  'Import.TokenExpired',
  'Import.TokenInvalid',
  'Import.MaterialMismatch',
  'Import.MaterialLength',
  'Keystore.NotFound',
  'Keystore.AlreadyExists',
  'Keystore.NotAKeystore',
  'Keystore.Tampered',
  'Keystore.SchemaTooNew',
  'Keystore.Locked',
  'Keystore.Io',
  'IncorrectPassphrase',
  'Audit.ChainBroken',
  'Hsm.PinIncorrect',
  'Hsm.PinLocked',
  'Hsm.TokenNotPresent',
  'Hsm.MechanismUnsupported',
  'Hsm.ModuleNotFound',
  'Hsm.DeviceError',
  'Hsm.NotConfigured',
  'Hsm.KeyNotFound',
  /** DeleteOrphanHsmKey named token objects that a key version in this keystore still names. */
  'Rejected.NotOrphan',
  /** A long-running operation stopped at the caller's request (CancelOperation); nothing was written. */
  'Cancelled',
  /** CancelOperation named an OperationId that is not under way (finished, or never started). */
  'NotFound.Operation',
  'InvalidParameter.InputFile',
  /** A ceremony plan with problems: the message names each one with its line and column. */
  'InvalidParameter.Plan',
  /** BYOK: a wrapping public key that does not parse, is a private key, or does not fit the wrapping-key spec. */
  'InvalidParameter.PublicKey',
  'InvalidParameter.Target',
  'InvalidParameter.TokenExpireTime',
  'InvalidParameter.OutputDir',
  /** BYOK: the key was not created Exportable, so its material never leaves, even wrapped. */
  'Rejected.NotExportable',
  /** BYOK rehearsal: no stand-in cloud with that id in this session (it ends when the keystore locks). */
  'NotFound.Rehearsal',
  /** CSR: a subject, subjectAltName or requested extension that cannot go into a request as given. */
  'InvalidParameter.Subject',
  'InvalidParameter.SubjectAltNames',
  'InvalidParameter.Extension',
  /** An output folder another local user can write to (no sticky bit): they could swap an output after it is written. */
  'Rejected.UnsafeFolder',
  /** File-system errors on an output or input, each naming the path (never Internal). */
  'Io.DiskFull',
  'Io.ReadOnly',
  'Io.PermissionDenied',
  'Io.NotSupported',
  /** Any other file-system failure on an output (EIO: a failing medium), or a file that read back different from what was written. */
  'Io.Failed',
  'Internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class KmsError extends Error {
  override readonly name = 'KmsError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The shape an error takes when it crosses a process boundary (IPC, CLI stderr). */
export interface ErrorData {
  Code: ErrorCode;
  Message: string;
  RequestId?: string;
}

export function isKmsError(e: unknown): e is KmsError {
  return e instanceof KmsError;
}
