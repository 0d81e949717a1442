/** `keyroom --help` and `keyroom <Operation> --help`, generated from the contract. */
import { OPERATIONS, operationNamesFor, type OperationName } from '../../src-shared/contract/operations';
import { COMMON_ERRORS, OPEN_ERRORS, OPERATION_ERRORS } from '../../src-shared/contract/errorCodes.generated';
import { isRequired, parameterNames } from './args';

const GLOBAL_HELP = `Global options:
  --keystore PATH             keystore file (or KEYROOM_KEYSTORE; default: the app's data directory)
  --passphrase-file PATH      file holding the passphrase (or KEYROOM_PASSPHRASE; else a hidden prompt)
  --new-passphrase-file PATH  ChangePassphrase: the new passphrase (or KEYROOM_NEW_PASSPHRASE; else a prompt)
  --pkcs11-module PATH        PKCS#11 library of the HSM (or KEYROOM_PKCS11_MODULE; default: search the usual places)
  --token LABEL               token label (or KEYROOM_TOKEN; default: the only initialised token)
  --pin-file PATH             file holding the user PIN (or KEYROOM_PIN; else a hidden prompt when an HSM key is used)
  --help                      this text; after an operation, that operation's parameters
  --version                   the version`;

export function generalHelp(): string {
  const names = operationNamesFor('cli');
  const groups = new Map<string, OperationName[]>();
  for (const name of names) {
    const g = OPERATIONS[name].group;
    groups.set(g, [...(groups.get(g) ?? []), name]);
  }
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = ['Usage: keyroom [global options] <Operation> [--Parameter value ...]', '', 'Operations:'];
  for (const [group, names] of groups) {
    lines.push(`  ${group}`);
    for (const n of names) lines.push(`    ${n.padEnd(width)}${OPERATIONS[n].summary}`);
  }
  lines.push('', 'Values: --Name value or --Name=value; @path reads the value from a file.', 'Output: one JSON object on stdout; errors as JSON on stderr (exit 1; 2 for a malformed command line).', '', GLOBAL_HELP);
  return lines.join('\n') + '\n';
}

export function operationHelp(name: OperationName): string {
  const def = OPERATIONS[name];
  const secrets = new Set<string>((def as { secrets?: readonly string[] }).secrets ?? []);
  const params = parameterNames(name).filter((p) => !secrets.has(p));
  const lines = [`Usage: keyroom ${name}${params.map((p) => (isRequired(name, p) ? ` --${p} <value>` : ` [--${p} <value>]`)).join('')}`, '', def.summary];
  if (secrets.size) lines.push('', `Secrets (${[...secrets].join(', ')}) are read from a file, the environment or a prompt, never from arguments.`);
  // Cancelled answers CancelOperation, which is the app's: a command is stopped with Ctrl-C.
  const codes = [...new Set<string>([...OPERATION_ERRORS[name], ...(def.keystore === 'open' ? OPEN_ERRORS : []), ...COMMON_ERRORS])].filter((c) => c !== 'Cancelled').sort();
  lines.push('', `Error codes: ${codes.join(', ')}`);
  lines.push('', GLOBAL_HELP);
  return lines.join('\n') + '\n';
}
