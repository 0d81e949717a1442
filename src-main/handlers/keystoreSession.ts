/**
 * The app's keystore session: status, unlock, lock, and the auto-lock's countdown. The app keeps the keystore open across calls
 * (the CLI opens and locks it around each command, so these are app-only in the contract).
 */
import type { OperationInput, OperationOutput } from '../../src-shared/contract/operations';
import type { Session } from '../services/session';
import { wipe } from '../crypto/wipe';
import { KmsError } from '../../src-shared/errors';
import { autoLockOf } from '../services/autoLock';

export async function getKeystoreStatus(session: Session): Promise<OperationOutput<'GetKeystoreStatus'>> {
  return { Keystore: session.keystorePath, Exists: await session.keystoreExists(), Unlocked: session.isOpen };
}

/**
 * Unlocking an open keystore closes it first (Session.unlock): a wrong passphrase leaves it locked.
 * An auto-lock that starts while the keystore is opening (the machine suspends, the screen locks)
 * wins: the keystore is locked again as soon as it is open, and the caller is told. (A LoginToken
 * caught the same way stays logged in until the countdown's next lock.)
 */
export async function unlockKeystore(session: Session, input: OperationInput<'UnlockKeystore'>): Promise<OperationOutput<'UnlockKeystore'>> {
  const passphrase = Buffer.from(input.Passphrase, 'utf8');
  const locksBefore = autoLockOf(session)?.lockCount;
  try {
    const due = await session.unlock(passphrase);
    if (autoLockOf(session)?.lockCount !== locksBefore) {
      await session.lock();
      throw new KmsError('Keystore.Locked', 'Keyroom locked itself while the keystore was opening (the screen locked, the computer went to sleep, or the window stopped); unlock it again.');
    }
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

/** The window saw the operator's keyboard or mouse: restart the countdown (nothing to do without an auto-lock). */
export async function reportActivity(session: Session): Promise<OperationOutput<'ReportActivity'>> {
  autoLockOf(session)?.activity();
  return {};
}

export async function setAutoLock(session: Session, input: OperationInput<'SetAutoLock'>): Promise<OperationOutput<'SetAutoLock'>> {
  const autoLock = autoLockOf(session);
  if (!autoLock) throw new KmsError('Internal', 'This front door has no auto-lock to set; nothing was changed.');
  return { AutoLockMinutes: autoLock.setMinutes(input.Minutes) };
}
