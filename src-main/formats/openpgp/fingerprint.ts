/** v4 fingerprint and Key ID (RFC 4880 §12.2; RFC 9580 §5.5.4.2). */
import { createHash } from 'node:crypto';
import { be16 } from './packets';

/** SHA-1(0x99 || be16(len) || public-key packet body): 20 octets. */
export function v4Fingerprint(publicKeyBody: Buffer): Buffer {
  return createHash('sha1').update(Buffer.from([0x99])).update(be16(publicKeyBody.length)).update(publicKeyBody).digest();
}

/** The Key ID: the low 64 bits of the v4 fingerprint. */
export function v4KeyId(fingerprint: Buffer): Buffer {
  return fingerprint.subarray(12);
}
