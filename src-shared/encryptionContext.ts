/**
 * EncryptionContext (kms.md): a JSON object of string to string, at most 8,192 characters.
 * Equal contexts (same pairs, any order) must give the same AAD, so it is canonicalised:
 * keys sorted by UTF-16 code unit order (JavaScript's default sort), compact JSON.
 * The caller encodes the canonical string as UTF-8.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

export const MAX_ENCRYPTION_CONTEXT_CHARS = 8192;

/** Parse and check a context given as JSON text or as an object; returns the problem or the value. */
export function parseEncryptionContext(
  input: unknown,
): { ok: true; value: EncryptionContext } | { ok: false; problem: string } {
  let value: unknown = input;
  if (typeof input === 'string') {
    if (input.length > MAX_ENCRYPTION_CONTEXT_CHARS) {
      return { ok: false, problem: `the EncryptionContext has more than ${MAX_ENCRYPTION_CONTEXT_CHARS} characters` };
    }
    try {
      value = JSON.parse(input);
    } catch {
      return { ok: false, problem: 'the EncryptionContext is not valid JSON' };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'the EncryptionContext must be a JSON object of string keys to string values' };
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    return { ok: false, problem: 'the EncryptionContext must be a plain object of string keys to string values' };
  }
  // No prototype: a key named "__proto__" is a key like any other, never silently dropped.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      return { ok: false, problem: `the EncryptionContext value of "${k}" must be a string` };
    }
    out[k] = v;
  }
  if (canonicalEncryptionContext(out).length > MAX_ENCRYPTION_CONTEXT_CHARS) {
    return { ok: false, problem: `the EncryptionContext has more than ${MAX_ENCRYPTION_CONTEXT_CHARS} characters` };
  }
  return { ok: true, value: out };
}

/** Canonical form: sorted keys, compact JSON. The empty context is the empty string. */
export function canonicalEncryptionContext(ctx: EncryptionContext | undefined): string {
  if (!ctx) return '';
  const keys = Object.keys(ctx).sort();
  if (keys.length === 0) return '';
  // Without a prototype, "__proto__" stays a key like any other.
  const sorted: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const k of keys) sorted[k] = ctx[k]!;
  return JSON.stringify(sorted);
}
