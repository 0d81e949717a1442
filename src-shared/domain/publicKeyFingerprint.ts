/**
 * The SHA-256 fingerprint of a public key: over the DER SubjectPublicKeyInfo inside its PEM, as
 * `openssl pkey -pubin -outform DER | sha256sum` prints it (64 lowercase hex digits, no colons).
 * Pure, so the renderer shows the same fingerprint that ExportPublicKey reports: no Node Buffer,
 * only atob (in browsers and in Node) and @noble/hashes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { entropyToMnemonic } from '@scure/bip39';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { KmsError } from '../errors';

const PEM = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*)-----END PUBLIC KEY-----/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The DER bytes of the first `PUBLIC KEY` block of `pem`. */
export function spkiFromPem(pem: string): Uint8Array {
  const body = PEM.exec(pem)?.[1]?.replace(/\s+/g, '');
  if (!body || !BASE64.test(body)) throw new KmsError('InvalidParameter', 'This is not a PEM public key (-----BEGIN PUBLIC KEY----- with base64 inside).');
  const binary = atob(body);
  const der = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) der[i] = binary.charCodeAt(i);
  return der;
}

export function publicKeyFingerprint(pem: string): string {
  return bytesToHex(sha256(spkiFromPem(pem)));
}

/**
 * A 32-byte fingerprint (64 hex digits) as 24 English words of the BIP-39 list, to be read
 * aloud: people compare words across two screens more reliably than hex.
 */
export function fingerprintWords(hex: string): string[] {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new KmsError('Internal', 'A fingerprint is 64 lowercase hex digits.');
  return entropyToMnemonic(hexToBytes(hex), english).split(' ');
}
