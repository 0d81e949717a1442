/**
 * The names of the operations the app offers, with no schema behind them: the preload bundles
 * this list (and nothing of zod) to build `window.keyroom`. The type below proves at compile time
 * that it names every app operation and nothing else; test/unit/app checks the order too.
 */
import type { AppOperationName } from './operations';

export const APP_OPERATION_NAMES = [
  'InitKeystore',
  'GetKeystoreStatus',
  'UnlockKeystore',
  'LockKeystore',
  'ChangePassphrase',
  'BackupKeystore',
  'VerifyAuditLog',
  'ExportAuditLog',
  'ListAuditEvents',
  'CreateKey',
  'DescribeKey',
  'ListKeys',
  'EnableKey',
  'DisableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'UpdateKeyDescription',
  'UpdateRotationPolicy',
  'CreateKeyVersion',
  'DescribeKeyVersion',
  'ListKeyVersions',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
  'ListAliases',
  'ListAliasesByKeyId',
  'Encrypt',
  'Decrypt',
  'ReEncrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'GetPublicKey',
  'ExportPublicKey',
  'AsymmetricSign',
  'AsymmetricVerify',
  'AsymmetricEncrypt',
  'AsymmetricDecrypt',
  'GetParametersForImport',
  'ImportKeyMaterial',
  'DeleteKeyMaterial',
  'ListTokens',
  'LoginToken',
  'LogoutToken',
  'DigestFile',
  'CancelOperation',
  'CheckImportParameters',
  'WrapKeyMaterial',
  'GetKeyCheckValue',
  'GenerateCsr',
  'SignFile',
  'VerifyFile',
  'PrepareRehearsal',
  'CheckRehearsal',
] as const satisfies readonly AppOperationName[];

type Unlisted = Exclude<AppOperationName, (typeof APP_OPERATION_NAMES)[number]>;
/** Fails to type-check, naming the operation, when an app operation is missing above. */
export const APP_OPERATION_NAMES_COMPLETE: [Unlisted] extends [never] ? true : { unlisted: Unlisted } = true;
