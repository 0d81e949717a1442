/**
 * One session manager per module and token: it opens sessions on the token, logs in with the
 * user PIN, lends a session to one operation at a time, and closes and finalises on exit.
 *
 * - Serialisation: a session is lent to exactly one operation until that operation's promise
 *   settles (PKCS#11 allows one active operation per session, and pkcs11js runs the *Async calls
 *   on worker threads). Up to `maxSessions` sessions are open, so a long RSA-4096 generation does
 *   not hold up a signature asked for by the UI meanwhile; beyond that, calls wait their turn.
 * - Recovery: after CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED,
 *   CKR_TOKEN_NOT_PRESENT, CKR_USER_NOT_LOGGED_IN (token removed and reinserted, another user of
 *   the library logged out) or CKR_CRYPTOKI_NOT_INITIALIZED (library finalised and reinitialised)
 *   the manager initialises the library again if needed, finds the token again by its serial,
 *   opens a session, logs in again and retries the operation once.
 * - A session whose operation failed inside the token is closed rather than reused: a failed
 *   one-shot call can leave its operation active (SoftHSM does so on CKR_ARGUMENTS_BAD).
 *
 * The PIN: logging in again after a reinsertion needs it, so the manager keeps it for as long as
 * it lives, in a Buffer of its own (never pooled), and zeroes it in close(). The caller's Buffer
 * is zeroed as soon as it is copied. pkcs11js's C_Login accepts only a JavaScript string, so the
 * PIN exists as a string for the duration of each C_Login call; strings cannot be wiped and are
 * left to the garbage collector (see README). The PIN never goes into an error, a log or a field.
 */
import { timingSafeEqual } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';
import { ckrName, isRecoverable, toKmsError, type HsmErrorContext } from './errors';
import { CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS } from './constants';
import { Pkcs11Module } from './module';
import { findToken, mechanismList, slotIdOf } from './tokens';

export interface SessionManagerOptions {
  /** The library; the default search list when absent (see module.ts). */
  modulePath?: string | null;
  searchPaths?: readonly string[];
  /** The token's label; when absent, the only initialised token. */
  tokenLabel?: string | null;
  /** The user PIN. The manager copies it and zeroes this Buffer. */
  pin: Buffer;
  /** Sessions open at most at once (default 2). */
  maxSessions?: number;
}

export interface TokenIdentity {
  label: string;
  serial: string;
  slotId: number;
  modulePath: string;
}

/** What an operation gets: a logged-in session, lent to it alone until its promise settles. */
export interface SessionLease {
  readonly p11: pkcs11js.PKCS11;
  readonly handle: Buffer;
  /**
   * Increases whenever the sessions were reopened (library reinitialised, token reinserted):
   * object handles found under an older generation must be looked up again.
   */
  readonly generation: number;
  readonly token: TokenIdentity;
}

interface OpenSession {
  handle: Buffer;
  generation: number;
}

export interface RunContext {
  /** For Hsm.KeyNotFound messages: the CKA_ID the operation needs. */
  objectId?: Buffer | null;
  /**
   * Return values that mean "this ciphertext is not valid" in this operation (a decryption):
   * they become InvalidCiphertext with this message, and the session is replaced all the same.
   */
  invalidCiphertext?: { codes: readonly string[]; message: string };
}

/** The managers open in this process (to share a token's login safely; see login()). */
const OPEN_MANAGERS = new Set<Pkcs11SessionManager>();

export class Pkcs11SessionManager {
  private readonly pin: Buffer;
  private readonly maxSessions: number;
  private slot: Buffer;
  private identity: TokenIdentity;
  private generation = 1;
  private healthy = true;
  private closed = false;
  private idle: OpenSession[] = [];
  private busy = new Set<OpenSession>();
  private opened = 0;
  private waiters: { resolve: (s: OpenSession) => void; reject: (e: unknown) => void }[] = [];
  private drainWaiters: (() => void)[] = [];
  private recovering: Promise<void> | null = null;
  private mechanismCache: { generation: number; set: Set<number> } | null = null;
  /** Whether the token accepted this manager's PIN (directly, or as a peer's) since the last reopen. */
  private pinVerified = false;

