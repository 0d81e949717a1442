/**
 * The auto-lock, owned by the process that holds the keystore (the app's main process, the e2e
 * host), never by the window: a crashed or hung renderer cannot keep the keystore open or the
 * token logged in, because nothing it does or fails to do stops this countdown. The window only
 * restarts it (ReportActivity) while the operator uses it; the front door also locks at once on
 * events the window cannot report (renderer gone or hung, system suspend, screen lock; see
 * src-main/app/lockTriggers.ts).
 *
 * Locking here means both: the keystore closes and the token is logged out (its PIN forgotten).
 * An unattended machine must not keep either. The operator's own Lock button (LockKeystore) keeps
 * its narrower meaning, so that locking the keystore by hand does not also end a token login the
 * operator chose to keep.
 *
 * The countdown always runs: when it ends it locks whatever is open and starts again, so anything
 * opened without a reported activity (a call made by a script, a window that died right after
 * unlocking) is locked at most one delay later.
 */
import { KmsError } from '../../src-shared/errors';
import {
  AUTO_LOCK_MAX_MINUTES,
  AUTO_LOCK_MIN_MINUTES,
  DEFAULT_AUTO_LOCK_MINUTES,
  isAutoLockMinutes,
  type AutoLockReason,
} from '../../src-shared/domain/autoLock';

/** What the auto-lock needs of the session (services/session.ts's Session satisfies it). */
export interface Lockable {
  readonly isOpen: boolean;
  readonly loggedInToken: unknown;
  lock(): Promise<void>;
  logoutToken(): Promise<void>;
}

/** The timer functions, so that tests and the e2e host drive the countdown with a manual clock. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: a pending countdown never keeps a process alive by itself. */
export const REAL_TIMERS: Timers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

export interface AutoLockOptions {
  timers?: Timers;
  /** The delay to start with; DEFAULT_AUTO_LOCK_MINUTES when absent. */
  minutes?: number;
  /** Told after each lock that found the keystore open or the token logged in (the window then shows the unlock screen). */
  onLocked?: (reason: AutoLockReason) => void;
  /**
   * Told when closing the keystore or logging out failed. The session forgets the open keystore
   * before closing it, so it is locked for every later call whatever the error; a failed logout
   * is tried again at the next lock.
   */
  onLockFailed?: (reason: AutoLockReason, error: unknown) => void;
}

export class AutoLock {
  private minutes: number;
  private handle: unknown;
  private stopped = false;
  private locks = 0;
  private readonly timers: Timers;

  constructor(
    private readonly session: Lockable,
    private readonly opts: AutoLockOptions = {},
  ) {
    this.timers = opts.timers ?? REAL_TIMERS;
    this.minutes = this.checked(opts.minutes ?? DEFAULT_AUTO_LOCK_MINUTES);
    this.restart();
  }

  /**
   * How many locks have started: an unlock or a login that was under way when one started
   * compares this before and after, and undoes itself (see handlers/keystoreSession.ts).
   */
  get lockCount(): number {
    return this.locks;
  }

  /** The delay in force, in minutes. */
  get autoLockMinutes(): number {
    return this.minutes;
  }

  /**
   * Change the delay and restart the countdown with it.
   * @throws KmsError InvalidParameter when `minutes` is not a whole number from 1 to 60 (nothing changes)
   */
  setMinutes(minutes: number): number {
    this.minutes = this.checked(minutes);
    this.restart();
    return this.minutes;
  }

  /** The operator used the window: the countdown starts again from the full delay. */
  activity(): void {
    this.restart();
  }

  /**
   * Lock the keystore and log out of the token now, then start the countdown again. Never
   * throws: a failure goes to onLockFailed.
   * @returns whether anything was open
   */
  async lockNow(reason: AutoLockReason): Promise<boolean> {
    this.locks++;
    const wasOpen = this.session.isOpen || this.session.loggedInToken !== undefined;
    // Side by side: closing the keystore waits for the transaction under way, and the token's
    // logout must not wait for it (the session refuses new keystore calls from the first moment).
    const closing = Promise.allSettled([this.session.lock(), this.session.logoutToken()]);
    // lock() forgets the keystore before its first await, so every call from here on is refused:
    // the window hears why now, before a call of its own finds the keystore locked, while the
    // close (which may wait for a transaction, and anchors the head on a token) goes on.
    if (wasOpen) this.opts.onLocked?.(reason);
    const results = await closing;
    for (const r of results) if (r.status === 'rejected') this.opts.onLockFailed?.(reason, r.reason);
    this.restart();
    return wasOpen;
  }

  /** No more countdown (the app is quitting; the session is disposed next). */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private restart(): void {
    this.clear();
    if (this.stopped) return;
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      void this.lockNow('Inactivity');
    }, this.minutes * 60_000);
  }

  private clear(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private checked(minutes: number): number {
    if (!isAutoLockMinutes(minutes)) {
      throw new KmsError(
        'InvalidParameter',
        `The auto-lock delay must be a whole number of minutes from ${AUTO_LOCK_MIN_MINUTES} to ${AUTO_LOCK_MAX_MINUTES}; ${String(minutes).slice(0, 20)} was refused and the delay is unchanged.`,
      );
    }
    return minutes;
  }
}

const ATTACHED = new WeakMap<object, AutoLock>();

/**
 * Give `session` its auto-lock (one per session; the app's main process and the e2e host do,
 * the CLI, which locks after every command, does not). A second call stops the first one's.
 */
export function attachAutoLock(session: Lockable, opts: AutoLockOptions = {}): AutoLock {
  ATTACHED.get(session)?.stop();
  const autoLock = new AutoLock(session, opts);
  ATTACHED.set(session, autoLock);
  return autoLock;
}

/** The session's auto-lock, if its front door gave it one. */
export function autoLockOf(session: Lockable): AutoLock | undefined {
  return ATTACHED.get(session);
}
