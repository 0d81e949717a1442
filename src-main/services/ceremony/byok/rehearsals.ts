/**
 * The stand-in clouds of BYOK rehearsals (rehearsal.ts) that one session holds while its keystore
 * is open. Apart from rehearsal.ts so that every session can hold them without loading the
 * rehearsal's crypto (SM2, the wrapping layouts) before a rehearsal runs.
 */
import { randomUUID } from 'node:crypto';
import { KmsError } from '../../../../src-shared/errors';
import type { ByokRow, ByokTarget, WrappingKeySpec } from '../../../../src-shared/domain/byokTargets';
import type { StandInPrivateKey } from '../../../crypto/byokLayouts';
import { wipe } from '../../../crypto/wipe';

export interface StandIn {
  target: ByokTarget;
  row: ByokRow;
  wrappingKeySpec: WrappingKeySpec;
  privateKey: StandInPrivateKey;
  fingerprint: string;
}

/** The stand-in clouds of one session. */
export class Rehearsals {
  private readonly standIns = new Map<string, StandIn>();

  add(standIn: StandIn): string {
    const id = randomUUID();
    this.standIns.set(id, standIn);
    return id;
  }

  get(id: string): StandIn {
    const s = this.standIns.get(id);
    if (!s) throw new KmsError('NotFound.Rehearsal', `No rehearsal ${id} in this session: rehearsals end when the keystore locks. Prepare a new one.`);
    return s;
  }

  /** Whether a wrapping key (by its SHA-256 fingerprint) is one of this session's stand-ins. */
  isStandIn(fingerprint: string): boolean {
    for (const s of this.standIns.values()) if (s.fingerprint === fingerprint) return true;
    return false;
  }

  /** Forget every stand-in, zeroing its private key (on lock, and when the session ends). */
  clear(): void {
    for (const s of this.standIns.values()) wipe(s.privateKey.kind === 'RSA' ? s.privateKey.pkcs8 : s.privateKey.d);
    this.standIns.clear();
  }
}
