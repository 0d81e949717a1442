/**
 * The main process's auto-lock (src-main/services/autoLock.ts) and what triggers it at once
 * (src-main/app/lockTriggers.ts), over a real keystore and a real SoftHSM token logged in through
 * LoginToken: the countdown runs on a manual clock, and Electron's webContents and powerMonitor are
 * recording fakes whose events the test fires as Electron would. "Locked" is shown by the session
 * (keystore calls answer Keystore.Locked, ListTokens has no login), not by a spy.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KmsError } from '../../../src-shared/errors';
import { AUTO_LOCK_CHANNEL } from '../../../src-shared/contract/api';
import type { AutoLockReason } from '../../../src-shared/domain/autoLock';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { AutoLock, attachAutoLock } from '../../../src-main/services/autoLock';
import {
  autoLockNoticeTo,
  lockWhenRendererFails,
  lockWhenSystemSleeps,
  type PowerMonitorLike,
  type RendererLike,
} from '../../../src-main/app/lockTriggers';
import { openHarness, PASSPHRASE, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, type SoftHsm } from '../../support/softhsm';
import { ManualTimers } from '../../support/manualTimers';

const MINUTE = 60_000;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** An emitter that keeps one listener per event, as the fakes of hardening.test.ts do. */
class FakeEmitter {
  readonly listeners = new Map<string, (...args: unknown[]) => void>();
  on(event: string, listener: (...args: never[]) => void): this {
    assert.ok(!this.listeners.has(event), `${event} watched twice`);
    this.listeners.set(event, listener as (...args: unknown[]) => void);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    const listener = this.listeners.get(event);
    assert.ok(listener, `nothing listens for ${event}`);
    listener(...args);
  }
}

/** The window's webContents: watched for crashes and hangs, and sent the notices. */
class FakeContents extends FakeEmitter implements RendererLike {
  readonly sent: [string, unknown[]][] = [];
  destroyed = false;
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push([channel, args]);
  }
}

let hsm: SoftHsm;
let h: Harness;
let timers: ManualTimers;
let autoLock: AutoLock;
let contents: FakeContents;
let power: FakeEmitter & PowerMonitorLike;
let locks: AutoLockReason[];
let waiting: (() => void)[];

/** Resolves once the next lock (started by a timer or an event) has finished. */
function nextLock(): Promise<void> {
  return new Promise((resolve) => waiting.push(resolve));
}

async function openEverything(): Promise<void> {
  if (!h.session.isOpen) assert.ok((await dispatch(h.session, 'UnlockKeystore', { Passphrase: PASSPHRASE })).ok);
  const login = await dispatch(h.session, 'LoginToken', { Pin: hsm.pin });
  assert.ok(login.ok, JSON.stringify(login));
  assert.equal(h.session.isOpen, true);
  assert.equal(h.session.loggedInToken?.label, hsm.label);
}

/** Locked as an operator would find it: keystore calls refused, the token without a login. */
async function assertAllLocked(why: string): Promise<void> {
  const keys = await dispatch(h.session, 'ListKeys', {});
  assert.equal(keys.ok ? 'ok' : keys.error.Code, 'Keystore.Locked', `${why}: the keystore is locked`);
  assert.equal((await h.call('ListTokens')).LoggedIn, undefined, `${why}: the token is logged out`);
  assert.equal(h.session.loggedInToken, undefined);
}

async function assertAllOpen(why: string): Promise<void> {
  assert.equal(h.session.isOpen, true, `${why}: the keystore is still open`);
  assert.equal(h.session.loggedInToken?.label, hsm.label, `${why}: the token is still logged in`);
  assert.ok((await dispatch(h.session, 'ListKeys', {})).ok);
}

before(async () => {
  hsm = makeSoftHsm('autolock');
  h = await openHarness({
    hsm: {
      modulePath: hsm.modulePath,
      tokenLabel: hsm.label,
      pin: async () => {
        throw new KmsError('Hsm.NotConfigured', "Enter the token's PIN in the Tokens screen, then try again.");
      },
    },
  });
});

after(async () => {
  autoLock?.stop();
  await h.session.dispose();
  await h.close();
  hsm.cleanup();
});

beforeEach(async () => {
  timers = new ManualTimers();
  contents = new FakeContents();
  power = new FakeEmitter() as FakeEmitter & PowerMonitorLike;
  locks = [];
  waiting = [];
  const notify = autoLockNoticeTo(contents);
  // As main.ts wires it: the session's auto-lock, its notices to the window, the Electron triggers.
  autoLock = attachAutoLock(h.session, {
    timers,
    onLocked: (reason) => {
      locks.push(reason);
      notify(reason);
    },
  });
  // Every lock, whether it found anything open or not, ends in `restart`: wait on lockNow itself.
  const lockNow = autoLock.lockNow.bind(autoLock);
  autoLock.lockNow = async (reason) => {
    const wasOpen = await lockNow(reason);
    for (const resolve of waiting.splice(0)) resolve();
    return wasOpen;
  };
  lockWhenRendererFails(contents, autoLock);
  lockWhenSystemSleeps(power, autoLock);
  await openEverything();
});

