/**
 * The keystore's state as the window shows it: where the file is, whether it exists and is open,
 * and the auto-lock's delay. Every other store empties itself when this one says "locked"
 * (onLocked), so nothing read from an open keystore stays on screen after it closes.
 *
 * The auto-lock itself is the main process's (src-main/services/autoLock.ts): the window only
 * reports the operator's keyboard and mouse activity (at most every ACTIVITY_REPORT_MS), asks for
 * the delay the operator chose, and shows the unlock screen when main says it locked.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { call, onAutoLock, onKeystoreLocked, type Output } from '../client/keyroom';
import { AUTO_LOCK_CHOICES, DEFAULT_AUTO_LOCK_MINUTES, type AutoLockReason } from '../../../src-shared/domain/autoLock';

export { AUTO_LOCK_CHOICES };

const AUTO_LOCK_KEY = 'keyroom.autoLockMinutes';
/**
 * How often at most the window tells main about activity. The last activity of a burst is still
 * reported (at the end of the interval), so the keystore never locks earlier than the delay after it.
 */
export const ACTIVITY_REPORT_MS = 15_000;

function storedAutoLock(): number {
  const saved = Number(localStorage.getItem(AUTO_LOCK_KEY));
  return (AUTO_LOCK_CHOICES as readonly number[]).includes(saved) ? saved : DEFAULT_AUTO_LOCK_MINUTES;
}

/** Who locked: the operator's Lock button, the main process by itself (and why), or found locked by a call. */
export type LockReason = 'operator' | 'elsewhere' | AutoLockReason;

export const useKeystoreStore = defineStore('keystore', () => {
  const path = ref('');
  const exists = ref(false);
  const unlocked = ref(false);
  /** True until the first status answer: the window shows nothing but a wait until then. */
  const loading = ref(true);
  /** The last lock this window saw, and the delay then in force (for "after N minutes"). */
  const lastLock = ref<{ reason: LockReason; at: Date; minutes: number } | null>(null);
  const lastUnlock = ref<Output<'UnlockKeystore'> | null>(null);
  const autoLockMinutes = ref(storedAutoLock());

  const lockListeners = new Set<() => void>();
  /** Register what must be forgotten when the keystore locks (the other stores' data). */
  function onLocked(listener: () => void): () => void {
    lockListeners.add(listener);
    return () => lockListeners.delete(listener);
  }
  function becameLocked(reason: LockReason): void {
    const was = unlocked.value;
    unlocked.value = false;
    if (was) lastLock.value = { reason, at: new Date(), minutes: autoLockMinutes.value };
    for (const listener of lockListeners) listener();
  }

  async function refresh(): Promise<void> {
    try {
      // A new page (started, reloaded after a crash) tells main the delay the operator chose.
      if (!delaySent) await sendAutoLockMinutes(autoLockMinutes.value);
      const status = await call('GetKeystoreStatus', {});
      path.value = status.Keystore;
      exists.value = status.Exists;
      if (status.Unlocked && !unlocked.value) unlocked.value = true;
      else if (!status.Unlocked && unlocked.value) becameLocked('elsewhere');
    } finally {
      loading.value = false;
    }
  }

  /** Create the keystore; it is open afterwards. The caller clears its passphrase fields. */
  async function create(passphrase: string): Promise<void> {
    await call('InitKeystore', { Passphrase: passphrase });
    exists.value = true;
    unlocked.value = true;
    lastLock.value = null;
  }

  async function unlock(passphrase: string): Promise<Output<'UnlockKeystore'>> {
    const result = await call('UnlockKeystore', { Passphrase: passphrase });
    unlocked.value = true;
    lastLock.value = null;
    lastUnlock.value = result;
    return result;
  }

  async function lock(reason: LockReason = 'operator'): Promise<void> {
    try {
      await call('LockKeystore', {});
    } finally {
      // Even if the main process could not be reached, the window forgets what it showed.
      becameLocked(reason);
    }
  }

  async function changePassphrase(currentPassphrase: string, newPassphrase: string): Promise<void> {
    await call('ChangePassphrase', { CurrentPassphrase: currentPassphrase, NewPassphrase: newPassphrase });
  }

  async function backup(outputFile: string): Promise<Output<'BackupKeystore'>> {
    return call('BackupKeystore', { OutputFile: outputFile });
  }

  // ---- the main process's auto-lock ------------------------------------------------------------
  let delaySent = false;
  async function sendAutoLockMinutes(minutes: number): Promise<void> {
    const answer = await call('SetAutoLock', { Minutes: minutes });
    delaySent = true;
    autoLockMinutes.value = answer.AutoLockMinutes;
  }

  /** The operator's choice: main enforces it (1 to 60 minutes), the window remembers it for next time. */
  async function setAutoLockMinutes(minutes: number): Promise<void> {
    if (!(AUTO_LOCK_CHOICES as readonly number[]).includes(minutes)) return;
    await sendAutoLockMinutes(minutes);
    localStorage.setItem(AUTO_LOCK_KEY, String(autoLockMinutes.value));
  }

  // Keyboard and mouse in the window restart main's countdown: the first at once, then at most
  // one report per ACTIVITY_REPORT_MS, the last one of a burst at the end of its interval.
  let lastReport = -Infinity;
  let pendingReport: ReturnType<typeof setTimeout> | undefined;
  function report(): void {
    pendingReport = undefined;
    lastReport = Date.now();
    call('ReportActivity', {}).catch(() => undefined); // a lost report only brings the lock earlier
  }
  function onActivity(): void {
    if (pendingReport !== undefined) return;
    const wait = lastReport + ACTIVITY_REPORT_MS - Date.now();
    if (wait <= 0) report();
    else pendingReport = setTimeout(report, wait);
  }
  for (const type of ['pointerdown', 'keydown', 'wheel'] as const) window.addEventListener(type, onActivity, { passive: true, capture: true });

  // Main locked by itself (inactivity, a hung window, sleep, screen lock): back to the unlock screen.
  onAutoLock(({ Reason }) => becameLocked(Reason));

  // Any call that finds the keystore locked (the main process locked it) returns us to unlock.
  onKeystoreLocked(() => {
    if (unlocked.value) becameLocked('elsewhere');
  });

  const folder = computed(() => path.value.replace(/[\\/][^\\/]*$/, ''));

  return {
    path,
    folder,
    exists,
    unlocked,
    loading,
    lastLock,
    lastUnlock,
    autoLockMinutes,
    refresh,
    create,
    unlock,
    lock,
    changePassphrase,
    backup,
    setAutoLockMinutes,
    onLocked,
  };
});
