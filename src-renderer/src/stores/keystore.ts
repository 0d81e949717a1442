/**
 * The keystore's state as the window shows it: where the file is, whether it exists and is open,
 * and the inactivity auto-lock. Every other store empties itself when this one says "locked"
 * (onLocked), so nothing read from an open keystore stays on screen after it closes.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { call, onKeystoreLocked, type Output } from '../client/keyroom';

const AUTO_LOCK_KEY = 'keyroom.autoLockMinutes';
/** Minutes of inactivity before the keystore locks itself; 0 means never (not offered below 1). */
export const AUTO_LOCK_CHOICES = [1, 2, 5, 10, 15, 30, 60] as const;
const DEFAULT_AUTO_LOCK_MINUTES = 5;

function storedAutoLock(): number {
  const saved = Number(localStorage.getItem(AUTO_LOCK_KEY));
  return (AUTO_LOCK_CHOICES as readonly number[]).includes(saved) ? saved : DEFAULT_AUTO_LOCK_MINUTES;
}

export type LockReason = 'operator' | 'inactivity' | 'elsewhere';

export const useKeystoreStore = defineStore('keystore', () => {
  const path = ref('');
  const exists = ref(false);
  const unlocked = ref(false);
  /** True until the first status answer: the window shows nothing but a wait until then. */
  const loading = ref(true);
  const lastLock = ref<{ reason: LockReason; at: Date } | null>(null);
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
    stopAutoLock();
    if (was) lastLock.value = { reason, at: new Date() };
    for (const listener of lockListeners) listener();
  }

  async function refresh(): Promise<void> {
    try {
      const status = await call('GetKeystoreStatus', {});
      path.value = status.Keystore;
      exists.value = status.Exists;
      if (status.Unlocked && !unlocked.value) {
        unlocked.value = true;
        startAutoLock();
      } else if (!status.Unlocked && unlocked.value) becameLocked('elsewhere');
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
    startAutoLock();
  }

  async function unlock(passphrase: string): Promise<Output<'UnlockKeystore'>> {
    const result = await call('UnlockKeystore', { Passphrase: passphrase });
    unlocked.value = true;
    lastLock.value = null;
    lastUnlock.value = result;
    startAutoLock();
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

  // ---- auto-lock after inactivity ---------------------------------------------------------------
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ACTIVITY = ['pointerdown', 'keydown', 'wheel'] as const;
  const onActivity = () => armTimer();

  function armTimer(): void {
    clearTimeout(timer);
    if (!unlocked.value) return;
    timer = setTimeout(() => void lock('inactivity'), autoLockMinutes.value * 60_000);
  }
  function startAutoLock(): void {
    for (const type of ACTIVITY) window.addEventListener(type, onActivity, { passive: true, capture: true });
    armTimer();
  }
  function stopAutoLock(): void {
    clearTimeout(timer);
    for (const type of ACTIVITY) window.removeEventListener(type, onActivity, { capture: true });
  }
  function setAutoLockMinutes(minutes: number): void {
    if (!(AUTO_LOCK_CHOICES as readonly number[]).includes(minutes)) return;
    autoLockMinutes.value = minutes;
    localStorage.setItem(AUTO_LOCK_KEY, String(minutes));
    armTimer();
  }

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
