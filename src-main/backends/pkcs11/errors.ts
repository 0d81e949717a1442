/**
 * The one place where PKCS#11 return values (CKR_*) become KmsErrors. pkcs11js throws
 * `Pkcs11Error` with `.message` = the CKR name (e.g. "CKR_PIN_INCORRECT") and `.code` = its
 * number; loading a library throws a `NativeError`. Every message names the PKCS#11 code, so
 * support can read it, and never contains a PIN, key material or plaintext.
 */
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';

/** What Keyroom does about a return value. */
export type CkrCategory =
  | 'PinIncorrect'
  | 'PinLocked'
  | 'TokenNotPresent'
  | 'MechanismUnsupported'
  | 'KeyNotFound'
  /** The session or the library went away: reopen (and log in again), then retry once. */
  | 'SessionLost'
  /** Data the caller gave was refused by the token (bad ciphertext, bad length). */
  | 'BadData'
  | 'DeviceError';

/**
 * The codes Keyroom knows by name. Anything else is a DeviceError, named by its code.
 * (CKR_GENERAL_ERROR is a DeviceError here; in a decryption SoftHSM 2.6 also reports a failed
 * GCM tag or OAEP padding with it, which the backend maps to InvalidCiphertext itself.)
 */
const CATEGORY = {
  CKR_PIN_INCORRECT: 'PinIncorrect',
  CKR_PIN_INVALID: 'PinIncorrect',
  CKR_PIN_LEN_RANGE: 'PinIncorrect',
  CKR_PIN_LOCKED: 'PinLocked',
  CKR_PIN_EXPIRED: 'PinLocked',
  CKR_TOKEN_NOT_PRESENT: 'TokenNotPresent',
  CKR_TOKEN_NOT_RECOGNIZED: 'TokenNotPresent',
  CKR_SLOT_ID_INVALID: 'TokenNotPresent',
  CKR_MECHANISM_INVALID: 'MechanismUnsupported',
  CKR_MECHANISM_PARAM_INVALID: 'MechanismUnsupported',
  CKR_KEY_SIZE_RANGE: 'MechanismUnsupported',
  CKR_CURVE_NOT_SUPPORTED: 'MechanismUnsupported',
  CKR_DOMAIN_PARAMS_INVALID: 'MechanismUnsupported',
  CKR_FUNCTION_NOT_SUPPORTED: 'MechanismUnsupported',
  CKR_KEY_FUNCTION_NOT_PERMITTED: 'MechanismUnsupported',
  CKR_KEY_TYPE_INCONSISTENT: 'MechanismUnsupported',
  CKR_TEMPLATE_INCONSISTENT: 'MechanismUnsupported',
  CKR_ATTRIBUTE_VALUE_INVALID: 'MechanismUnsupported',
  CKR_ATTRIBUTE_TYPE_INVALID: 'MechanismUnsupported',
  CKR_OBJECT_HANDLE_INVALID: 'KeyNotFound',
  CKR_KEY_HANDLE_INVALID: 'KeyNotFound',
  CKR_SESSION_HANDLE_INVALID: 'SessionLost',
  CKR_SESSION_CLOSED: 'SessionLost',
  CKR_DEVICE_REMOVED: 'SessionLost',
  CKR_CRYPTOKI_NOT_INITIALIZED: 'SessionLost',
  CKR_USER_NOT_LOGGED_IN: 'SessionLost',
  CKR_ENCRYPTED_DATA_INVALID: 'BadData',
  CKR_ENCRYPTED_DATA_LEN_RANGE: 'BadData',
  CKR_DATA_INVALID: 'BadData',
  CKR_DATA_LEN_RANGE: 'BadData',
  CKR_SIGNATURE_INVALID: 'BadData',
  CKR_DEVICE_ERROR: 'DeviceError',
  CKR_DEVICE_MEMORY: 'DeviceError',
  CKR_HOST_MEMORY: 'DeviceError',
  CKR_GENERAL_ERROR: 'DeviceError',
  CKR_FUNCTION_FAILED: 'DeviceError',
  CKR_TOKEN_WRITE_PROTECTED: 'DeviceError',
} as const satisfies Record<string, CkrCategory>;

