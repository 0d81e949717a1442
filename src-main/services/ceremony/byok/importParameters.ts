/**
 * Step 2 of a BYOK ceremony: what the connected side copied over (the cloud's wrapping public key,
 * its algorithm, the token's expiry) is checked before any material is touched. The public key
 * must parse, be a public key, and be the type and size the algorithm names; the token must not
 * have expired. The fingerprint goes back in hex and as words to be read against the cloud's screen.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { KmsError } from '../../../../src-shared/errors';
import type { KeySpec } from '../../../../src-shared/domain/keySpecs';
import {
  BYOK_ROWS,
  BYOK_TARGET_NAMES,
  byokAlgorithms,
  byokRow,
  byokRowsFor,
  type ByokRow,
  type ByokTarget,
  type WrappingKeySpec,
  WRAPPING_KEY_SPECS,
} from '../../../../src-shared/domain/byokTargets';
import { keySpecOfSpki } from '../../../crypto/keyEncoding';
import { fingerprintWords, spkiFromPem } from '../../../../src-shared/domain/publicKeyFingerprint';
import type { CheckedImportParameters } from '../../../../src-shared/contract/types';
import { isoTime } from '../../kms/context';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HOUR_S = 3600;

export interface WrappingKey {
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  spec: WrappingKeySpec;
}

function badKey(message: string): KmsError {
  return new KmsError('InvalidParameter.PublicKey', message);
}

/** The SPKI DER inside what was pasted: PEM (SPKI or PKCS#1), or base64 of the DER SPKI. */
function spkiOf(text: string): Buffer {
  const t = text.trim();
  if (/PRIVATE KEY-----/.test(t)) {
    throw badKey('This is a PRIVATE key. Paste the cloud\'s wrapping PUBLIC key (GetParametersForImport\'s PublicKey); a private key never belongs here.');
  }
  if (t.includes('-----BEGIN RSA PUBLIC KEY-----')) {
    try {
      return createPublicKey({ key: t, format: 'pem', type: 'pkcs1' }).export({ format: 'der', type: 'spki' });
    } catch {
      throw badKey('This RSA PUBLIC KEY block does not parse.');
    }
  }
  if (t.includes('-----BEGIN PUBLIC KEY-----')) {
    try {
      return Buffer.from(spkiFromPem(t));
    } catch {
      throw badKey('This PEM block does not parse as a public key.');
    }
  }
  if (t.startsWith('-----BEGIN')) throw badKey('This PEM block is not a public key (-----BEGIN PUBLIC KEY-----).');
  const b64 = t.replace(/\s+/g, '');
  if (!BASE64.test(b64) || b64.length === 0) throw badKey('The public key is neither PEM nor base64 of a DER SubjectPublicKeyInfo.');
  return Buffer.from(b64, 'base64');
}

/** Parse and classify the cloud's wrapping public key: an RSA or SM2 key of a size clouds use. */
export function parseWrappingKey(text: string): WrappingKey {
  const spki = spkiOf(text);
  const spec = keySpecOfSpki(spki);
  if (!(WRAPPING_KEY_SPECS as readonly string[]).includes(spec)) {
    throw badKey(`The wrapping key is ${spec}; clouds wrap with RSA_2048, RSA_3072, RSA_4096 or EC_SM2 keys.`);
  }
  return { spki, spec: spec as WrappingKeySpec };
}

