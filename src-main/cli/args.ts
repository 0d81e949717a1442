/**
 * The command line's grammar (cli.md): `keyroom [global options] Operation [--Param value ...]`.
 * Global options are lower-case; operation parameters are the contract's PascalCase field names,
 * as `--Name value` or `--Name=value`; a value `@path` is read from that file. Parsing is Node's
 * util.parseArgs with options derived from the operation's schema.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readSmallFileSync } from '../files/readBounded';
import { echo } from '../../src-shared/echo';
import { OPERATIONS, isForFrontDoor, isOperationName, type OperationName } from '../../src-shared/contract/operations';

export const GLOBAL_OPTIONS = {
  keystore: { type: 'string' },
  'passphrase-file': { type: 'string' },
  'new-passphrase-file': { type: 'string' },
  'pkcs11-module': { type: 'string' },
  token: { type: 'string' },
  'pin-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export interface GlobalOptions {
  keystore?: string;
  passphraseFile?: string;
  newPassphraseFile?: string;
  pkcs11Module?: string;
  token?: string;
  pinFile?: string;
  help: boolean;
  version: boolean;
}

export type ParsedCommandLine =
  | { kind: 'help'; operation?: OperationName }
  | { kind: 'version' }
  | { kind: 'run'; operation: OperationName; params: Record<string, string | string[]>; globals: GlobalOptions };

/** A command line that cannot be understood: exit status 2. */
export class UsageError extends Error {}

/**
 * Free-text values read verbatim from @file (a trailing newline may be part of the text);
 * every other value (identifiers, base64, numbers) has surrounding whitespace trimmed.
 */
const VERBATIM_FIELDS: ReadonlySet<string> = new Set(['Encrypt.Plaintext', 'CreateKey.Description', 'UpdateKeyDescription.Description']);

/**
 * Fields that mean nothing on a command line: OperationId lets the app follow and cancel a call,
 * and a command is followed by its terminal and cancelled with Ctrl-C.
 */
const APP_ONLY_FIELDS: ReadonlySet<string> = new Set(['OperationId']);

/** The parameters the command line takes (and its help lists) for `operation`. */
export function parameterNames(operation: OperationName): string[] {
  return Object.keys(OPERATIONS[operation].input.shape).filter((f) => !APP_ONLY_FIELDS.has(f));
}

function secretNames(operation: OperationName): readonly string[] {
  return (OPERATIONS[operation] as { secrets?: readonly string[] }).secrets ?? [];
}

/** Whether a schema takes an array somewhere (through optional, transforms and unions). */
function takesArray(node: SchemaNode | undefined): boolean {
  if (!node) return false;
  const d = node.def;
  if (d.type === 'array') return true;
  if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default') return takesArray(d.innerType);
  if (d.type === 'pipe') return takesArray(d.in);
  if (d.type === 'union') return (d.options ?? []).some(takesArray);
  return false;
}

/** Fields that take several values (SignFile's --File and --Format), given by repeating the option. */
export function isRepeatable(operation: OperationName, field: string): boolean {
  const schema = (OPERATIONS[operation].input.shape as Record<string, SchemaNode>)[field];
  return takesArray(schema);
}

export function isRequired(operation: OperationName, field: string): boolean {
  const schema = (OPERATIONS[operation].input.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>)[field];
  return schema !== undefined && !schema.safeParse(undefined).success;
}

/** Characters a value may have when its schema names no limit (an alias, a rotation interval). */
const DEFAULT_VALUE_CHARS = 4096;
/** An EncryptionContext is JSON text; encryptionContext.ts bounds it far below this. */
const UNBOUNDED_VALUE_CHARS = 65_536;

interface SchemaNode {
  def: { type: string; in?: SchemaNode; innerType?: SchemaNode; options?: readonly SchemaNode[]; element?: SchemaNode };
  maxLength?: number | null;
  options?: readonly unknown[];
}

/** The longest text a field's schema accepts, read from the contract (its zod max, an enum's longest choice). */
export function valueCharLimit(schema: SchemaNode): number {
  const def = schema.def;
  switch (def.type) {
    case 'string':
      return schema.maxLength ?? DEFAULT_VALUE_CHARS;
    case 'enum':
      return Math.max(...(schema.options ?? []).map((o) => String(o).length));
    case 'optional':
    case 'nullable':
    case 'default':
      return def.innerType ? valueCharLimit(def.innerType) : DEFAULT_VALUE_CHARS;
    case 'pipe':
      return def.in ? valueCharLimit(def.in) : DEFAULT_VALUE_CHARS;
    case 'union':
      return Math.max(...(def.options ?? []).map(valueCharLimit));
    case 'array':
      return def.element ? valueCharLimit(def.element) : DEFAULT_VALUE_CHARS;
    case 'number':
    case 'boolean':
      return 32;
    default:
      return UNBOUNDED_VALUE_CHARS;
  }
}