export type KnownCkr = keyof typeof CATEGORY;

/** What a token answers to OAEP parameters it does not take (SoftHSM 2.6: CKR_ARGUMENTS_BAD for SHA-256). */
export const OAEP_PARAMS_REFUSED = ['CKR_ARGUMENTS_BAD', 'CKR_MECHANISM_PARAM_INVALID', 'CKR_MECHANISM_INVALID'] as const;

/**
 * Token removal is reported as CKR_TOKEN_NOT_PRESENT by some modules and CKR_DEVICE_REMOVED by
 * others; both are worth one reopen (the token may be back). Kept apart from CATEGORY because
 * a token that is still absent after the reopen must say TokenNotPresent.
 */
const RECOVERABLE = new Set<string>([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_USER_NOT_LOGGED_IN',
]);

/** The CKR name of a pkcs11js error ("CKR_PIN_INCORRECT"), or undefined for anything else. */
export function ckrName(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  if (e instanceof pkcs11js.Pkcs11Error || e.name === 'Pkcs11Error') {
    const m = /CKR_[A-Z0-9_]+/.exec(e.message);
    if (m) return m[0];
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return ckrNameOf(code);
  }
  return undefined;
}

let CKR_BY_NUMBER: Map<number, string> | undefined;

/** The CKR name of a return value number, e.g. 0xa0 -> "CKR_PIN_INCORRECT". */
export function ckrNameOf(code: number): string {
  if (!CKR_BY_NUMBER) {
    CKR_BY_NUMBER = new Map();
    for (const [k, v] of Object.entries(pkcs11js)) if (k.startsWith('CKR_') && typeof v === 'number') CKR_BY_NUMBER.set(v, k);
  }
  return CKR_BY_NUMBER.get(code) ?? `CKR_0x${code.toString(16).padStart(8, '0')}`;
}

export function categoryOf(ckr: string): CkrCategory {
  return (CATEGORY as Record<string, CkrCategory>)[ckr] ?? 'DeviceError';
}

/** Whether a reopen and a new login may cure this error (session, token or library went away). */
export function isRecoverable(e: unknown): boolean {
  const ckr = ckrName(e);
  return ckr !== undefined && RECOVERABLE.has(ckr);
}

export function hasCkr(e: unknown, ...names: string[]): boolean {
  const ckr = ckrName(e);
  return ckr !== undefined && names.includes(ckr);
}

/** What the message may say about the token the error came from. */
export interface HsmErrorContext {
  /** What Keyroom was doing, e.g. "sign with key version 1234". */
  action: string;
  tokenLabel?: string;
  tokenSerial?: string;
  /** CK_TOKEN_INFO.flags read after the failure (for the PIN counters). */
  tokenFlags?: number;
  modulePath?: string;
  /** For KeyNotFound: the CKA_ID looked for. */
  objectId?: Buffer | null;
}

function tokenName(ctx: HsmErrorContext): string {
  if (ctx.tokenLabel === undefined) return 'the token';
  return `token "${ctx.tokenLabel}"${ctx.tokenSerial ? ` (serial ${ctx.tokenSerial})` : ''}`;
}

/** The PIN counter flags, in words, with their PKCS#11 names. */
export function pinFlagsText(flags: number | undefined): string {
  if (flags === undefined) return '';
  if (flags & pkcs11js.CKF_USER_PIN_LOCKED) return ' The token now reports the PIN as locked (CKF_USER_PIN_LOCKED).';
  if (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) {
    return ' The token says the next wrong PIN locks it (CKF_USER_PIN_FINAL_TRY): check the PIN before trying again.';
  }
  if (flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) {
    return ' The token reports that wrong PINs have been entered and few tries may be left (CKF_USER_PIN_COUNT_LOW).';
  }
  return '';
}

