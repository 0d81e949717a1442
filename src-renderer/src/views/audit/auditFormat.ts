/**
 * How audit entries read on the Audit screen: times in the operator's local time (the recorded
 * ISO time stays on hover), details as `name: value`, and the names the operation filter offers.
 */
import { APP_OPERATION_NAMES } from '../../../../src-shared/contract/names';
import type { AuditEvent } from '../../../../src-shared/contract/types';

const LOCAL_TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

/** The recorded time in local time with its zone; the text as recorded when it is not a date. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : LOCAL_TIME.format(d);
}

/** `2026-07-14`, today in local time, for export file names. */
export function localDate(d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export interface DetailLine {
  name: string;
  value: string;
  /** Identifiers, hashes, paths: shown in monospace and allowed to break anywhere. */
  literal: boolean;
}

/** Details in recorded order; strings and numbers are literal values, null reads as "none". */
export function detailLines(details: AuditEvent['Details']): DetailLine[] {
  return Object.entries(details).map(([name, value]) => {
    if (value === null) return { name, value: 'none', literal: false };
    if (typeof value === 'boolean') return { name, value: value ? 'yes' : 'no', literal: false };
    return { name, value: String(value), literal: true };
  });
}

/**
 * Entries written by the keystore itself rather than by an operation of the contract: a key
 * destroyed when its deletion date passed while the keystore was closed (dueWork in the main
 * process).
 */
const KEYSTORE_OWN_OPERATIONS = ['DestroyKey'] as const;

/** Every name the operation filter can offer: the contract's operations and the keystore's own. */
export const ALL_OPERATION_NAMES: readonly string[] = [...new Set<string>([...APP_OPERATION_NAMES, ...KEYSTORE_OWN_OPERATIONS])].sort();

/** A KeyId as ListAuditEvents accepts it (a UUID). */
export const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