  private constructor(
    readonly module: Pkcs11Module,
    pin: Buffer,
    slot: Buffer,
    identity: TokenIdentity,
    maxSessions: number,
  ) {
    this.pin = pin;
    this.slot = slot;
    this.identity = identity;
    this.maxSessions = maxSessions;
  }

  /**
   * Load the module, find the token, open a session and log in. Any failure releases what was
   * taken (the module is finalised if no one else uses it) and zeroes the PIN.
   */
  static async open(opts: SessionManagerOptions): Promise<Pkcs11SessionManager> {
    const pin = Buffer.alloc(opts.pin.length);
    opts.pin.copy(pin);
    opts.pin.fill(0);
    let module: Pkcs11Module;
    try {
      module = Pkcs11Module.open(opts.modulePath, opts.searchPaths);
    } catch (e) {
      pin.fill(0);
      throw e;
    }
    let manager: Pkcs11SessionManager | undefined;
    try {
      const token = findToken(module, { label: opts.tokenLabel ?? null });
      manager = new Pkcs11SessionManager(
        module,
        pin,
        token.slot,
        { label: token.label, serial: token.serial, slotId: slotIdOf(token.slot), modulePath: module.path },
        Math.max(1, opts.maxSessions ?? 2),
      );
      const first = manager.openSession();
      manager.idle.push(first);
      OPEN_MANAGERS.add(manager);
      return manager;
    } catch (e) {
      // Described before the module is released: a PIN message reads the token's counters.
      const error = e instanceof KmsError ? e : toKmsError(e, manager?.errorContext('log in to the token', {}) ?? { action: 'open a session', modulePath: module.path });
      if (manager) {
        for (const s of manager.idle) manager.closeQuietly(s);
        manager.idle = [];
      }
      pin.fill(0);
      module.release();
      throw error;
    }
  }

  /** The token in use (label, serial, slot, module path): what the keystore records. */
  get token(): TokenIdentity {
    return { ...this.identity };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sessions open now (at most maxSessions). */
  get openSessions(): number {
    return this.opened;
  }

  /**
   * Log in on this session's application if the login was lost (someone logged out, a module
   * forgot it): private objects are invisible until then, which must not pass for "not there".
   * Returns whether it had to log in.
   */
  loginIfNeeded(s: SessionLease): boolean {
    const info = this.module.p11.C_GetSessionInfo(s.handle);
    if (info.state === CKS_RW_USER_FUNCTIONS || info.state === CKS_RO_USER_FUNCTIONS) return false;
    this.pinVerified = false;
    this.login(s.handle);
    return true;
  }

  /** The mechanisms the token offers (read once per generation). */
  mechanisms(): Set<number> {
    if (this.mechanismCache?.generation !== this.generation) {
      this.mechanismCache = { generation: this.generation, set: mechanismList(this.module, this.slot) };
    }
    return this.mechanismCache.set;
  }

  /** CK_MECHANISM_INFO (key size range, flags) of one mechanism on the token. */
  mechanismInfo(mechanism: number): pkcs11js.MechanismInfo {
    try {
      return this.module.p11.C_GetMechanismInfo(this.slot, mechanism);
    } catch (e) {
      throw this.mapError(e, 'describe a mechanism', {});
    }
  }

  /**
   * Run `fn` with a session of its own. PKCS#11 errors become KmsErrors (Hsm.*); a lost
   * session, token or library is recovered once and `fn` runs again, so `fn` must be safe to
   * repeat (every Keyroom operation is: a retried generation makes a fresh CKA_ID).
   */
  async run<T>(action: string, fn: (s: SessionLease) => Promise<T> | T, ctx: RunContext = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let session: OpenSession | undefined;
      const generation = this.generation;
      try {
        session = await this.acquire();
        const out = await fn({ p11: this.module.p11, handle: session.handle, generation: session.generation, token: this.token });
        this.giveBack(session, true);
        return out;
      } catch (e) {
        // A KmsError decided by `fn` leaves the session clean; a token error may not.
        if (session) this.giveBack(session, e instanceof KmsError);
        if (attempt === 0 && !this.closed && isRecoverable(e)) {
          try {
            await this.recover(session?.generation ?? generation, action);
          } catch (r) {
            throw this.mapError(r, action, ctx);
          }
          continue;
        }
        throw this.mapError(e, action, ctx);
      }
    }
  }

