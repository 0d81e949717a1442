/**
 * Child process for test/integration/kms/crash.test.ts: service-level writes until killed.
 *
 *   node --import tsx test/support/kmsCrashWriter.ts <keystore path> <run tag>
 *
 * The passphrase comes in the environment variable KEYROOM_CRASH_PASSPHRASE (never argv, which
 * `ps` shows); the variable is removed as soon as it is read. The keystore is opened through
 * Session.unlock, as the app and the CLI open it, and every call goes through dispatch. After
 * `{"ready":true}` it loops CreateKey, CreateKeyVersion, Encrypt, CreateAlias and UpdateAlias
 * (alias/crash/latest, which the parent creates), printing one JSON line per completed call, so
 * the parent knows what must have survived the kill. Import only its types (importing a value
 * would run the writer).
 */
import { Session } from '../../src-main/services/session';
import { dispatch } from '../../src-main/handlers/dispatch';

/** Created by the parent; the child only moves it. */
const LATEST_ALIAS = 'alias/crash/latest';

export interface CrashReport {
  op: 'CreateKey' | 'CreateKeyVersion' | 'Encrypt' | 'CreateAlias' | 'UpdateAlias';
  RequestId: string;
  KeyId: string;
  KeyVersionId?: string;
  CiphertextBlob?: string;
  Plaintext?: string;
  AliasName?: string;
  Description?: string;
}

function report(r: CrashReport): void {
  // process.stdout on a pipe is synchronous on Linux: once this returns the line is the parent's.
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

async function call(session: Session, op: string, input: Record<string, unknown>): Promise<Record<string, unknown> & { RequestId: string }> {
  const r = await dispatch(session, op, input);
  if (!r.ok) throw new Error(`${op} failed: ${r.error.Code}: ${r.error.Message}`);
  return r.value as unknown as Record<string, unknown> & { RequestId: string };
}

async function main(): Promise<void> {
  const [path, tag] = process.argv.slice(2);
  const pass = process.env.KEYROOM_CRASH_PASSPHRASE;
  delete process.env.KEYROOM_CRASH_PASSPHRASE;
  if (!path || !tag || pass === undefined) {
    throw new Error('usage: kmsCrashWriter <keystore path> <run tag>, passphrase in KEYROOM_CRASH_PASSPHRASE');
  }
  const session = new Session({ keystorePath: path, creator: 'crash-writer' });
  const passphrase = Buffer.from(pass, 'utf8');
  try {
    await session.unlock(passphrase);
  } finally {
    passphrase.fill(0);
  }
  process.stdout.write('{"ready":true}\n');

  for (let i = 1; ; i++) {
    const description = `crash ${tag} ${i}`;
    const created = await call(session, 'CreateKey', { KeySpec: 'AES_256', Description: description });
    const keyId = (created.KeyMetadata as { KeyId: string }).KeyId;
    report({ op: 'CreateKey', RequestId: created.RequestId, KeyId: keyId, Description: description });

    const version = await call(session, 'CreateKeyVersion', { KeyId: keyId });
    const keyVersionId = (version.KeyVersion as { KeyVersionId: string }).KeyVersionId;
    report({ op: 'CreateKeyVersion', RequestId: version.RequestId, KeyId: keyId, KeyVersionId: keyVersionId });

    const plaintext = `message ${tag} ${i}`;
    const enc = await call(session, 'Encrypt', { KeyId: keyId, Plaintext: plaintext });
    report({ op: 'Encrypt', RequestId: enc.RequestId, KeyId: keyId, KeyVersionId: enc.KeyVersionId as string, CiphertextBlob: enc.CiphertextBlob as string, Plaintext: plaintext });

    const aliasName = `alias/crash/${tag}/${i}`;
    const alias = await call(session, 'CreateAlias', { AliasName: aliasName, KeyId: keyId });
    report({ op: 'CreateAlias', RequestId: alias.RequestId, KeyId: keyId, AliasName: aliasName });

    const moved = await call(session, 'UpdateAlias', { AliasName: LATEST_ALIAS, KeyId: keyId });
    report({ op: 'UpdateAlias', RequestId: moved.RequestId, KeyId: keyId, AliasName: LATEST_ALIAS });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
