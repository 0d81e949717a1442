/**
 * Does this token's CKM_AES_KEY_WRAP_PAD follow RFC 5649 exactly? SoftHSM 2.3 to 2.6.1 (the newest
 * release; opendnssec/SoftHSMv2 SoftHSM.cpp, WrapKeySym, "Issue #305: Zero pad key to fit the
 * block", 2017) zero-pads every key to a multiple of 8 bytes before any AES wrap, so its KWP
 * writes the padded length into the AIV's MLI: the receiver unwraps the key followed by 1 to 7
 * zero bytes. OpenSSL's `pkey` ignores them; Python's `cryptography` and strict importers do not.
 * (SoftHSM's development branch pads for CKM_AES_KEY_WRAP only; no release has it yet.)
 *
 * The probe wraps a throwaway 20-byte generic secret under a throwaway AES key, both made here
 * from random bytes that belong to no one, and unwraps the result in this process: MLI 20 is
 * RFC 5649, MLI 24 is the padded form. No key of anyone's is read outside the token.
 */
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';
import { aes256Block, kwpUnwrap } from '../../crypto/keyWrapPad';
import { wipe } from '../../crypto/wipe';
import type { SessionLease } from './sessionManager';
import { KEYROOM_MECHANISMS as M } from './tokens';

/** `exact`: the MLI is the key's length. `countsPadding`: the MLI is the length rounded up to 8. */
export type KwpBehaviour = 'exact' | 'countsPadding';

/** Not a multiple of 8, so a padding token shows itself. */
const PROBE_SECRET_BYTES = 20;

function attr(type: number, value: pkcs11js.Attribute['value']): pkcs11js.Attribute {
  return { type, value };
}

function sessionSecret(s: SessionLease, keyType: number, value: Buffer, wrap: boolean): Buffer {
  return s.p11.C_CreateObject(s.handle, [
    attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_SECRET_KEY),
    attr(pkcs11js.CKA_KEY_TYPE, keyType),
    attr(pkcs11js.CKA_TOKEN, false),
    attr(pkcs11js.CKA_PRIVATE, true),
    attr(pkcs11js.CKA_SENSITIVE, false),
    attr(pkcs11js.CKA_EXTRACTABLE, true),
    attr(pkcs11js.CKA_WRAP, wrap),
    attr(pkcs11js.CKA_VALUE, value),
  ]);
}

/** Wrap a throwaway secret with the token's KWP and read the MLI back (see the file comment). */
export function probeKwp(s: SessionLease): KwpBehaviour {
  const kek = randomBytes(32);
  const secret = randomBytes(PROBE_SECRET_BYTES);
  const made: Buffer[] = [];
  let unwrapped: Buffer | undefined;
  try {
    const wrapping = sessionSecret(s, pkcs11js.CKK_AES, kek, true);
    made.push(wrapping);
    const target = sessionSecret(s, pkcs11js.CKK_GENERIC_SECRET, secret, false);
    made.push(target);
    const wrapped = Buffer.from(s.p11.C_WrapKey(s.handle, { mechanism: M.AES_KEY_WRAP_PAD }, wrapping, target, Buffer.alloc(64)));
    try {
      unwrapped = kwpUnwrap(aes256Block(kek), wrapped);
    } catch {
      unwrapped = undefined;
    }
    if (unwrapped?.length === PROBE_SECRET_BYTES && unwrapped.equals(secret)) return 'exact';
    const padded = Buffer.concat([secret, Buffer.alloc(8 - (PROBE_SECRET_BYTES % 8))]);
    if (unwrapped?.equals(padded)) return 'countsPadding';
    throw new KmsError(
      'Hsm.DeviceError',
      `Token "${s.token.label}" (serial ${s.token.serial}) made CKM_AES_KEY_WRAP_PAD output that does not unwrap as RFC 5649 (checked on a throwaway key), so nothing was wrapped with it.`,
    );
  } finally {
    for (const h of made) {
      try {
        s.p11.C_DestroyObject(s.handle, h);
      } catch {
        // session objects die with the session anyway
      }
    }
    wipe(kek, secret, unwrapped);
  }
}
