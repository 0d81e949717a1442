/**
 * Slots and tokens of a module, as plain JSON-able objects (PascalCase, as the CLI prints them):
 * label, serial, manufacturer, model, flags, free memory, and which of the mechanisms Keyroom
 * uses the token offers. Also the token lookup the session manager uses.
 */
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';
import { CKF_HW_SLOT, CKF_REMOVABLE_DEVICE } from './constants';
import { toKmsError } from './errors';
import type { Pkcs11Module } from './module';
// The shapes ListTokens returns are the contract's (src-shared), so every front door shares them.
import type { TokenFlags, TokenDescription } from '../../../src-shared/contract/types';
export type { TokenFlags, TokenDescription };

/** The mechanisms Keyroom uses, with their PKCS#11 numbers (PKCS#11 v2.40 / 3.0). */
export const KEYROOM_MECHANISMS = {
  AES_KEY_GEN: 0x1080,
  AES_GCM: 0x1087,
  /** Key check values of AES keys (one zero block). */
  AES_ECB: 0x1081,
  AES_KEY_WRAP: 0x2109,
  AES_KEY_WRAP_PAD: 0x210a,
  RSA_PKCS_KEY_PAIR_GEN: 0x0000,
  RSA_PKCS: 0x0001,
  RSA_X_509: 0x0003,
  RSA_PKCS_OAEP: 0x0009,
  RSA_PKCS_PSS: 0x000d,
  RSA_AES_KEY_WRAP: 0x1054,
  EC_KEY_PAIR_GEN: 0x1040,
  ECDSA: 0x1041,
  ECDH1_DERIVE: 0x1050,
  /** PKCS#11 3.0: Ed25519 keys (CKK_EC_EDWARDS) and pure EdDSA signatures; SoftHSM 2.6 has both. */
  EC_EDWARDS_KEY_PAIR_GEN: 0x1055,
  EDDSA: 0x1057,
  GENERIC_SECRET_KEY_GEN: 0x0350,
  SHA256_HMAC: 0x0251,
  SHA384_HMAC: 0x0261,
  SHA512_HMAC: 0x0271,
} as const;

export type KeyroomMechanism = keyof typeof KEYROOM_MECHANISMS;

/**
 * SM2 / SM4 have no standard PKCS#11 numbers: each vendor defines its own above
 * CKM_VENDOR_DEFINED (0x80000000), in its own header. Give them here (from the vendor's
 * documentation) to have ListTokens report them and the backend use them.
 */
export interface VendorMechanisms {
  SM2_KEY_PAIR_GEN?: number;
  SM2_SIGN?: number;
  SM2_ENCRYPT?: number;
  SM4_KEY_GEN?: number;
  SM4_GCM?: number;
}

export const CKM_VENDOR_DEFINED = 0x80000000;


/** CK_SLOT_ID as a number (pkcs11js hands slots around as 8-byte little-endian buffers). */
export function slotIdOf(slot: Buffer): number {
  return slot.length >= 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUIntLE(0, slot.length);
}

/** CK_ULONG fields arrive as number or bigint; ~0 means "not available". */
function reported(v: number | bigint | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'bigint' ? v : BigInt(v);
  if (n === 0xffffffffffffffffn || n === 0xffffffffn) return undefined;
  return Number(n);
}

function version(v: pkcs11js.Version): string {
  return `${v.major}.${v.minor}`;
}

export function tokenFlags(flags: number): TokenFlags {
  const has = (f: number) => (flags & f) !== 0;
  return {
    TokenInitialized: has(pkcs11js.CKF_TOKEN_INITIALIZED),
    LoginRequired: has(pkcs11js.CKF_LOGIN_REQUIRED),
    UserPinInitialized: has(pkcs11js.CKF_USER_PIN_INITIALIZED),
    UserPinLocked: has(pkcs11js.CKF_USER_PIN_LOCKED),
    UserPinFinalTry: has(pkcs11js.CKF_USER_PIN_FINAL_TRY),
    UserPinCountLow: has(pkcs11js.CKF_USER_PIN_COUNT_LOW),
    UserPinToBeChanged: has(pkcs11js.CKF_USER_PIN_TO_BE_CHANGED),
    WriteProtected: has(pkcs11js.CKF_WRITE_PROTECTED),
    ProtectedAuthenticationPath: has(pkcs11js.CKF_PROTECTED_AUTHENTICATION_PATH),
    HardwareSlot: false,
    RemovableDevice: false,
  };
}

/** The mechanism numbers a token offers. */
export function mechanismList(module: Pkcs11Module, slot: Buffer): Set<number> {
  try {
    return new Set(module.p11.C_GetMechanismList(slot));
  } catch (e) {
    throw toKmsError(e, { action: 'list its mechanisms' });
  }
}

