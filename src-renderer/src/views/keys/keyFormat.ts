/**
 * How keys, states and dates read on the Keys screens. Dates are shown in UTC with the zone
 * named, the way the audit log records them, so witnesses on different machines agree.
 */
import { KEY_SPEC_INFO, type KeySpec, type KeyState, type KeyUsage } from '../../../../src-shared/domain/keySpecs';
import type { KeyMetadata } from '../../../../src-shared/contract/types';

const DAY_MS = 86_400_000;

/** `2026-07-14 08:32 UTC`; the empty string for no date. */
export function formatDate(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The moment `days` days after `from`, as ISO (what ScheduleKeyDeletion will answer, to the second). */
export function daysAfter(from: Date, days: number): string {
  return new Date(from.getTime() + days * DAY_MS).toISOString();
}

export type BadgeKind = 'ok' | 'warn' | 'bad' | '';

export function stateBadge(state: KeyState): BadgeKind {
  switch (state) {
    case 'Enabled':
      return 'ok';
    case 'Disabled':
    case 'PendingImport':
      return 'warn';
    case 'PendingDeletion':
      return 'bad';
    default: {
      const unknownState: never = state;
      return unknownState;
    }
  }
}

export const STATE_WORDS: Readonly<Record<KeyState, string>> = {
  Enabled: 'Enabled',
  Disabled: 'Disabled',
  PendingDeletion: 'Pending deletion',
  PendingImport: 'Waiting for key material',
};

export const USAGE_WORDS: Readonly<Record<KeyUsage, string>> = {
  'ENCRYPT/DECRYPT': 'encrypt and decrypt',
  'SIGN/VERIFY': 'sign and verify',
  'GENERATE/VERIFY_MAC': 'make and check MACs',
};

/** What each spec is, in a few words, for the create form and the key page. */
export const SPEC_WORDS: Readonly<Record<KeySpec, string>> = {
  AES_256: 'AES, 256-bit symmetric key',
  SM4: 'SM4, 128-bit symmetric key',
  HMAC_256: 'HMAC with SHA-256',
  HMAC_384: 'HMAC with SHA-384',
  HMAC_512: 'HMAC with SHA-512',
  RSA_2048: 'RSA, 2048-bit key pair',
  RSA_3072: 'RSA, 3072-bit key pair',
  RSA_4096: 'RSA, 4096-bit key pair (slow to generate)',
  EC_P256: 'ECC, NIST P-256 key pair',
  EC_P256K: 'ECC, secp256k1 key pair',
  EC_P384: 'ECC, NIST P-384 key pair',
  EC_SM2: 'SM2 key pair',
  ED25519: 'Ed25519 key pair (signing only)',
};

export function hasPublicKey(spec: KeySpec): boolean {
  const family = KEY_SPEC_INFO[spec].family;
  return family === 'RSA' || family === 'EC' || family === 'SM2' || family === 'ED25519';
}

/** Automatic rotation applies to symmetric keys generated here (UpdateRotationPolicy refuses the rest). */
export function rotationRefusal(m: KeyMetadata): string | null {
  const family = KEY_SPEC_INFO[m.KeySpec].family;
  if (family !== 'AES' && family !== 'SM4') return `Automatic rotation is for symmetric keys (AES_256, SM4); this is a ${m.KeySpec} key. Rotate it through an alias instead.`;
  if (m.Origin === 'EXTERNAL') return 'This key holds imported material, which never gets new versions. Rotate it through an alias instead.';
  return null;
}

/** Why CreateKeyVersion would be refused now, or null when it is allowed. */
export function newVersionRefusal(m: KeyMetadata): string | null {
  if (m.Origin === 'EXTERNAL') return 'This key holds imported material, which never gets new versions. Rotate it through an alias instead.';
  if (m.KeyState !== 'Enabled') return `The key is ${STATE_WORDS[m.KeyState].toLowerCase()}; only an enabled key gets new versions.`;
  return null;
}

/** RotationInterval as the keystore answers it ("31536000s") in days, or null. */
export function intervalDays(interval: string | undefined): number | null {
  const m = interval ? /^(\d+)s$/.exec(interval) : null;
  return m ? Math.round(Number(m[1]) / 86400) : null;
}

/** The name a key goes by: its first alias, or its KeyId. */
export function keyName(keyId: string, aliases: readonly string[]): string {
  return aliases[0] ?? keyId;
}

/** A file name part from an alias or KeyId: `alias/release/2026` becomes `release-2026`. */
export function fileStem(keyId: string, aliases: readonly string[]): string {
  const alias = aliases[0];
  return alias ? alias.slice('alias/'.length).replace(/\//g, '-') : keyId;
}
