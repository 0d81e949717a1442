/**
 * The command line's grammar (cli.md): `keyroom [global options] Operation [--Param value ...]`.
 * Global options are lower-case; operation parameters are the contract's PascalCase field names,
 * as `--Name value` or `--Name=value`; a value `@path` is read from that file. Parsing is Node's
 * util.parseArgs with options derived from the operation's schema.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { OPERATIONS, isOperationName, type OperationName } from '../../src-shared/contract/operations';

export const GLOBAL_OPTIONS = {
  keystore: { type: 'string' },
  'passphrase-file': { type: 'string' },
  'new-passphrase-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export interface GlobalOptions {
  keystore?: string;
  passphraseFile?: string;
  newPassphraseFile?: string;
  help: boolean;
  version: boolean;
}

export type ParsedCommandLine =
  | { kind: 'help'; operation?: OperationName }
  | { kind: 'version' }
  | { kind: 'run'; operation: OperationName; params: Record<string, string>; globals: GlobalOptions };

/** A command line that cannot be understood: exit status 2. */
export class UsageError extends Error {}

/** Text values read verbatim from @file; every other value has surrounding whitespace trimmed. */
const VERBATIM_FIELDS = new Set(['Plaintext', 'Description']);

export function parameterNames(operation: OperationName): string[] {
  return Object.keys(OPERATIONS[operation].input.shape);
}

function secretNames(operation: OperationName): readonly string[] {
  return (OPERATIONS[operation] as { secrets?: readonly string[] }).secrets ?? [];
}

export function isRequired(operation: OperationName, field: string): boolean {
  const schema = (OPERATIONS[operation].input.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>)[field];
  return schema !== undefined && !schema.safeParse(undefined).success;
}

function readAtFile(field: string, value: string): string {
  if (!value.startsWith('@')) return value;
  const path = value.slice(1);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--${field}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  return VERBATIM_FIELDS.has(field) ? text : text.trim();
}

function globalsOf(values: Record<string, unknown>): GlobalOptions {
  return {
    keystore: values.keystore as string | undefined,
    passphraseFile: values['passphrase-file'] as string | undefined,
    newPassphraseFile: values['new-passphrase-file'] as string | undefined,
    help: values.help === true,
    version: values.version === true,
  };
}

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  // First pass: find the operation (the first positional) without knowing its parameters.
  const loose = parseArgs({ args: [...argv], options: GLOBAL_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const first = loose.tokens?.find((t) => t.kind === 'positional');
  if (!first || first.kind !== 'positional') {
    if (loose.values.version === true) return { kind: 'version' };
    if (loose.values.help === true || argv.length === 0) return { kind: 'help' };
    throw new UsageError('Name an operation, e.g. `keyroom CreateKey --KeySpec AES_256`; `keyroom --help` lists them.');
  }
  const name = first.value;
  if (!isOperationName(name)) throw new UsageError(`Unknown operation "${name}"; \`keyroom --help\` lists the operations.`);
  if (loose.values.help === true) return { kind: 'help', operation: name };

  const secrets = new Set(secretNames(name));
  const opOptions: ParseArgsConfig['options'] = {};
  for (const field of parameterNames(name)) if (!secrets.has(field)) opOptions[field] = { type: 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...GLOBAL_OPTIONS, ...opOptions }, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (\`keyroom ${name} --help\` lists its parameters).`);
  }
  if (parsed.positionals.length > 1) throw new UsageError(`Unexpected argument "${parsed.positionals[1]}".`);
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given twice.`);
    seen.add(t.name);
  }
  const params: Record<string, string> = {};
  const values = parsed.values as Record<string, string | boolean | undefined>;
  for (const field of Object.keys(opOptions)) {
    const v = values[field];
    if (typeof v === 'string') params[field] = readAtFile(field, v);
  }
  return { kind: 'run', operation: name, params, globals: globalsOf(parsed.values) };
}
