import type { z } from 'zod';
import { KmsError, type ErrorCode } from '../errors';
import { OPERATIONS, type OperationName, type OperationInput } from './operations';

/** Fields whose problems have their own dotted code; others are `InvalidParameter`. */
const FIELD_CODES: Readonly<Record<string, ErrorCode>> = {
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
};

function describeIssues(issues: readonly z.core.$ZodIssue[]): { code: ErrorCode; message: string } {
  const first = issues[0];
  const field = first?.path[0];
  const code: ErrorCode =
    first?.code === 'invalid_type' && first.input === undefined
      ? 'MissingParameter'
      : (typeof field === 'string' && FIELD_CODES[field]) || 'InvalidParameter';
  const message = issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'input';
      if (i.code === 'invalid_type' && i.input === undefined) return `${where} is required`;
      if (i.code === 'unrecognized_keys') return `unknown parameter(s): ${i.keys.join(', ')}`;
      return `${where}: ${i.message}`;
    })
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
  const { code, message } = describeIssues(result.error.issues);
  throw new KmsError(code, message);
}
