/**
 * Child process for test/integration/hsm/orphanKeys.test.ts: a CreateKey of an HSM key that is
 * killed after the token made the key and before the keystore row is committed.
 *
 *   node --import tsx test/support/hsmOrphanWriter.ts <keystore path> <token label> <KeySpec> [KeyUsage]
 *
 * The passphrase and the user PIN come in KEYROOM_CRASH_PASSPHRASE and KEYROOM_CRASH_PIN (never
 * argv, which `ps` shows); SOFTHSM2_CONF names the parent's token directory. The real
 * Pkcs11Backend generates the key; then this child prints one JSON line (the CKA_ID, KeyId,
 * KeyVersionId) and waits, inside CreateKey, for the parent's SIGKILL.
 */
import { Session } from '../../src-main/services/session';
import { dispatch } from '../../src-main/handlers/dispatch';
import { Pkcs11Backend } from '../../src-main/backends/pkcs11/pkcs11Backend';
import { Pkcs11SessionManager } from '../../src-main/backends/pkcs11/sessionManager';
import type { NewMaterial } from '../../src-main/backends/backend';
import type { KeySpec, KeyUsage } from '../../src-shared/domain/keySpecs';
import { SOFTHSM_MODULE } from './softhsm';

export interface OrphanReport {
  objectId: string;
  keyId: string;
  keyVersionId: string;
}

/** The real backend, stopped for good once the token has the key: the crash window of CreateKey. */
class StopAfterGenerate extends Pkcs11Backend {
  override async generate(spec: KeySpec, opts: { exportable: boolean; keyId: string; keyVersionId: string; usage?: KeyUsage }): Promise<NewMaterial> {
    const made = await super.generate(spec, opts);
    const r: OrphanReport = { objectId: made.hsmObjectId!.toString('hex'), keyId: opts.keyId, keyVersionId: opts.keyVersionId };
    process.stdout.write(`${JSON.stringify(r)}\n`);
    await new Promise(() => setInterval(() => undefined, 1000));
    return made;
  }
}

async function main(): Promise<void> {
  const [path, tokenLabel, keySpec, keyUsage] = process.argv.slice(2);
  const pass = process.env.KEYROOM_CRASH_PASSPHRASE;
  const pin = process.env.KEYROOM_CRASH_PIN;
  delete process.env.KEYROOM_CRASH_PASSPHRASE;
  delete process.env.KEYROOM_CRASH_PIN;
  if (!path || !tokenLabel || !keySpec || pass === undefined || pin === undefined) {
    throw new Error('usage: hsmOrphanWriter <keystore path> <token label> <KeySpec> [KeyUsage], secrets in KEYROOM_CRASH_PASSPHRASE and KEYROOM_CRASH_PIN');
  }
  const manager = await Pkcs11SessionManager.open({ modulePath: SOFTHSM_MODULE, tokenLabel, pin: Buffer.from(pin) });
  const session = new Session({ keystorePath: path, creator: 'orphan-writer', backends: { HSM: new StopAfterGenerate(manager) } });
  const passphrase = Buffer.from(pass, 'utf8');
  try {
    await session.unlock(passphrase);
  } finally {
    passphrase.fill(0);
  }
  const r = await dispatch(session, 'CreateKey', { KeySpec: keySpec, ProtectionLevel: 'HSM', ...(keyUsage ? { KeyUsage: keyUsage } : {}) });
  throw new Error(`CreateKey returned instead of waiting to be killed: ${JSON.stringify(r)}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