/** The row for the target and algorithm (and key spec when known), or a refusal naming what fits. */
export function findRow(target: ByokTarget, algorithm: string, keySpec: KeySpec | undefined): ByokRow {
  const known = byokAlgorithms(target);
  if (!known.includes(algorithm)) {
    throw new KmsError('InvalidParameter.WrappingAlgorithm', `${BYOK_TARGET_NAMES[target]} has no wrapping algorithm ${algorithm}; it names ${known.join(', ')}.`);
  }
  if (keySpec === undefined) return BYOK_ROWS.find((r) => r.target === target && r.algorithm === algorithm)!;
  const row = byokRow(target, algorithm, keySpec);
  if (row) return row;
  const fits = byokRowsFor(target, keySpec).map((r) => r.algorithm);
  throw new KmsError(
    'Rejected.KeySpec',
    fits.length
      ? `${BYOK_TARGET_NAMES[target]} does not take ${keySpec} material wrapped with ${algorithm}; for ${keySpec} use ${[...new Set(fits)].join(' or ')}.`
      : `${BYOK_TARGET_NAMES[target]} does not import ${keySpec} key material.`,
  );
}

/** ISO-8601 or Unix seconds, as the clouds print an expiry. */
export function parseExpireTime(text: string): Date {
  const t = text.trim();
  const ms = /^\d{9,11}$/.test(t) ? Number(t) * 1000 : /^\d{4}-\d{2}-\d{2}T/.test(t) ? Date.parse(t) : NaN;
  if (!Number.isFinite(ms)) {
    throw new KmsError('InvalidParameter.TokenExpireTime', `TokenExpireTime "${t.slice(0, 40)}" is neither ISO-8601 (2026-11-24T10:00:00Z) nor Unix seconds.`);
  }
  return new Date(ms);
}

export interface CheckedParameters {
  row: ByokRow;
  wrappingKey: WrappingKey;
  report: CheckedImportParameters;
}

export function checkImportParameters(
  input: { Target: ByokTarget; WrappingAlgorithm: string; WrappingKeySpec?: WrappingKeySpec; KeySpec?: KeySpec; PublicKey: string; TokenExpireTime?: string },
  now: Date,
): CheckedParameters {
  const row = findRow(input.Target, input.WrappingAlgorithm, input.KeySpec);
  const wrappingKey = parseWrappingKey(input.PublicKey);
  if (input.WrappingKeySpec && input.WrappingKeySpec !== wrappingKey.spec) {
    throw new KmsError('InvalidParameter.WrappingKeySpec', `WrappingKeySpec is ${input.WrappingKeySpec}, but the public key given is ${wrappingKey.spec}: check that the key and the parameters come from the same GetParametersForImport.`);
  }
  if (!row.wrappingKeySpecs.includes(wrappingKey.spec)) {
    throw new KmsError(
      'InvalidParameter.WrappingKeySpec',
      `${input.WrappingAlgorithm} at ${BYOK_TARGET_NAMES[input.Target]} wraps with a ${row.wrappingKeySpecs.join(' or ')} key; the public key given is ${wrappingKey.spec}.`,
    );
  }
  const warnings: string[] = row.caution ? [row.caution] : [];
  const fingerprint = createHash('sha256').update(wrappingKey.spki).digest('hex');
  const report: CheckedImportParameters = {
    Target: input.Target,
    WrappingAlgorithm: row.algorithm,
    WrappingKeySpec: wrappingKey.spec,
    PublicKeyFingerprint: fingerprint,
    PublicKeyFingerprintWords: fingerprintWords(fingerprint),
    Warnings: warnings,
  };
  if (input.TokenExpireTime !== undefined) {
    const expires = parseExpireTime(input.TokenExpireTime);
    const left = Math.floor((expires.getTime() - now.getTime()) / 1000);
    if (left <= 0) {
      throw new KmsError('Import.TokenExpired', `The import token expired at ${isoTime(expires)}: get new import parameters from the cloud (GetParametersForImport) and start again.`);
    }
    if (left < HOUR_S) warnings.push(`The import token expires in ${Math.floor(left / 60)} minutes (${isoTime(expires)}): import promptly, or get new parameters.`);
    report.TokenExpireTime = isoTime(expires);
    report.TokenSecondsLeft = left;
  }
  if (row.unconfirmed) report.Unconfirmed = row.unconfirmed;
  return { row, wrappingKey, report };
}
