/**
 * What makes the main process lock by itself at once, beside the countdown of
 * services/autoLock.ts: the window's renderer gone (crashed, killed, out of memory) or hung, the
 * machine going to sleep, the screen locking. A dead or frozen window cannot report anything, and
 * an operator who walks away from a locked screen or a closed laptop is not at the keys. Written
 * against the few methods it uses (Electron's WebContents and powerMonitor satisfy these
 * interfaces; tsc checks that in main.ts), so test/unit/app/lockTriggers.test.ts fires every
 * event with recording fakes and no Electron binary.
 *
 * Electron emits 'lock-screen' on macOS and Windows only; on Linux a screen lock is covered by
 * the countdown (and by 'suspend' when the machine sleeps).
 */
import type { AutoLockReason } from '../../src-shared/domain/autoLock';
import { AUTO_LOCK_CHANNEL, type AutoLockNotice } from '../../src-shared/contract/api';
import type { ProgressReceiver } from './ipc';

/** What the triggers call (services/autoLock.ts's AutoLock satisfies it). */
export interface LockNow {
  lockNow(reason: AutoLockReason): Promise<boolean>;
}

/** The parts of the window's WebContents watched. */
export interface RendererLike {
  on(event: 'render-process-gone', listener: (event: unknown, details: { reason: string }) => void): unknown;
  on(event: 'unresponsive', listener: () => void): unknown;
}

/** The parts of Electron's powerMonitor watched. */
export interface PowerMonitorLike {
  on(event: 'suspend', listener: () => void): unknown;
  on(event: 'lock-screen', listener: () => void): unknown;
}

/** Lock when the window's renderer process ends, whatever the reason, or stops answering. */
export function lockWhenRendererFails(contents: RendererLike, autoLock: LockNow): void {
  contents.on('render-process-gone', () => void autoLock.lockNow('RendererGone'));
  contents.on('unresponsive', () => void autoLock.lockNow('RendererUnresponsive'));
}

/** Lock before the machine sleeps and when the operating system locks the screen. */
export function lockWhenSystemSleeps(power: PowerMonitorLike, autoLock: LockNow): void {
  power.on('suspend', () => void autoLock.lockNow('SystemSuspend'));
  power.on('lock-screen', () => void autoLock.lockNow('ScreenLocked'));
}

/**
 * Tell the window that the main process locked (it then forgets what it showed and offers the
 * unlock screen); a window closed or crashed meanwhile is skipped, and learns it from its next call.
 */
export function autoLockNoticeTo(receiver: ProgressReceiver): (reason: AutoLockReason) => void {
  return (reason) => {
    const notice: AutoLockNotice = { Reason: reason };
    try {
      if (!receiver.isDestroyed()) receiver.send(AUTO_LOCK_CHANNEL, notice);
    } catch {
      // destroyed between the check and the send: nothing to tell
    }
  };
}
