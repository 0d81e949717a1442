/**
 * The `keyroom` command: one more front door onto the handler table, never a second
 * implementation. Success: one JSON object on stdout, exit 0. Failure: nothing on stdout, one
 * JSON object {Code, Message, RequestId} on stderr, exit 1 (2 for a malformed command line).
 */
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { OPERATIONS } from '../../src-shared/contract/operations';
import { parseInput } from '../../src-shared/contract/validate';
import { KmsError, type ErrorData } from '../../src-shared/errors';
import { boundEchoes } from '../../src-shared/echo';
import { KEYROOM_VERSION } from '../version';
import { parseCommandLine, UsageError, type GlobalOptions } from './args';
import { generalHelp, operationHelp } from './help';
import { readSecret } from './secrets';
import { wipe } from '../crypto/wipe';

type Env = Readonly<Record<string, string | undefined>>;

/** Electron's userData directory on Linux, so the command line and the app share a keystore. */
export function defaultKeystorePath(env: Env): string {
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Keyroom', 'keystore.db');
}

/**
 * The services, the keystore and the native modules, loaded only to run an operation: `--help`,
 * `--version` and a command line that does not parse answer without them (the bundle puts them in a chunk
 * of their own, so they are not even parsed).
 */
async function loadRunner() {
  const [{ Session }, { dispatch, toErrorData }] = await Promise.all([import('../services/session'), import('../handlers/dispatch')]);
  return { Session, dispatch, toErrorData };
}

/** Where the command writes: the process's streams, or a test's buffers when run in-process. */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_OUTPUT: CliOutput = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

async function passphrase(globals: GlobalOptions, env: Env, confirm: boolean): Promise<Buffer> {
  return readSecret({
    fileOption: '--passphrase-file',
    filePath: globals.passphraseFile,
    envName: 'KEYROOM_PASSPHRASE',
    envValue: env.KEYROOM_PASSPHRASE,
    prompt: confirm ? 'New keystore passphrase: ' : 'Keystore passphrase: ',
    confirm,
  });
}

async function newPassphrase(globals: GlobalOptions, env: Env): Promise<Buffer> {
  return readSecret({
    fileOption: '--new-passphrase-file',
    filePath: globals.newPassphraseFile,
    envName: 'KEYROOM_NEW_PASSPHRASE',
    envValue: env.KEYROOM_NEW_PASSPHRASE,
    prompt: 'New passphrase: ',
    confirm: true,
  });
}

async function pin(globals: GlobalOptions, env: Env): Promise<Buffer> {
  return readSecret({
    fileOption: '--pin-file',
    filePath: globals.pinFile,
    envName: 'KEYROOM_PIN',
    envValue: env.KEYROOM_PIN,
    prompt: `User PIN of the token${globals.token ?? env.KEYROOM_TOKEN ? ` "${globals.token ?? env.KEYROOM_TOKEN}"` : ''}: `,
    confirm: false,
  });
}

export async function main(argv: readonly string[], env: Env, out: CliOutput = PROCESS_OUTPUT): Promise<number> {
  const fail = (code: number, data: ErrorData): number => {
    out.stderr(JSON.stringify(data) + '\n');
    return code;
  };
  let cmd;
  try {
    cmd = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof UsageError) return fail(2, { Code: 'InvalidParameter', Message: boundEchoes(e.message, argv), RequestId: randomUUID() });
    throw e;
  }
  if (cmd.kind === 'version') {
    out.stdout(`keyroom ${KEYROOM_VERSION}\n`);
    return 0;
  }
  if (cmd.kind === 'help') {
    out.stdout(cmd.operation ? operationHelp(cmd.operation) : generalHelp());
    return 0;
  }

  const { Session, dispatch, toErrorData } = await loadRunner();
  const explicitPath = cmd.globals.keystore ?? env.KEYROOM_KEYSTORE;
  const keystorePath = explicitPath ?? defaultKeystorePath(env);
  // The app's data folder is ours to make (0700) the first time a keystore is created there.
  if (explicitPath === undefined && cmd.operation === 'InitKeystore') mkdirSync(dirname(keystorePath), { recursive: true, mode: 0o700 });
  const session = new Session({
    keystorePath,
    hsm: {
      modulePath: cmd.globals.pkcs11Module ?? env.KEYROOM_PKCS11_MODULE,
      tokenLabel: cmd.globals.token ?? env.KEYROOM_TOKEN,
      pin: () => pin(cmd.globals, env),
    },
  });
  const input: Record<string, unknown> = { ...cmd.params };
  // Check the parameters before the passphrase is asked for and the keystore opened: a missing
  // one is a malformed command line (exit 2), a bad value a refused request (exit 1).
  if (!(OPERATIONS[cmd.operation] as { secrets?: readonly string[] }).secrets) {
    try {
      parseInput(cmd.operation, input);
    } catch (e) {
      return fail(e instanceof KmsError && e.code === 'MissingParameter' ? 2 : 1, toErrorData(e, randomUUID(), input));
    }
  }
  const secretBuffers: Buffer[] = [];
  try {
    if (cmd.operation === 'InitKeystore') {
      const p = await passphrase(cmd.globals, env, true);
      secretBuffers.push(p);
      input.Passphrase = p.toString('utf8');
    } else if (OPERATIONS[cmd.operation].keystore === 'open') {
      const p = await passphrase(cmd.globals, env, false);
      secretBuffers.push(p);
      await session.unlock(p);
      // The passphrase that just opened the keystore is the current one.
      if (cmd.operation === 'ChangePassphrase') input.CurrentPassphrase = p.toString('utf8');
    }
    if (cmd.operation === 'ChangePassphrase') {
      const p = await newPassphrase(cmd.globals, env);
      secretBuffers.push(p);
      input.NewPassphrase = p.toString('utf8');
    }
  } catch (e) {
    wipe(...secretBuffers);
    await session.dispose();
    return fail(1, toErrorData(e, randomUUID(), input));
  }
  wipe(...secretBuffers);

  try {
    const result = await dispatch(session, cmd.operation, input);
    if (!result.ok) return fail(1, result.error);
    out.stdout(JSON.stringify(result.value, null, 2) + '\n');
    return 0;
  } finally {
    await session.dispose();
  }
}
