/**
 * ECDSA signature encodings (reference note §5). Keyroom's backends return DER
 * SEQUENCE{INTEGER r, INTEGER s} (SEC 1 §C.8, as `openssl dgst` reads it); OpenPGP wants r and s
 * as MPIs (RFC 4880 §5.2.2), JWS wants IEEE P1363 r||s, each left-padded to the field size
 * (RFC 7518 §3.4). Parsed strictly: a malformed or non-minimal DER from a signer is a fault, not
 * something to tolerate.
 */
import { KmsError } from '../../src-shared/errors';

function malformed(): never {
  throw new KmsError('Internal', 'The key returned an ECDSA signature that is not strict DER; nothing was written.');
}

/** One DER INTEGER at `at`: its positive magnitude (no sign octet) and where the next element starts. */
function readPositiveInteger(der: Buffer, at: number): { value: Buffer; next: number } {
  if (der[at] !== 0x02) return malformed();
  const len = der[at + 1];
  if (len === undefined || len === 0 || len > 0x7f || at + 2 + len > der.length) return malformed();
  const body = der.subarray(at + 2, at + 2 + len);
  if (body[0]! & 0x80) return malformed(); // negative
  if (body.length > 1 && body[0] === 0 && !(body[1]! & 0x80)) return malformed(); // non-minimal
  return { value: body[0] === 0 ? body.subarray(1) : body, next: at + 2 + len };
}

/** r and s of a DER ECDSA signature, each left-padded to `fieldBytes`. */
export function ecdsaDerToRs(der: Buffer, fieldBytes: number): { r: Buffer; s: Buffer } {
  // SEQUENCE with a one- or two-octet length (P-384: at most 2 + 2*(2+49) = 104 octets).
  if (der[0] !== 0x30) return malformed();
  let at = 2;
  let len = der[1] ?? 0;
  if (len === 0x81) {
    len = der[2] ?? 0;
    at = 3;
    if (len < 0x80) return malformed();
  } else if (len > 0x7f) return malformed();
  if (at + len !== der.length) return malformed();
  const r = readPositiveInteger(der, at);
  const s = readPositiveInteger(der, r.next);
  if (s.next !== der.length) return malformed();
  const pad = (v: Buffer): Buffer => {
    if (v.length > fieldBytes || v.every((b) => b === 0)) return malformed();
    return Buffer.concat([Buffer.alloc(fieldBytes - v.length), v]);
  };
  return { r: pad(r.value), s: pad(s.value) };
}

/** IEEE P1363 r||s of a DER ECDSA signature (JWS ES256/ES384, RFC 7518 §3.4). */
export function ecdsaDerToP1363(der: Buffer, fieldBytes: number): Buffer {
  const { r, s } = ecdsaDerToRs(der, fieldBytes);
  return Buffer.concat([r, s]);
}

/** A minimal DER INTEGER of an unsigned magnitude (a 0x00 sign octet when the high bit is set). */
function derInteger(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  const body = m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m;
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/** DER SEQUENCE{r, s} of two magnitudes (from MPIs or P1363 halves), for verifying with the DER verifier. */
export function ecdsaRsToDer(r: Buffer, s: Buffer): Buffer {
  const seq = Buffer.concat([derInteger(r), derInteger(s)]);
  const len = seq.length < 0x80 ? Buffer.from([seq.length]) : Buffer.from([0x81, seq.length]);
  return Buffer.concat([Buffer.from([0x30]), len, seq]);
}
