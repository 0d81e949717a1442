/**
 * Checks a `.sigstore.json` of the shape Keyroom writes as `cosign verify-blob --key --bundle
 * --insecure-ignore-tlog` does (reference note §4): the bundle's digest equals SHA-256 of the file,
 * and the signature verifies over it with the key (DER ECDSA P-256 or RSASSA-PKCS1-v1_5).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FormatKeySpec } from '../keySpec';
import { verifySigned } from '../verifySigned';
import { assertCosignKeySpec } from './bundle';
import { readMessageSignatureBundle } from './readBundle';

export type CosignVerdict = { valid: true } | { valid: false; reason: string };

export function verifyBundle(input: { bundleJson: string; keySpec: FormatKeySpec; spki: Buffer; fileSha256: Buffer }): CosignVerdict {
  assertCosignKeySpec(input.keySpec);
  const bundle = readMessageSignatureBundle(input.bundleJson);
  if (input.fileSha256.length !== 32 || !timingSafeEqual(bundle.fileSha256, input.fileSha256)) return { valid: false, reason: 'the file does not match the bundle digest' };
  return verifySigned(input.keySpec, input.spki, input.fileSha256, bundle.signature) ? { valid: true } : { valid: false, reason: 'bad signature' };
}