  /**
   * Log out, close the sessions (waiting for the operations that hold one), release the
   * module (C_Finalize when no other manager uses it) and zero the PIN.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new KmsError('Hsm.NotConfigured', 'The HSM session was closed.'));
    if (this.busy.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    OPEN_MANAGERS.delete(this);
    try {
      const first = this.idle[0];
      // Logging out ends the login of every session of this process on the token: only the last
      // manager on it does so.
      if (first && this.peers().length === 0) {
        try {
          this.module.p11.C_Logout(first.handle);
        } catch {
          // not logged in any more (token removed, library finalised): nothing to undo
        }
      }
      for (const s of this.idle) this.closeQuietly(s);
      this.idle = [];
      this.opened = 0;
    } finally {
      this.pin.fill(0);
      this.module.release();
    }
  }

  // ---- sessions ------------------------------------------------------------------------------

  private openSession(): OpenSession {
    const p11 = this.module.p11;
    const handle = p11.C_OpenSession(this.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    this.opened++;
    const session = { handle, generation: this.generation };
    try {
      this.login(handle);
    } catch (e) {
      this.closeQuietly(session);
      throw e;
    }
    return session;
  }

  /**
   * C_Login. The login state belongs to the application (this process) and the token, not to a
   * session: once one manager has logged in, C_Login answers CKR_USER_ALREADY_LOGGED_IN for any
   * PIN. So a manager never takes an existing login as proof of its own PIN: if another open
   * manager of this process holds the token, the PIN must equal that manager's (which the token
   * accepted); if none does (someone else logged in), it logs out and in again so that the token
   * judges the PIN.
   */
  private login(handle: Buffer): void {
    const p11 = this.module.p11;
    const state = p11.C_GetSessionInfo(handle).state;
    const loggedIn = state === CKS_RW_USER_FUNCTIONS || state === CKS_RO_USER_FUNCTIONS;
    if (loggedIn && this.pinVerified) return;
    if (loggedIn) {
      const peer = this.peers().find((m) => m.pinVerified);
      if (peer) {
        if (this.pin.length !== peer.pin.length || !timingSafeEqual(this.pin, peer.pin)) {
          throw new KmsError(
            'Hsm.PinIncorrect',
            `The user PIN for token "${this.identity.label}" (serial ${this.identity.serial}) is incorrect (CKR_PIN_INCORRECT): it is not the PIN this process is logged in with.`,
          );
        }
        this.pinVerified = true;
        return;
      }
      try {
        p11.C_Logout(handle);
      } catch {
        // logged out meanwhile: log in below all the same
      }
    }
    try {
      // pkcs11js takes the PIN only as a string (see the header comment).
      p11.C_Login(handle, pkcs11js.CKU_USER, this.pin.toString('utf8'));
    } catch (e) {
      if (ckrName(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw e;
    }
    this.pinVerified = true;
  }

  /** The other open managers of this process on the same module and token. */
  private peers(): Pkcs11SessionManager[] {
    return [...OPEN_MANAGERS].filter(
      (m) => m !== this && !m.closed && m.module === this.module && m.identity.serial === this.identity.serial,
    );
  }

  private closeQuietly(s: OpenSession): void {
    this.opened = Math.max(0, this.opened - 1);
    try {
      this.module.p11.C_CloseSession(s.handle);
    } catch {
      // already gone with the token or the library
    }
  }

  private async acquire(): Promise<OpenSession> {
    if (this.closed) throw new KmsError('Hsm.NotConfigured', 'The HSM session was closed; open it again.');
    if (!this.healthy) await this.recover(this.generation, 'reconnect to the token');
    for (;;) {
      const s = this.idle.pop();
      if (!s) break;
      if (s.generation === this.generation) {
        this.busy.add(s);
        return s;
      }
      this.closeQuietly(s);
    }
    if (this.opened < this.maxSessions) {
      const s = this.openSession();
      this.busy.add(s);
      return s;
    }
    return new Promise<OpenSession>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private giveBack(s: OpenSession, reusable: boolean): void {
    this.busy.delete(s);
    // After close() the clean ones wait in `idle` for close() to log out and close them.
    if (reusable && s.generation === this.generation) this.idle.push(s);
    else this.closeQuietly(s);
    this.serveWaiters();
    if (this.busy.size === 0) for (const d of this.drainWaiters.splice(0)) d();
  }

  /** Hand idle sessions (or new ones, within maxSessions) to the calls waiting for one. */
  private serveWaiters(): void {
    while (this.waiters.length > 0 && !this.closed && this.healthy) {
      let s = this.idle.pop();
      while (s && s.generation !== this.generation) {
        this.closeQuietly(s);
        s = this.idle.pop();
      }
      if (!s && this.opened >= this.maxSessions) return;
      const w = this.waiters.shift()!;
      try {
        s ??= this.openSession();
      } catch (e) {
        w.reject(e); // its run() recovers if the error says so
        continue;
      }
      this.busy.add(s);
      w.resolve(s);
    }
  }

  /**
   * Reopen after the session, the token or the library went away. Concurrent callers share one
   * recovery; a caller whose generation is already replaced just retries.
   */
  private async recover(failedGeneration: number, action: string): Promise<void> {
    if (this.recovering) return this.recovering;
    if (failedGeneration !== this.generation && this.healthy) return;
    this.recovering = (async () => {
      this.healthy = false;
      this.pinVerified = false;
      for (const s of this.idle) this.closeQuietly(s);
      this.idle = [];
      this.generation++;
      try {
        this.module.p11.C_GetSlotList(true);
      } catch (e) {
        if (ckrName(e) !== 'CKR_CRYPTOKI_NOT_INITIALIZED') throw this.mapError(e, action, {});
        this.module.reinitialize();
        this.opened = this.busy.size; // every session of the old library is gone
      }
      const token = findToken(this.module, { label: this.identity.label, serial: this.identity.serial });
      this.slot = token.slot;
      this.identity = { ...this.identity, slotId: slotIdOf(token.slot) };
      const s = this.openSession();
      this.idle.push(s);
      this.healthy = true;
      this.serveWaiters();
    })();
    try {
      await this.recovering;
    } finally {
      this.recovering = null;
    }
  }

  private errorContext(action: string, ctx: RunContext): HsmErrorContext {
    const context: HsmErrorContext = {
      action,
      tokenLabel: this.identity.label,
      tokenSerial: this.identity.serial,
      modulePath: this.module.path,
      objectId: ctx.objectId ?? null,
    };
    try {
      // For the PIN counters (CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED) in PIN messages.
      context.tokenFlags = this.module.p11.C_GetTokenInfo(this.slot).flags;
    } catch {
      // token gone: the message goes without them
    }
    return context;
  }

  private mapError(e: unknown, action: string, ctx: RunContext): KmsError {
    if (e instanceof KmsError) return e;
    const ckr = ckrName(e);
    if (ckr && ctx.invalidCiphertext?.codes.includes(ckr)) {
      return new KmsError('InvalidCiphertext', `${ctx.invalidCiphertext.message} (${ckr})`);
    }
    return toKmsError(e, ckr?.startsWith('CKR_PIN_') ? this.errorContext(action, ctx) : { ...this.errorContext(action, ctx), tokenFlags: undefined });
  }
}
