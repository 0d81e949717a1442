/**
 * Field schemas shared by the contract's operations. Inputs arrive as `unknown` (from IPC, or as
 * strings from the command line), so scalar fields also accept their string spelling.
 */
import { z } from 'zod';
import { BYOK_TARGETS, WRAPPING_KEY_SPECS } from '../domain/byokTargets';
import { parseEncryptionContext } from '../encryptionContext';
import { aliasNameProblem } from '../alias';
import { echo } from '../echo';
import {
  KEY_USAGES,
  PROTECTION_LEVELS,
  ORIGINS,
  SIGNING_ALGORITHMS,
  ENCRYPTION_ALGORITHMS,
  MAC_ALGORITHMS,
  normaliseKeySpec,
  type KeySpec,
} from '../domain/keySpecs';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A KeyId (UUID) or an alias; resolved by the service. */
export const keyIdField = z
  .string()
  .min(1, 'give a KeyId or an alias (alias/...)')
  .max(262, 'a KeyId or alias has at most 262 characters');

export const keyVersionIdField = z.string().regex(UUID, 'a KeyVersionId is a UUID');

export const aliasNameField = z.string().superRefine((v, ctx) => {
  const problem = aliasNameProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const keySpecField = z.string().transform((v, ctx): KeySpec => {
  const spec = normaliseKeySpec(v);
  if (!spec) {
    ctx.addIssue({ code: 'custom', message: `unknown KeySpec "${echo(v)}"` });
    return z.NEVER;
  }
  return spec;
});

export const keyUsageField = z.enum(KEY_USAGES);
export const protectionLevelField = z.enum(PROTECTION_LEVELS);
export const originField = z.enum(ORIGINS);
export const signingAlgorithmField = z.enum(SIGNING_ALGORITHMS);
export const encryptionAlgorithmField = z.enum(ENCRYPTION_ALGORITHMS);
export const macAlgorithmField = z.enum(MAC_ALGORITHMS);

/** Standard base64 with padding; decoded by the service. */
export function base64Field(what: string, maxChars = 1_400_000) {
  return z
    .string()
    .max(maxChars, `${what} is too long`)
    .regex(BASE64, `${what} must be standard base64 (A-Z, a-z, 0-9, +, /, with = padding)`);
}

export const encryptionContextField = z.unknown().transform((v, ctx) => {
  const parsed = parseEncryptionContext(v);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.value;
});

/** Booleans from IPC (true/false) or the command line ("true"/"false"). */
export const boolField = z.union([
  z.boolean(),
  z.enum(['true', 'false']).transform((v) => v === 'true'),
]);

/** Integers from IPC or the command line, within [min, max]. */
export function intField(min: number, max: number) {
  return z
    .union([z.number(), z.string().regex(/^-?\d+$/, 'must be a whole number').transform(Number)])
    .pipe(z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

export const pageNumberField = intField(1, 1_000_000);
export const pageSizeField = intField(1, 100);

/** A secret typed by the operator (passphrase): never logged, never in argv. */
export const passphraseField = z
  .string()
  .min(8, 'a passphrase has at least 8 characters')
  .max(1024, 'a passphrase has at most 1024 characters');

export const filePathField = z.string().min(1, 'give a file path').max(4096);

/**
 * Characters a file name Keyroom writes must not hold: control characters (C0, DEL, C1), format
 * characters (Unicode Cf: bidirectional overrides and isolates U+202A-202E and U+2066-2069, the
 * marks U+200E/U+200F and U+061C, zero-width characters, U+FEFF), and line or paragraph
 * separators. They make a name display as something else (U+202E turns "gpj.exe" around) or
 * break the listing a witness reads.
 */
const UNSAFE_NAME_CHARS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Why `path` cannot be the name of an output, or undefined. */
export function outputPathProblem(path: string): string | undefined {
  // Blank as a whole, or a folder or file name in it that is only spaces ("out/   ").
  if (path.trim() === '' || path.split(/[\\/]/).some((part) => part.length > 0 && part.trim() === '')) {
    return 'give a file name that is not only spaces';
  }
  const bad = UNSAFE_NAME_CHARS.exec(path);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `the name holds U+${cp}, a control or invisible formatting character that can make a name show as another; type the name plainly`;
  }
  return undefined;
}

/** A path Keyroom writes (an output file, folder or manifest): a file path with a name people can read as it is. */
export const outputPathField = filePathField.superRefine((v, ctx) => {
  const problem = outputPathProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A token's user PIN. PKCS#11 allows 4 to 255 bytes in general; the token itself enforces its own
 * ulMinPinLen/ulMaxPinLen and answers Hsm.PinIncorrect below them.
 */
export const pinField = z.string().min(4, 'a PIN has at least 4 characters').max(255, 'a PIN has at most 255 characters');

/**
 * The id a caller gives a long-running operation so that it can follow its progress and cancel
 * it (CancelOperation). Chosen by the caller, a UUID, unique among the operations under way.
 */
export const operationIdField = z.string().regex(UUID, 'an OperationId is a UUID');

export const digestAlgorithmField = z.enum(['SHA_256', 'SHA_384', 'SM3']);

/** BYOK's cloud names (byokTargets.ts). */
export const byokTargetField = z.enum(BYOK_TARGETS);
export const wrappingKeySpecField = z.enum(WRAPPING_KEY_SPECS);
/** A cloud's wrapping algorithm name; which ones fit the target and key is checked against byokTargets.ts. */
export const byokAlgorithmField = z.string().regex(/^[A-Z0-9_]{2,64}$/, 'a wrapping algorithm is the cloud\'s name for it, e.g. RSAES_OAEP_SHA_256');
/** A wrapping public key as the cloud hands it out: base64 of the DER SubjectPublicKeyInfo, or PEM. */
export const wrappingPublicKeyField = z.string().min(1, 'give the wrapping public key (base64 DER or PEM)').max(20_000);
/** ISO-8601 (2026-11-24T10:00:00Z) or Unix seconds, as the clouds print it. */
export const tokenExpireTimeField = z.string().min(1).max(64);
/** An import token is carried through untouched: base64 or the cloud's opaque text. */
export const importTokenField = z.string().min(1).max(100_000);
export const sm2CiphertextEncodingField = z.enum(['DER', 'C1C3C2']);
export const rehearsalIdField = z.string().regex(UUID, 'a RehearsalId is a UUID');
