/**
 * The app's keystore session: status, unlock, lock. The app keeps the keystore open across calls
 * (the CLI opens and locks it around each command, so these are app-only in the contract).
 */
import type { OperationInput, OperationOutput } from '../../src-shared/contract/operations';
import type { Session } from '../services/session';
import { wipe } from '../crypto/wipe';

export async function getKeystoreStatus(session: Session): Promise<OperationOutput<'GetKeystoreStatus'>> {
  return { Keystore: session.keystorePath, Exists: await session.keystoreExists(), Unlocked: session.isOpen };
}

/** Unlocking an open keystore closes it first (Session.unlock): a wrong passphrase leaves it locked. */
export async function unlockKeystore(session: Session, input: OperationInput<'UnlockKeystore'>): Promise<OperationOutput<'UnlockKeystore'>> {
  const passphrase = Buffer.from(input.Passphrase, 'utf8');
  try {
    const due = await session.unlock(passphrase);
    return {
      Keystore: session.keystorePath,
      DestroyedKeys: due.destroyedKeys,
      ExpiredMaterial: due.expiredMaterial,
      DeferredKeys: due.deferredKeys,
    };
  } finally {
    wipe(passphrase);
  }
}

export async function lockKeystore(session: Session): Promise<OperationOutput<'LockKeystore'>> {
  await session.lock();
  return { Keystore: session.keystorePath };
}
