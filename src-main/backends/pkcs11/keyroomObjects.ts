/**
 * The token's inventory of Keyroom objects: every private, public and secret key whose CKA_LABEL
 * is `keyroom/<KeyId>/<KeyVersionId>` (keyTemplates.ts). CreateKey generates on the token first and
 * then writes the keystore row, so a crash in between leaves objects no keystore row names; the
 * service (services/kms/orphanHsmKeys.ts) compares this inventory with the keystore. Objects of
 * other applications (any other label) are never listed, so never destroyed.
 */
import pkcs11js from 'pkcs11js';
import type { KeyroomTokenObject } from '../backend';
import type { SessionLease } from './sessionManager';

export const KEYROOM_LABEL_PREFIX = 'keyroom/';

const CLASS_OF: ReadonlyMap<number, KeyroomTokenObject['objectClass']> = new Map([
  [pkcs11js.CKO_PRIVATE_KEY, 'private'],
  [pkcs11js.CKO_PUBLIC_KEY, 'public'],
  [pkcs11js.CKO_SECRET_KEY, 'secret'],
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** KeyId and KeyVersionId from `keyroom/<KeyId>/<KeyVersionId>`; nothing when the rest is not that. */
export function parseKeyroomLabel(label: string): { keyId?: string; keyVersionId?: string } {
  const [keyId, keyVersionId, ...rest] = label.slice(KEYROOM_LABEL_PREFIX.length).split('/');
  return rest.length === 0 && keyId && keyVersionId && UUID.test(keyId) && UUID.test(keyVersionId) ? { keyId, keyVersionId } : {};
}

function handles(s: SessionLease, template: pkcs11js.Template): Buffer[] {
  s.p11.C_FindObjectsInit(s.handle, template);
  try {
    const found: Buffer[] = [];
    for (;;) {
      const batch = s.p11.C_FindObjects(s.handle, 64);
      found.push(...batch);
      if (batch.length < 64) return found;
    }
  } finally {
    s.p11.C_FindObjectsFinal(s.handle);
  }
}

/**
 * Every token object (CKA_TOKEN true) of a key class whose label starts `keyroom/`, with its
 * handle. PKCS#11 finds by exact attribute values only, so labels are read and filtered here. The
 * session must be logged in, or private objects stay invisible.
 */
export function findKeyroomObjects(s: SessionLease, objectId?: Buffer): { handle: Buffer; object: KeyroomTokenObject }[] {
  const out: { handle: Buffer; object: KeyroomTokenObject }[] = [];
  // One search per key class: data objects and certificates have no place here (nor, some, a CKA_ID).
  for (const [cls, objectClass] of CLASS_OF) {
    const template: pkcs11js.Template = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_CLASS, value: cls },
    ];
    if (objectId) template.push({ type: pkcs11js.CKA_ID, value: objectId });
    for (const handle of handles(s, template)) {
      const [id, label] = s.p11.C_GetAttributeValue(s.handle, handle, [{ type: pkcs11js.CKA_ID }, { type: pkcs11js.CKA_LABEL }]);
      const text = label ? label.value.toString('utf8') : '';
      if (!id || !text.startsWith(KEYROOM_LABEL_PREFIX)) continue;
      out.push({ handle, object: { objectId: Buffer.from(id.value), label: text, objectClass, ...parseKeyroomLabel(text) } });
    }
  }
  return out;
}
