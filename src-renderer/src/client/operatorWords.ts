/**
 * Errors in words a ceremony operator understands: a short headline per error code, with the main
 * process's own message (which names the key, file or token involved) as the detail.
 */
import type { ErrorCode } from '../../../src-shared/errors';
import { OperationError } from './keyroom';

const HEADLINES: Partial<Record<ErrorCode, string>> = {
  IncorrectPassphrase: 'That passphrase does not open this keystore.',
  'InvalidParameter.Passphrase': 'That passphrase cannot be used.',
  'Keystore.NotFound': 'There is no keystore here yet.',
  'Keystore.AlreadyExists': 'A keystore already exists here.',
  'Keystore.NotAKeystore': 'This file is not a Keyroom keystore.',
  'Keystore.Tampered': 'The keystore file has been changed outside Keyroom. Stop and investigate.',
  'Keystore.SchemaTooNew': 'This keystore was written by a newer Keyroom.',
  'Keystore.Locked': 'The keystore is locked.',
  'Keystore.Io': 'The keystore file could not be read or written.',
  'AlreadyExists.File': 'A file with that name already exists; Keyroom never overwrites files.',
  'Rejected.UnsafeFolder': 'Other users of this computer can change files in that folder; choose another.',
  'Io.DiskFull': 'The disk is full.',
  'Io.ReadOnly': 'That disk or folder is read-only.',
  'Io.PermissionDenied': 'Keyroom is not allowed to write there.',
  'Io.NotSupported': 'That file system cannot do what Keyroom needs.',
  'Io.Failed': 'The disk did not keep what Keyroom wrote; try another medium.',
  'AlreadyExists.Alias': 'That alias is already in use.',
  'InvalidParameter.AliasName': 'That alias name is not allowed.',
  'InvalidParameter.OutputFile': 'Keyroom cannot write to that location.',
  'InvalidParameter.InputFile': 'Keyroom cannot read that file.',
  'InvalidParameter.Subject': 'The subject name of the request is not valid.',
  'InvalidParameter.SubjectAltNames': 'A subject alternative name of the request is not valid.',
  'InvalidParameter.Extension': 'An extension the request asks for is not valid.',
  'NotFound.Key': 'No such key.',
  'NotFound.Alias': 'No such alias.',
  'NotFound.KeyVersion': 'No such key version.',
  'Rejected.KeyState': 'The key is not in a state that allows this.',
  'Rejected.KeyUsage': "The key's usage does not allow this.",
  'Rejected.Sender': 'The request did not come from the Keyroom window and was refused.',
  'Hsm.NotConfigured': 'No token is logged in.',
  'Hsm.ModuleNotFound': 'The PKCS#11 library was not found.',
  'Hsm.TokenNotPresent': 'The token is not connected.',
  'Hsm.PinIncorrect': 'The PIN is incorrect.',
  'Hsm.PinLocked': 'The token has locked its PIN after too many wrong attempts.',
  'Hsm.MechanismUnsupported': 'The token cannot do this.',
  'Hsm.DeviceError': 'The token reported an error.',
  'Hsm.KeyNotFound': 'The key is no longer on the token.',
  'InvalidParameter.PublicKey': "That is not the cloud's wrapping public key, or not one this algorithm takes.",
  'InvalidParameter.WrappingKeySpec': "The wrapping key's type or size does not fit the wrapping algorithm.",
  'InvalidParameter.WrappingAlgorithm': 'The cloud has no such wrapping algorithm for this key.',
  'InvalidParameter.Target': 'Keyroom does not know that cloud.',
  'InvalidParameter.TokenExpireTime': 'That token expiry time cannot be read.',
  'InvalidParameter.OutputDir': 'That output folder cannot be used.',
  'InvalidParameter.Plan': 'The ceremony plan has problems; each is listed with its line and column.',
  InvalidParameter: 'Please check what you entered.',
  MissingParameter: 'Something this needs was not given.',
  'Rejected.Algorithm': "The key's spec does not allow that algorithm.",
  'Import.TokenExpired': 'The import token has expired. Get new import parameters from the cloud.',
  'Import.TokenInvalid': 'That import token is not one for this key and wrapping algorithm.',
  'Import.MaterialMismatch': 'This key is bound to other key material; only the same material can be imported again.',
  'Import.MaterialLength': 'The unwrapped key material has the wrong length for this key spec.',
  InvalidEncryptedKeyMaterial: 'The encrypted key material could not be unwrapped with this import token.',
  InvalidCiphertext: 'That is not ciphertext Keyroom can decrypt.',
  'Rejected.KeySpec': 'This kind of key (its key spec) cannot be used this way.',
  'Rejected.NotExportable': 'This key was not created exportable; its material never leaves Keyroom.',
  'Rejected.NotOrphan': 'A key in this keystore still uses that token object; it was not destroyed.',
  'NotFound.Rehearsal': 'That rehearsal has ended (rehearsals end when the keystore locks).',
  Cancelled: 'Cancelled. Nothing was written.',
  Internal: 'Something went wrong inside Keyroom.',
};

export interface OperatorError {
  headline: string;
  detail: string;
  code: string;
  requestId?: string;
}

/** What to show for an error caught anywhere in the renderer. */
export function describeError(error: unknown): OperatorError {
  if (error instanceof OperationError) {
    const headline = HEADLINES[error.code] ?? (error.code.startsWith('InvalidParameter') || error.code === 'MissingParameter' ? 'Please check what you entered.' : 'Keyroom refused this.');
    return { headline, detail: error.message, code: error.code, ...(error.requestId ? { requestId: error.requestId } : {}) };
  }
  // A bug in the renderer, not a refusal: say so plainly, without pretending to know more.
  return { headline: HEADLINES.Internal!, detail: error instanceof Error ? error.message : String(error), code: 'Renderer' };
}