function describe(module: Pkcs11Module, slot: Buffer, vendor: VendorMechanisms): TokenDescription {
  const p11 = module.p11;
  const slotInfo = p11.C_GetSlotInfo(slot);
  const info = p11.C_GetTokenInfo(slot);
  const mechs = mechanismList(module, slot);
  const flags = tokenFlags(info.flags);
  flags.HardwareSlot = (slotInfo.flags & CKF_HW_SLOT) !== 0;
  flags.RemovableDevice = (slotInfo.flags & CKF_REMOVABLE_DEVICE) !== 0;
  const have: string[] = [];
  const missing: string[] = [];
  for (const [name, number] of Object.entries(KEYROOM_MECHANISMS)) (mechs.has(number) ? have : missing).push(name);
  for (const [name, number] of Object.entries(vendor)) if (number !== undefined && mechs.has(number)) have.push(name);
  const d: TokenDescription = {
    SlotId: slotIdOf(slot),
    SlotDescription: slotInfo.slotDescription.trim(),
    Label: info.label.trim(),
    SerialNumber: info.serialNumber.trim(),
    Manufacturer: info.manufacturerID.trim(),
    Model: info.model.trim(),
    HardwareVersion: version(info.hardwareVersion),
    FirmwareVersion: version(info.firmwareVersion),
    Flags: flags,
    Mechanisms: have,
    MissingMechanisms: missing,
    VendorMechanisms: [...mechs].filter((m) => m >= CKM_VENDOR_DEFINED).map((m) => `0x${m.toString(16)}`),
  };
  const memory = {
    FreePrivateMemory: reported(info.freePrivateMemory as number | bigint),
    FreePublicMemory: reported(info.freePublicMemory as number | bigint),
    TotalPrivateMemory: reported(info.totalPrivateMemory as number | bigint),
    TotalPublicMemory: reported(info.totalPublicMemory as number | bigint),
  };
  for (const [k, v] of Object.entries(memory)) if (v !== undefined) (d as unknown as Record<string, number>)[k] = v;
  return d;
}

/** Every slot that has a token, initialised or not (SoftHSM always shows one free slot). */
export function listTokens(module: Pkcs11Module, vendor: VendorMechanisms = {}): TokenDescription[] {
  let slots: Buffer[];
  try {
    slots = module.p11.C_GetSlotList(true);
  } catch (e) {
    throw toKmsError(e, { action: 'list its slots', modulePath: module.path });
  }
  const out: TokenDescription[] = [];
  for (const slot of slots) {
    try {
      out.push(describe(module, slot, vendor));
    } catch (e) {
      // A token pulled out between C_GetSlotList and C_GetTokenInfo is simply not listed.
      if (e instanceof KmsError && e.code === 'Hsm.TokenNotPresent') continue;
      throw toKmsError(e, { action: 'describe a token', modulePath: module.path });
    }
  }
  return out;
}

export interface FoundToken {
  slot: Buffer;
  label: string;
  serial: string;
  flags: number;
}

function tokenAt(module: Pkcs11Module, slot: Buffer): FoundToken | undefined {
  try {
    const info = module.p11.C_GetTokenInfo(slot);
    return { slot, label: info.label.trim(), serial: info.serialNumber.trim(), flags: info.flags };
  } catch {
    return undefined; // removed meanwhile
  }
}

/** The initialised tokens present now. */
export function initialisedTokens(module: Pkcs11Module): FoundToken[] {
  let slots: Buffer[];
  try {
    slots = module.p11.C_GetSlotList(true);
  } catch (e) {
    throw toKmsError(e, { action: 'list its slots', modulePath: module.path });
  }
  return slots
    .map((s) => tokenAt(module, s))
    .filter((t): t is FoundToken => t !== undefined && (t.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0);
}

/**
 * The token to use: the one with this label (or, when `serial` is given, that serial: a token
 * found again after it was reinserted), or the only initialised one when no label is given.
 */
export function findToken(module: Pkcs11Module, want: { label?: string | null; serial?: string | null }): FoundToken {
  const tokens = initialisedTokens(module);
  const present = tokens.length ? tokens.map((t) => `"${t.label}" (serial ${t.serial})`).join(', ') : 'none';
  if (want.serial) {
    const t = tokens.find((x) => x.serial === want.serial);
    if (t) return t;
    throw new KmsError(
      'Hsm.TokenNotPresent',
      `The token${want.label ? ` "${want.label}"` : ''} with serial ${want.serial} is not present (CKR_TOKEN_NOT_PRESENT): insert it. Tokens present: ${present}.`,
    );
  }
  if (want.label) {
    const t = tokens.find((x) => x.label === want.label);
    if (t) return t;
    throw new KmsError(
      'Hsm.TokenNotPresent',
      `No token labelled "${want.label}" is present in ${module.path} (CKR_TOKEN_NOT_PRESENT): insert it, or choose another with --token. Tokens present: ${present}.`,
    );
  }
  if (tokens.length === 1) return tokens[0]!;
  if (tokens.length === 0) {
    throw new KmsError('Hsm.TokenNotPresent', `No initialised token is present in ${module.path} (CKR_TOKEN_NOT_PRESENT): insert one.`);
  }
  throw new KmsError('InvalidParameter', `Several tokens are present (${present}): choose one by its label with --token.`);
}