describe('the countdown in the main process', () => {
  it('locks the keystore and logs out of the token after the delay without activity, and tells the window', async () => {
    assert.equal(autoLock.autoLockMinutes, 5, 'five minutes unless the operator chose otherwise');
    timers.advance(5 * MINUTE - 1);
    await assertAllOpen('a moment before the delay');
    const locked = nextLock();
    timers.advance(1);
    await locked;
    await assertAllLocked('at the delay');
    assert.deepEqual(locks, ['Inactivity']);
    assert.deepEqual(contents.sent, [[AUTO_LOCK_CHANNEL, [{ Reason: 'Inactivity' }]]]);
  });

  it('starts again from the full delay at each ReportActivity, and from the new delay at SetAutoLock', async () => {
    timers.advance(4 * MINUTE);
    assert.ok((await dispatch(h.session, 'ReportActivity', {})).ok);
    timers.advance(4 * MINUTE);
    await assertAllOpen('4 minutes after the activity');
    assert.equal((await h.call('SetAutoLock', { Minutes: 2 })).AutoLockMinutes, 2);
    assert.equal(timers.msToNext, 2 * MINUTE);
    timers.advance(2 * MINUTE - 1);
    await assertAllOpen('a moment before the new delay');
    const locked = nextLock();
    timers.advance(1);
    await locked;
    await assertAllLocked('at the new delay');
    assert.ok((await dispatch(h.session, 'SetAutoLock', { Minutes: 5 })).ok);
  });

  it('keeps counting after a lock: what is opened without any activity (a dead window) is locked one delay later', async () => {
    const first = nextLock();
    timers.advance(5 * MINUTE);
    await first;
    // Opened again by calls alone; no ReportActivity follows, as from a window that died.
    await openEverything();
    const second = nextLock();
    timers.advance(5 * MINUTE);
    await second;
    await assertAllLocked('one delay after the unattended open');
    assert.deepEqual(locks, ['Inactivity', 'Inactivity']);
    // With nothing open, the countdown ends quietly: no notice to the window.
    const quiet = nextLock();
    timers.advance(5 * MINUTE);
    await quiet;
    assert.deepEqual(locks, ['Inactivity', 'Inactivity']);
    assert.equal(contents.sent.length, 2);
  });

  it('refuses a delay outside 1 to 60 whole minutes from the window, and keeps the one in force', async () => {
    assert.ok((await dispatch(h.session, 'SetAutoLock', { Minutes: 10 })).ok);
    for (const Minutes of [0, -1, 61, 1e9, 1.5, '0', 'abc', null, Number.NaN]) {
      const r = await dispatch(h.session, 'SetAutoLock', { Minutes });
      assert.equal(r.ok ? 'ok' : r.error.Code, 'InvalidParameter', `Minutes ${String(Minutes)}`);
    }
    const missing = await dispatch(h.session, 'SetAutoLock', {});
    assert.equal(missing.ok, false);
    assert.equal(autoLock.autoLockMinutes, 10);
    assert.equal(timers.msToNext, 10 * MINUTE, 'a refused delay does not restart the countdown either');
    // The service enforces the range itself, not only the contract's schema.
    for (const m of [0, 61, 2.5, Number.POSITIVE_INFINITY]) assert.throws(() => autoLock.setMinutes(m), (e: unknown) => e instanceof KmsError && e.code === 'InvalidParameter');
    assert.equal(autoLock.autoLockMinutes, 10);
    for (const m of [1, 60]) assert.equal(autoLock.setMinutes(m), m);
    autoLock.setMinutes(5);
  });

  it('does nothing more once stopped (the app quitting disposes the session itself)', async () => {
    autoLock.stop();
    assert.equal(timers.msToNext, undefined);
    assert.ok((await dispatch(h.session, 'ReportActivity', {})).ok);
    assert.equal(timers.msToNext, undefined, 'activity does not start a stopped countdown');
    await assertAllOpen('stopped');
    await h.session.lock();
    await h.session.logoutToken();
  });
});

describe('a lock that fails', () => {
  it('still logs out of the token, reports the failure, never throws, and keeps counting', async () => {
    // A stand-in session whose keystore close fails (the real one is exercised above).
    const calls: string[] = [];
    const failing = {
      isOpen: true,
      loggedInToken: { label: 'x' } as unknown,
      async lock() {
        calls.push('lock');
        failing.isOpen = false;
        throw new KmsError('Keystore.Io', 'closing failed');
      },
      async logoutToken() {
        calls.push('logout');
        failing.loggedInToken = undefined;
      },
    };
    const own = new ManualTimers();
    const failures: [AutoLockReason, unknown][] = [];
    const notices: AutoLockReason[] = [];
    const lock = new AutoLock(failing, { timers: own, onLocked: (r) => notices.push(r), onLockFailed: (r, e) => failures.push([r, e]) });
    assert.equal(await lock.lockNow('SystemSuspend'), true);
    assert.deepEqual(calls.sort(), ['lock', 'logout']);
    assert.equal(failing.loggedInToken, undefined);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]![0], 'SystemSuspend');
    assert.ok(failures[0]![1] instanceof KmsError);
    assert.deepEqual(notices, ['SystemSuspend'], 'the window is told all the same: the session refuses keystore calls');
    assert.equal(own.msToNext, 5 * MINUTE);
    lock.stop();
  });
});

