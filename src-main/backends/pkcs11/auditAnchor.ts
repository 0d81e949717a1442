/**
 * The audit head anchored on the token: one CKO_DATA object per keystore, labelled
 * `keyroom/anchor/<keystore id>`, CKA_TOKEN and CKA_PRIVATE (readable only after login), whose
 * CKA_VALUE is `<seq>:<hash>` of the audit log's newest entry when it was last anchored.
 *
 * A copy of the keystore file cannot carry the token along: a keystore put back from an older
 * copy has a head before the anchor, which is what anchorVerdict() in the audit service reports.
 * Reads and writes go through the session manager the HSM keys use (no second login).
 */
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';
import type { Pkcs11SessionManager, SessionLease } from './sessionManager';

export interface AnchoredHead {
  seq: number;
  hash: string;
}

export function anchorLabel(keystoreId: string): string {
  return `keyroom/anchor/${keystoreId}`;
}

function findAnchor(s: SessionLease, label: string): Buffer[] {
  s.p11.C_FindObjectsInit(s.handle, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    return s.p11.C_FindObjects(s.handle, 4);
  } finally {
    s.p11.C_FindObjectsFinal(s.handle);
  }
}

function valueOf(s: SessionLease, handle: Buffer, label: string): AnchoredHead {
  const [value] = s.p11.C_GetAttributeValue(s.handle, handle, [{ type: pkcs11js.CKA_VALUE }]);
  return parseValue(Buffer.from(value?.value as Buffer), label);
}

function parseValue(value: Buffer, label: string): AnchoredHead {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(value.toString('latin1'));
  if (!m) throw new KmsError('Hsm.DeviceError', `The anchor object "${label}" on the token does not hold "<seq>:<hash>"; it was not written by Keyroom.`);
  return { seq: Number(m[1]), hash: m[2]! };
}

/** The anchored head, or undefined if this keystore was never anchored on the token. */
export async function readAnchor(manager: Pkcs11SessionManager, keystoreId: string): Promise<AnchoredHead | undefined> {
  const label = anchorLabel(keystoreId);
  return manager.run('read the audit anchor', (s) => {
    manager.loginIfNeeded(s);
    // Two objects only after a crash between writeAnchor's create and destroy: the newer counts.
    let newest: AnchoredHead | undefined;
    for (const handle of findAnchor(s, label)) {
      const anchor = valueOf(s, handle, label);
      if (!newest || anchor.seq > newest.seq) newest = anchor;
    }
    return newest;
  });
}

/**
 * Writes `head` as the anchor. The caller has checked that the anchor it replaces is an ancestor
 * of `head` (anchors only move forward). Tokens may refuse to change a data object's CKA_VALUE
 * (SoftHSM 2.6: CKR_ATTRIBUTE_READ_ONLY), so a new object is made first and the older ones are
 * destroyed after: a crash in between leaves two, and readAnchor takes the newer.
 */
export async function writeAnchor(manager: Pkcs11SessionManager, keystoreId: string, head: AnchoredHead): Promise<void> {
  const label = anchorLabel(keystoreId);
  const value = Buffer.from(`${head.seq}:${head.hash}`, 'latin1');
  await manager.run('write the audit anchor', (s) => {
    manager.loginIfNeeded(s);
    const older = findAnchor(s, label);
    s.p11.C_CreateObject(s.handle, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_APPLICATION, value: 'keyroom' },
      { type: pkcs11js.CKA_VALUE, value },
    ]);
    for (const handle of older) s.p11.C_DestroyObject(s.handle, handle);
  });
}
