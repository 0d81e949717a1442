/**
 * What the KMS services need, passed in explicitly: the open keystore, the clock (tests control
 * it), the backends by protection level, and who is acting (the Creator of new keys).
 */
import type { Keystore } from '../../keystore/keystore';
import type { KeyBackend } from '../../backends/backend';
import type { ProtectionLevel } from '../../../src-shared/domain/keySpecs';

export interface KmsContext {
  keystore: Keystore;
  clock: () => Date;
  backends: Readonly<Partial<Record<ProtectionLevel, KeyBackend>>>;
  creator: string;
}

/** ISO-8601 UTC without milliseconds, as the reference prints dates. */
export function isoTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function now(ctx: KmsContext): string {
  return isoTime(ctx.clock());
}

export const DAY_MS = 24 * 60 * 60 * 1000;
