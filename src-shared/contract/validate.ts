import type { z } from 'zod';
import { KmsError, type ErrorCode } from '../errors';
import { echo } from '../echo';
import { OPERATIONS, type OperationName, type OperationInput } from './operations';

/** Fields whose problems have their own dotted code; others are `InvalidParameter`. */
export const FIELD_CODES: Readonly<Record<string, ErrorCode>> = {
  KeySpec: 'InvalidParameter.KeySpec',
  KeyUsage: 'InvalidParameter.KeyUsage',
  ProtectionLevel: 'InvalidParameter.ProtectionLevel',
  Origin: 'InvalidParameter.Origin',
  AliasName: 'InvalidParameter.AliasName',
  Algorithm: 'InvalidParameter.Algorithm',
  EncryptionContext: 'InvalidParameter.EncryptionContext',
  SourceEncryptionContext: 'InvalidParameter.EncryptionContext',
  DestinationEncryptionContext: 'InvalidParameter.EncryptionContext',
  PendingWindowInDays: 'InvalidParameter.PendingWindowInDays',
  NumberOfBytes: 'InvalidParameter.NumberOfBytes',
  WrappingAlgorithm: 'InvalidParameter.WrappingAlgorithm',
  WrappingKeySpec: 'InvalidParameter.WrappingKeySpec',
  KeyMaterialExpireUnix: 'InvalidParameter.KeyMaterialExpireUnix',
  Passphrase: 'InvalidParameter.Passphrase',
  NewPassphrase: 'InvalidParameter.Passphrase',
  RotationInterval: 'InvalidParameter.RotationInterval',
  OutputFile: 'InvalidParameter.OutputFile',
  Manifest: 'InvalidParameter.OutputFile',
  OutputDir: 'InvalidParameter.OutputDir',
  ImportToken: 'Import.TokenInvalid',
};

/**
 * Whether an issue is about a parameter that was not given at all. Told from the input itself,
 * not from the issue's kind: a missing choice (an enum), true/false (a union) or file list gives
 * invalid_value or invalid_union rather than invalid_type, and is just as missing.
 */
function isMissing(issue: z.core.$ZodIssue, input: unknown): boolean {
  if (issue.code === 'invalid_type' && issue.input === undefined) return true;
  const field = issue.path[0];
  if (issue.path.length !== 1 || typeof field !== 'string') return false;
  if (input === null || typeof input !== 'object') return false;
  return (input as Record<string, unknown>)[field] === undefined;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): { code: ErrorCode; message: string } {
  // A missing parameter is told first: the command line answers it with its usage (exit 2).
  const missing = issues.filter((i) => isMissing(i, input));
  const first = missing[0] ?? issues[0];
  const field = first?.path[0];
  const code: ErrorCode = missing.length > 0 ? 'MissingParameter' : (typeof field === 'string' && FIELD_CODES[field]) || 'InvalidParameter';
  const seen = new Set<string>();
  const message = [...missing, ...issues.filter((i) => !missing.includes(i))]
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'input';
      if (isMissing(i, input)) return `${where} is required`;
      if (i.code === 'unrecognized_keys') return `unknown parameter(s): ${i.keys.map(echo).join(', ')}`;
      return `${where}: ${i.message}`;
    })
    // A union reports one issue per branch; a missing field is said once.
    .filter((m) => !seen.has(m) && seen.add(m))
    .join('; ');
  return { code, message: message.charAt(0).toUpperCase() + message.slice(1) + '.' };
}

/** Parse untrusted input for an operation; throws KmsError naming every problem's path. */
export function parseInput<N extends OperationName>(name: N, input: unknown): OperationInput<N> {
  const schema = OPERATIONS[name].input as z.ZodType;
  // reportInput: zod 4 leaves `input` off issues by default, and describeIssues tells a missing
  // field (input undefined) from a wrong-typed one by it. Messages never quote it.
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data as OperationInput<N>;
  const { code, message } = describeIssues(result.error.issues, input ?? {});
  throw new KmsError(code, message);
}
