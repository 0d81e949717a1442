/**
 * Refused uses are part of the record (issue 13, item 5): a key used in a state or for a purpose
 * it does not allow, a wrong PIN or passphrase, an HSM refusing an operation on its key. Each is
 * one audit entry whose Result is the error code, written after the operation's own transaction
 * rolled back, with the request's id (the RequestId the caller was given).
 *
 * Not recorded: a malformed command line or an input the contract's schema refuses (nothing was
 * attempted; dispatch records only after the input parsed), things that do not exist (NotFound.*),
 * failures of the machine rather than refusals (Keystore.*, Io.*, Hsm.TokenNotPresent ...), and
 * InvalidCiphertext: a blob that does not authenticate cannot be told from a mistyped or truncated
 * one, and it names no key that can be trusted (the key id is inside the blob).
 * A refusal while the keystore is locked (LoginToken before unlocking, a wrong passphrase at
 * unlock) cannot be recorded: there is no open log to write to.
 */
import type { ErrorCode } from '../../src-shared/errors';
import { KmsError } from '../../src-shared/errors';
import type { OperationName } from '../../src-shared/contract/operations';
import { parseBlob } from '../crypto/ciphertextBlob';
import { appendAudit, type AuditDetails } from '../services/audit/auditLog';
import { resolveKey } from '../services/kms/keyAccess';
import { now } from '../services/kms/context';
import type { Session } from '../services/session';

/** The codes that are refusals, and so are recorded. Each line says why it counts. */
export const REFUSAL_CODES = [
  // The key exists but may not be used so: its state, usage, spec, algorithm, origin, protection.
  'Rejected.KeyState',
  'Rejected.KeyUsage',
  'Rejected.KeySpec',
  'Rejected.Algorithm',
  'Rejected.Origin',
  'Rejected.ProtectionLevel',
  'Rejected.NotExportable',
  // DeleteOrphanHsmKey asked to destroy token objects a key of this keystore still names.
  'Rejected.NotOrphan',
  // A wrong secret: a PIN (LoginToken, or the command line's prompt when an HSM key is used), the
  // current passphrase in ChangePassphrase; and a token that locked itself after wrong PINs.
  'IncorrectPassphrase',
  'Hsm.PinIncorrect',
  'Hsm.PinLocked',
  // The token refused an operation on its key, or the key's object is missing from it.
  'Hsm.MechanismUnsupported',
  'Hsm.KeyNotFound',
  // Import parameters or material refused for the key they name.
  'Import.TokenExpired',
  'Import.TokenInvalid',
  'Import.MaterialMismatch',
] as const satisfies readonly ErrorCode[];

const REFUSALS: ReadonlySet<string> = new Set(REFUSAL_CODES);

export function isRefusal(code: ErrorCode): boolean {
  return REFUSALS.has(code);
}

/** Input fields that name what was used (identifiers and choices, never a secret, a value or a path). */
const NAMING_FIELDS = [
  'KeyId',
  'KeyVersionId',
  'DestinationKeyId',
  'SourceKeyId',
  'AliasName',
  'Algorithm',
  'MacAlgorithm',
  'KeySpec',
  'KeyUsage',
  'ProtectionLevel',
  'Target',
  'WrappingAlgorithm',
  'TokenLabel',
  // DeleteOrphanHsmKey's token objects: their CKA_ID (hex) and Keyroom's label.
  'ObjectId',
  'Label',
] as const;

/** The key the request was about: named by KeyId (or DestinationKeyId), or carried in a CiphertextBlob. */
function namedKey(input: Record<string, unknown>): string | undefined {
  for (const f of ['KeyId', 'DestinationKeyId', 'SourceKeyId'] as const) if (typeof input[f] === 'string') return input[f];
  if (typeof input.CiphertextBlob === 'string') {
    try {
      return parseBlob(Buffer.from(input.CiphertextBlob, 'base64')).keyId;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Append the refusal entry for `error` if it is a refusal and the keystore is open. Never throws:
 * the caller's answer is the refusal itself, and a failure to record it (a full disk) must not
 * replace that answer with another; it is left out of the log, as a locked keystore's is.
 */
export async function recordRefusal(session: Session, operation: OperationName, input: Record<string, unknown>, error: unknown, requestId: string): Promise<void> {
  if (!(error instanceof KmsError) || !isRefusal(error.code) || !session.isOpen) return;
  try {
    const kms = session.kms;
    const details: Record<string, string> = { Code: error.code };
    // The input passed the contract, which bounds each of these fields' length.
    for (const f of NAMING_FIELDS) if (typeof input[f] === 'string') details[f] = input[f];
    const named = namedKey(input);
    await kms.keystore.transaction(async (tx) => {
      // Resolved when it can be (an alias to its key); otherwise the name stays in the details only.
      const keyId = named === undefined ? undefined : await resolveKey(tx, named).then((k) => k.key_id, () => undefined);
      if (named !== undefined && keyId === undefined) details.KeyNamed = named;
      const keyVersionId = typeof input.KeyVersionId === 'string' && keyId !== undefined ? input.KeyVersionId : undefined;
      await appendAudit(
        tx,
        { requestId, operation, keyId: keyId ?? null, keyVersionId: keyVersionId ?? null, details: details as AuditDetails, result: error.code },
        now(kms),
      );
    });
  } catch {
    // See above: the refusal is answered whether or not it could be recorded.
  }
}
