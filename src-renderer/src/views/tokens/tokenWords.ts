/**
 * How a token's PKCS#11 flags, memory and refusals read on the Tokens screen: each flag that
 * matters as a badge in plain words (with the PKCS#11 flag name on hover, for the manual), and
 * what the operator can do about each token error.
 */
import type { ErrorCode } from '../../../../src-shared/errors';
import type { TokenDescription, TokenFlags } from '../../../../src-shared/contract/types';

export type BadgeKind = 'ok' | 'warn' | 'bad' | '';

export interface FlagBadge {
  /** Stable, for tests and keys: the flag's field name (or field name + "-off"). */
  id: string;
  text: string;
  kind: BadgeKind;
  /** The PKCS#11 flag, and what it means. */
  title: string;
}

/** The flags worth reading, in order of consequence: what blocks use first. */
export function flagBadges(f: TokenFlags): FlagBadge[] {
  const badges: FlagBadge[] = [];
  const add = (id: keyof TokenFlags | `${keyof TokenFlags}-off`, text: string, kind: BadgeKind, title: string) => badges.push({ id, text, kind, title });

  if (!f.TokenInitialized) {
    // Nothing else on an empty slot says anything about use.
    add('TokenInitialized-off', 'Not initialized', 'bad', 'CKF_TOKEN_INITIALIZED is not set: the token has no label or PINs yet.');
    return badges;
  }
  add('TokenInitialized', 'Initialized', 'ok', 'CKF_TOKEN_INITIALIZED');
  if (!f.UserPinInitialized) add('UserPinInitialized-off', 'User PIN not set', 'bad', 'CKF_USER_PIN_INITIALIZED is not set: the Security Officer has not set a user PIN.');
  if (f.UserPinLocked) add('UserPinLocked', 'User PIN locked', 'bad', 'CKF_USER_PIN_LOCKED: too many wrong PINs; only the Security Officer can unlock it.');
  else if (f.UserPinFinalTry) add('UserPinFinalTry', 'Final PIN try', 'bad', 'CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks the user PIN.');
  else if (f.UserPinCountLow) add('UserPinCountLow', 'Wrong PIN entered recently', 'warn', 'CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered since the last right one.');
  if (f.UserPinToBeChanged) add('UserPinToBeChanged', 'PIN must be changed', 'warn', 'CKF_USER_PIN_TO_BE_CHANGED: the token wants a new user PIN before use.');
  if (f.WriteProtected) add('WriteProtected', 'Write-protected', 'warn', 'CKF_WRITE_PROTECTED: no key can be created on this token.');
  if (f.LoginRequired) add('LoginRequired', 'Login required', '', 'CKF_LOGIN_REQUIRED: keys are used only after logging in with the user PIN.');
  if (f.ProtectedAuthenticationPath) add('ProtectedAuthenticationPath', 'PIN pad on device', '', 'CKF_PROTECTED_AUTHENTICATION_PATH: the token has its own PIN entry.');
  add(f.HardwareSlot ? 'HardwareSlot' : 'HardwareSlot-off', f.HardwareSlot ? 'Hardware slot' : 'Software slot', '', f.HardwareSlot ? 'CKF_HW_SLOT: a physical device.' : 'CKF_HW_SLOT is not set: the slot is implemented in software (as SoftHSM is).');
  if (f.RemovableDevice) add('RemovableDevice', 'Removable', '', 'CKF_REMOVABLE_DEVICE: the token can be unplugged.');
  return badges;
}

/** Why no PIN can be entered for a token, or null when it can. */
export function loginBlockedBecause(t: TokenDescription): 'not-initialized' | 'no-user-pin' | 'pin-locked' | null {
  if (!t.Flags.TokenInitialized) return 'not-initialized';
  if (!t.Flags.UserPinInitialized) return 'no-user-pin';
  if (t.Flags.UserPinLocked) return 'pin-locked';
  return null;
}

/** `1.2 MB`; null when the token does not report the figure. */
export function formatBytes(bytes: number | undefined): string | null {
  if (bytes === undefined) return null;
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** "2.1 MB free of 4 MB", "2.1 MB free", or null when the token reports nothing. */
export function memoryWords(free: number | undefined, total: number | undefined): string | null {
  const f = formatBytes(free);
  const t = formatBytes(total);
  if (f && t) return `${f} free of ${t}`;
  if (f) return `${f} free`;
  if (t) return `${t} in all (free space not reported)`;
  return null;
}

/** What the operator can do about a token refusal, beyond its headline and message. */
export const TOKEN_ERROR_HINTS: Partial<Record<ErrorCode, string>> = {
  'Hsm.PinIncorrect':
    'Check the PIN and try again. Every wrong PIN counts: after a few in a row the token locks its user PIN, and only the Security Officer can unlock it.',
  'Hsm.PinLocked':
    "Keyroom cannot unlock it. The token's Security Officer must unlock it (or set a new user PIN) with the SO PIN and the token's own tool, for example `pkcs11-tool --login --login-type so --init-pin`. Then press Refresh.",
  'Hsm.TokenNotPresent': 'Plug the token in (or check its cable), wait a few seconds, then press Refresh.',
  'Hsm.ModuleNotFound':
    "Keyroom looked for the token's PKCS#11 library in the places named above. Install the token's driver, or start Keyroom with KEYROOM_PKCS11_MODULE (or --pkcs11-module) set to the library file, then press Refresh.",
  'Hsm.DeviceError': 'Unplug the token, plug it back in and press Refresh. If it keeps failing, stop and use another token.',
  'Hsm.NotConfigured': 'Start Keyroom with KEYROOM_PKCS11_MODULE (or --pkcs11-module) naming the PKCS#11 library of the token.',
};