/**
 * The most bytes an @file may hold for `field`: the contract's own character limit, at UTF-8's
 * 4 bytes per character, and 2 for a line end. A larger file is refused from fstat before a byte
 * is read; anything between the two is read and then refused by the schema with its own words.
 */
export function atFileByteCap(operation: OperationName, field: string): number {
  const schema = (OPERATIONS[operation].input.shape as unknown as Record<string, SchemaNode>)[field];
  return (schema ? valueCharLimit(schema) : DEFAULT_VALUE_CHARS) * 4 + 2;
}

function readAtFile(operation: OperationName, field: string, value: string): string {
  if (!value.startsWith('@')) return value;
  const path = value.slice(1);
  const refuse = (why: string) => new UsageError(`--${field} @${echo(path)}: ${why}; give a regular file (at most ${atFileByteCap(operation, field)} bytes for --${field}).`);
  const bytes = readSmallFileSync(path, atFileByteCap(operation, field), refuse);
  const text = bytes.toString('utf8');
  return VERBATIM_FIELDS.has(`${operation}.${field}`) ? text : text.trim();
}

function globalsOf(values: Record<string, unknown>): GlobalOptions {
  return {
    keystore: values.keystore as string | undefined,
    passphraseFile: values['passphrase-file'] as string | undefined,
    newPassphraseFile: values['new-passphrase-file'] as string | undefined,
    pkcs11Module: values['pkcs11-module'] as string | undefined,
    token: values.token as string | undefined,
    pinFile: values['pin-file'] as string | undefined,
    help: values.help === true,
    version: values.version === true,
  };
}

/** A parseArgs failure in our words, naming at most the option (never a value). */
function describeParseError(e: unknown, operation: OperationName, secrets: ReadonlySet<string>): string {
  const code = (e as { code?: string }).code;
  const option = /'(--?[A-Za-z0-9-]+)/.exec((e as Error).message)?.[1];
  const name = option?.replace(/^-+/, '');
  if (name && secrets.has(name)) {
    return `${name} is a secret and is never taken as an argument: give it with a file option, an environment variable or at the prompt (\`keyroom ${operation} --help\`).`;
  }
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `${operation} has no parameter ${option ?? ''}; \`keyroom ${operation} --help\` lists its parameters.`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${option ?? 'An option'} needs a value, as --Name value or --Name=value.`;
  return `The command line could not be read; \`keyroom ${operation} --help\` shows its form.`;
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
  if (!isOperationName(name)) throw new UsageError(`Unknown operation "${echo(name)}"; \`keyroom --help\` lists the operations.`);
  if (!isForFrontDoor(name, 'cli')) {
    // Each command opens and locks the keystore itself, so the app's session operations mean nothing here.
    throw new UsageError(`${name} is for the app only: each keyroom command unlocks and locks the keystore itself; \`keyroom --help\` lists the operations.`);
  }
  if (loose.values.help === true) return { kind: 'help', operation: name };

  const secrets = new Set(secretNames(name));
  const opOptions: ParseArgsConfig['options'] = {};
  for (const field of parameterNames(name)) if (!secrets.has(field)) opOptions[field] = { type: 'string', ...(isRepeatable(name, field) ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...GLOBAL_OPTIONS, ...opOptions }, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new UsageError(describeParseError(e, name, secrets));
  }
  // Never repeat a stray word: it may be a secret typed in the wrong place.
  if (parsed.positionals.length > 1) {
    throw new UsageError(`${name} takes only --Name value parameters; an extra word was given (not shown, in case it is a secret).`);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name) && !isRepeatable(name, t.name)) throw new UsageError(`--${t.name} is given twice.`);
    seen.add(t.name);
  }
  const params: Record<string, string | string[]> = {};
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  for (const field of Object.keys(opOptions)) {
    const v = values[field];
    if (typeof v === 'string') params[field] = readAtFile(name, field, v);
    else if (Array.isArray(v)) params[field] = v.map((x) => readAtFile(name, field, x));
  }
  return { kind: 'run', operation: name, params, globals: globalsOf(parsed.values) };
}