describe('locking at once, on what the window cannot report', () => {
  const cases: { what: string; fire: () => void; reason: AutoLockReason }[] = [
    { what: 'the renderer process crashed', fire: () => contents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 11 }), reason: 'RendererGone' },
    { what: 'the renderer process was killed', fire: () => contents.emit('render-process-gone', {}, { reason: 'killed', exitCode: 9 }), reason: 'RendererGone' },
    { what: 'the renderer hung', fire: () => contents.emit('unresponsive'), reason: 'RendererUnresponsive' },
    { what: 'the system suspends', fire: () => power.emit('suspend'), reason: 'SystemSuspend' },
    { what: 'the screen locks', fire: () => power.emit('lock-screen'), reason: 'ScreenLocked' },
  ];
  for (const c of cases) {
    it(`locks the keystore and logs out of the token when ${c.what}`, async () => {
      timers.advance(MINUTE); // well within the delay
      const locked = nextLock();
      c.fire();
      await locked;
      await assertAllLocked(c.what);
      assert.deepEqual(locks, [c.reason]);
      assert.deepEqual(contents.sent, [[AUTO_LOCK_CHANNEL, [{ Reason: c.reason }]]]);
      assert.equal(timers.msToNext, 5 * MINUTE, 'the countdown starts again');
    });
  }

  it('locks even when the window is gone, and sends it nothing', async () => {
    contents.destroyed = true;
    const locked = nextLock();
    contents.emit('render-process-gone', {}, { reason: 'oom', exitCode: 0 });
    await locked;
    await assertAllLocked('window destroyed');
    assert.deepEqual(locks, ['RendererGone']);
    assert.deepEqual(contents.sent, []);
  });

  it('wins over an unlock under way: the keystore is locked again as it opens, and the caller told', async () => {
    assert.ok((await dispatch(h.session, 'LockKeystore', {})).ok);
    const unlocking = dispatch(h.session, 'UnlockKeystore', { Passphrase: PASSPHRASE }); // the key derivation takes a while
    const locked = nextLock();
    power.emit('suspend');
    await locked;
    const r = await unlocking;
    assert.equal(r.ok ? 'ok' : r.error.Code, 'Keystore.Locked');
    assert.match(r.ok ? '' : r.error.Message, /unlock it again/);
    await assertAllLocked('suspended while unlocking');
    // Without a lock meanwhile, unlocking works as before.
    assert.ok((await dispatch(h.session, 'UnlockKeystore', { Passphrase: PASSPHRASE })).ok);
    assert.equal(h.session.isOpen, true);
  });

  it('watches exactly these events', () => {
    assert.deepEqual([...contents.listeners.keys()].sort(), ['render-process-gone', 'unresponsive']);
    assert.deepEqual([...power.listeners.keys()].sort(), ['lock-screen', 'suspend']);
  });
});

describe('the built main process', () => {
  it('gives the session its auto-lock, watching the window and the system, before the page loads', () => {
    const built = join(ROOT, 'out', 'main', 'main.js');
    assert.ok(existsSync(built), `${built} is missing: run \`npm run build\` first (npm test does)`);
    const js = readFileSync(built, 'utf8');
    const setup = /function setupAutoLock\((\w+), (\w+)\) \{([^]*?)\n\}/.exec(js);
    assert.ok(setup?.[3], 'setupAutoLock() found');
    const [, win, session, body] = setup;
    assert.match(body!, new RegExp(`attachAutoLock\\(${session}, \\{\\s*onLocked: autoLockNoticeTo\\(${win}\\.webContents\\)`), 'notices go to the window');
    assert.match(body!, new RegExp(`lockWhenRendererFails\\(${win}\\.webContents, \\w+\\)`), 'the window\'s renderer is watched');
    assert.match(body!, /lockWhenSystemSleeps\(powerMonitor, \w+\)/, 'suspend and screen lock are watched');
    const start = /async function start\(\) \{([^]*?)\n\}/.exec(js)?.[1] ?? '';
    const attached = start.search(/setupAutoLock\(\w+, \w+\)/);
    const ipc = start.search(/= await setupIpc\(/);
    const load = start.indexOf('.loadFile(');
    assert.ok(ipc >= 0 && attached > ipc && load > attached, 'after the session exists, before the window loads the page');
    // Quitting stops the countdown before the session is disposed.
    const quit = /app\.on\("will-quit", [^]*?\n  \}\);/.exec(js)?.[0] ?? '';
    const stop = quit.search(/autoLock\?\.stop\(\)/);
    assert.ok(stop >= 0 && quit.indexOf('.dispose()') > stop, 'will-quit stops the countdown, then disposes the session');
  });
});