/**
 * A KmsError for a PKCS#11 error (or the error itself if it is already a KmsError). The original
 * error stays in `cause` for the code that handles it (never shown: it has no secrets, but no use
 * to the operator either).
 */
export function toKmsError(e: unknown, ctx: HsmErrorContext): KmsError {
  if (e instanceof KmsError) return e;
  const err = buildKmsError(e, ctx);
  err.cause = e;
  return err;
}

function buildKmsError(e: unknown, ctx: HsmErrorContext): KmsError {
  const ckr = ckrName(e);
  if (ckr === undefined) {
    const first = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return new KmsError('Hsm.DeviceError', `The PKCS#11 module failed to ${ctx.action} on ${tokenName(ctx)}: ${first}.`);
  }
  const category = categoryOf(ckr);
  const token = tokenName(ctx);
  switch (category) {
    case 'PinIncorrect':
      return new KmsError('Hsm.PinIncorrect', `The user PIN for ${token} is incorrect (${ckr}).${pinFlagsText(ctx.tokenFlags)}`);
    case 'PinLocked':
      return new KmsError(
        'Hsm.PinLocked',
        `The user PIN of ${token} is ${ckr === 'CKR_PIN_EXPIRED' ? 'expired' : 'locked'} (${ckr}): the security officer must reset it with the token's own tool before Keyroom can log in.`,
      );
    case 'TokenNotPresent':
      return new KmsError('Hsm.TokenNotPresent', `${capitalise(token)} is not present (${ckr}): insert it and try again.`);
    case 'MechanismUnsupported':
      return new KmsError(
        'Hsm.MechanismUnsupported',
        `${capitalise(token)} cannot ${ctx.action} (${ckr}): it lacks the mechanism, key size or curve. A SOFTWARE key is the alternative.`,
      );
    case 'KeyNotFound':
      return keyNotFound(ctx, ckr);
    case 'SessionLost':
      return new KmsError(
        'Hsm.DeviceError',
        `Lost the session with ${token} while trying to ${ctx.action} (${ckr}), and could not open a new one: check the token and try again.`,
      );
    case 'BadData':
      return new KmsError('InvalidCiphertext', `${capitalise(token)} refused the data while trying to ${ctx.action} (${ckr}).`);
    case 'DeviceError':
      return new KmsError('Hsm.DeviceError', `${capitalise(token)} failed to ${ctx.action} (${ckr}).`);
    default: {
      const never: never = category;
      return new KmsError('Hsm.DeviceError', `Unexpected PKCS#11 error ${String(never)}.`);
    }
  }
}

/** A key version whose objects are not on the token. */
export function keyNotFound(ctx: HsmErrorContext, ckr?: string): KmsError {
  const id = ctx.objectId ? ` with CKA_ID ${ctx.objectId.toString('hex')}` : '';
  return new KmsError(
    'Hsm.KeyNotFound',
    `The key's object${id} is not on ${tokenName(ctx)}${ckr ? ` (${ckr})` : ''}: it was deleted from the token behind Keyroom's back, ` +
      'or this is not the token the key was made on. Keyroom cannot use this key version; restore the token from its backup or connect the right token.',
  );
}

/** The library could not be found or loaded. */
export function moduleNotFound(tried: readonly string[], reason?: string): KmsError {
  const list = tried.map((p) => `  ${p}`).join('\n');
  return new KmsError(
    'Hsm.ModuleNotFound',
    `No PKCS#11 module could be loaded${reason ? ` (${reason})` : ''}. Tried:\n${list}\n` +
      'Install the token vendor\'s PKCS#11 library (e.g. `apt-get install softhsm2` or `opensc`) or give its path: --pkcs11-module on the command line, KEYROOM_PKCS11_MODULE in the environment for the app.',
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
