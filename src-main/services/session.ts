/**
 * The session: which keystore file, whether it is open, and the collaborators the services get.
 * One per front door (a CLI invocation, the app's main process, the e2e host).
 */
import { userInfo } from 'node:os';
import { access } from 'node:fs/promises';
import { KmsError } from '../../src-shared/errors';
import type { ProtectionLevel } from '../../src-shared/domain/keySpecs';
import { Keystore, type OpenOptions } from '../keystore/keystore';
import type { KeyBackend } from '../backends/backend';
import { LazyBackend, LazyTokenBackend } from '../backends/lazyBackend';
import type { Pkcs11Backend } from '../backends/pkcs11/pkcs11Backend';
import type { Pkcs11SessionManager, TokenIdentity } from '../backends/pkcs11/sessionManager';
import { wipe } from '../crypto/wipe';
import { carryOutDueWork, type DueWorkReport } from './kms/dueWork';
import type { KmsContext } from './kms/context';
import { Rehearsals } from './ceremony/byok/rehearsals';
import { anchorHead, assertNotOlderThanAnchor } from './audit/anchor';

/** Where the PKCS#11 token is, and how to get its PIN when a key on it is first used. */
export interface HsmOptions {
  /** The library; the default search list (SoftHSM2, OpenSC, common vendors) when absent. */
  modulePath?: string;
  /** The token's label; when absent, the only initialised token. */
  tokenLabel?: string;
  /**
   * Asked only when an HSM key is used and the session is not logged in (LoginToken); the Buffer
   * is zeroed after login. The app's throws: its PIN comes through LoginToken.
   */
  pin: () => Promise<Buffer>;
}

export interface SessionOptions {
  keystorePath: string;
  /** The HSM backend, connected on first use. Absent: HSM keys answer Hsm.NotConfigured. */
  hsm?: HsmOptions;
  clock?: () => Date;
  creator?: string;
  /** Extra backends (HSM) beside the software one. */
  backends?: Partial<Record<ProtectionLevel, KeyBackend>>;
  /** Only `npm run bench` sets this (to measure the freshness check); front doors never do. */
  keystoreOpenOptions?: OpenOptions;
}

export class Session {
  readonly keystorePath: string;
  readonly clock: () => Date;
  private readonly creator: string;
  private readonly backends: Partial<Record<ProtectionLevel, KeyBackend>>;
  private kmsContext: KmsContext | null = null;
  private readonly openOptions: OpenOptions;

  constructor(opts: SessionOptions) {
    this.keystorePath = opts.keystorePath;
    this.clock = opts.clock ?? (() => new Date());
    this.creator = opts.creator ?? safeUserName();
    this.hsmModulePath = opts.hsm?.modulePath;
    this.hsm = opts.hsm;
    const hsm = opts.hsm;
    if (hsm) {
      // pkcs11js and the token's encodings load with the first use of the token, not with the session.
      let loading: Promise<Pkcs11Backend> | undefined;
      this.hsmBackend = () =>
        (loading ??= (async () => {
          const [{ Pkcs11Backend }, { Pkcs11SessionManager }] = await Promise.all([import('../backends/pkcs11/pkcs11Backend'), import('../backends/pkcs11/sessionManager')]);
          const backend = new Pkcs11Backend(async () =>
            Pkcs11SessionManager.open({ modulePath: hsm.modulePath ?? null, tokenLabel: hsm.tokenLabel ?? null, pin: await hsm.pin() }),
          );
          this.hsmBackendLoaded = backend;
          return backend;
        })().catch((e: unknown) => {
          loading = undefined;
          throw e;
        }));
    }
    this.openOptions = opts.keystoreOpenOptions ?? {};
    // The software backend's crypto loads with the first operation that uses it (lazyBackend.ts).
    const software = new LazyBackend(async () => new (await import('../backends/software/softwareBackend')).SoftwareBackend());
    this.backends = { SOFTWARE: software, ...(this.hsmBackend ? { HSM: new LazyTokenBackend(this.hsmBackend) } : {}), ...opts.backends };
  }

  /** The PKCS#11 library path the operator named, if any (ListTokens). */
  readonly hsmModulePath: string | undefined;
  /** The token's backend, loaded on first use; undefined when no PKCS#11 module is configured. */
  private readonly hsmBackend: (() => Promise<Pkcs11Backend>) | undefined;
  /** The same once loaded: until then nothing is connected, nothing to close. */
  private hsmBackendLoaded: Pkcs11Backend | undefined;
  private readonly hsm: HsmOptions | undefined;

  /**
   * Log in to the token now with `pin` (zeroed here, once the session manager has its own copy,
   * which it keeps to log in again after the token is unplugged and returns). HSM operations
   * then use this login instead of asking `pin()`. A refused login keeps nothing, and leaves an
   * earlier login in place.
   * @throws KmsError Hsm.NotConfigured, InvalidParameter.TokenLabel, Hsm.PinIncorrect, Hsm.* of the token
   */
  async loginToken(pin: Buffer, tokenLabel?: string): Promise<TokenIdentity> {
    try {
      const hsm = this.hsm;
      if (!hsm || !this.hsmBackend) {
        throw new KmsError('Hsm.NotConfigured', 'No PKCS#11 module is configured for this session: give --pkcs11-module or KEYROOM_PKCS11_MODULE.');
      }
      if (tokenLabel !== undefined && hsm.tokenLabel !== undefined && tokenLabel !== hsm.tokenLabel) {
        throw new KmsError(
          'InvalidParameter.TokenLabel',
          `This session was started for token "${hsm.tokenLabel}" (--token or KEYROOM_TOKEN), not "${tokenLabel}"; log in to that token, or start Keyroom for the other one.`,
        );
      }
      const backend = await this.hsmBackend();
      const { Pkcs11SessionManager } = await import('../backends/pkcs11/sessionManager');
      const manager = await Pkcs11SessionManager.open({ modulePath: hsm.modulePath ?? null, tokenLabel: tokenLabel ?? hsm.tokenLabel ?? null, pin });
      await backend.useSessionManager(manager);
      return manager.token;
    } finally {
      wipe(pin);
    }
  }

  /** Log out of the token and forget its PIN: the next HSM use needs LoginToken (or `pin()`) again. */
  async logoutToken(): Promise<void> {
    await this.hsmBackendLoaded?.close();
  }

  /**
   * The session manager of the session's own token (the one HSM keys use, never a second
   * login): with `connect`, logging in as an HSM key's first use would (Hsm.NotConfigured when no
   * module is configured); without, only if already logged in (else undefined).
   */
  async tokenSessionManager(connect: boolean): Promise<Pkcs11SessionManager | undefined> {
    if (!this.hsmBackend) {
      if (!connect) return undefined;
      throw new KmsError('Hsm.NotConfigured', 'No PKCS#11 module is configured for this session: give --pkcs11-module or KEYROOM_PKCS11_MODULE.');
    }
    if (!connect && !this.hsmBackendLoaded?.connectedToken) return undefined;
    return (await this.hsmBackend()).sessionManager();
  }

  /** The token the session is logged in to now (by LoginToken or by `pin()`), if any. */
  get loggedInToken(): TokenIdentity | undefined {
    return this.hsmBackendLoaded?.connectedToken;
  }

  /** Lock the keystore and log out of the token: the end of a CLI run or of the app. */
  async dispose(): Promise<void> {
    try {
      await this.lock();
    } finally {
      await this.hsmBackendLoaded?.close();
    }
  }

  get isOpen(): boolean {
    return this.kmsContext !== null;
  }

  /** Whether a file is at the keystore path (the app offers create or unlock accordingly). */
  async keystoreExists(): Promise<boolean> {
    try {
      await access(this.keystorePath);
      return true;
    } catch {
      return false;
    }
  }

  /** The open keystore's context, or Keystore.Locked. */
  get kms(): KmsContext {
    if (!this.kmsContext) throw new KmsError('Keystore.Locked', 'The keystore is locked; unlock it with its passphrase first.');
    return this.kmsContext;
  }

  /** Open the keystore and carry out what fell due while it was closed. */
  async unlock(passphrase: Buffer): Promise<DueWorkReport> {
    if (this.kmsContext) await this.lock();
    const keystore = await Keystore.open(this.keystorePath, passphrase, this.openOptions);
    try {
      const manager = await this.tokenSessionManager(false);
      if (manager) await assertNotOlderThanAnchor(keystore, manager);
    } catch (e) {
      await keystore.close();
      throw e;
    }
    this.kmsContext = { keystore, clock: this.clock, backends: this.backends, creator: this.creator };
    try {
      return await carryOutDueWork(this.kmsContext);
    } catch (e) {
      await this.lock();
      throw e;
    }
  }

  /**
   * Create a new keystore and leave it open. The open one (if any) is locked only once the new
   * one exists, so a refused create (Keystore.AlreadyExists) leaves it open.
   */
  async create(passphrase: Buffer): Promise<void> {
    const keystore = await Keystore.create(this.keystorePath, passphrase);
    try {
      await this.lock();
    } finally {
      this.kmsContext = { keystore, clock: this.clock, backends: this.backends, creator: this.creator };
    }
  }

  private dueWork: Promise<DueWorkReport> | null = null;

  /**
   * Carry out what fell due since the last operation (deletions, material expiry). Concurrent
   * callers share one run rather than queue behind each other.
   */
  async carryOutDueWork(): Promise<DueWorkReport> {
    this.dueWork ??= carryOutDueWork(this.kms).finally(() => {
      this.dueWork = null;
    });
    return this.dueWork;
  }

  /** BYOK rehearsals' stand-in clouds: they live while the keystore is open. */
  readonly rehearsals = new Rehearsals();

  async lock(): Promise<void> {
    const ctx = this.kmsContext;
    this.kmsContext = null;
    this.rehearsals.clear();
    if (ctx) await this.anchorOnLock(ctx.keystore);
    await ctx?.keystore.close();
  }

  /**
   * With the token logged in, the head is anchored on it as the keystore locks. Locking never
   * fails for it: a token gone or an anchor this log does not continue leaves the anchor as it
   * was, and VerifyAuditLog (and the next unlock with the token) reports the disagreement.
   */
  private async anchorOnLock(keystore: Keystore): Promise<void> {
    try {
      const manager = await this.tokenSessionManager(false);
      if (manager) await anchorHead(keystore, manager);
    } catch {
      // see above
    }
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
