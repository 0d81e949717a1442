/**
 * What main.ts installs (src-main/app/hardening.ts), driven with recording fakes of Electron's
 * app, session and webContents: every handler is called as Electron would call it and must
 * refuse. Then the built main process (out/main/main.js, from `npm run build`) is read to check
 * that main.ts calls the hardening in the right order: before the app is ready, before any window.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  hardenApp,
  hardenContents,
  hardenSession,
  type AppLike,
  type ContentsLike,
  type HardeningOptions,
  type Preventable,
  type SessionLike,
} from '../../../src-main/app/hardening';
import { CSP, PERMISSIONS, rendererBase } from '../../../src-main/app/security';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BASE = rendererBase('file:///opt/keyroom/out/renderer/index.html');
const OPTS: HardeningOptions = { rendererBase: BASE, devTools: false };

type Listener = (...args: never[]) => unknown;
type Headers = Record<string, string | string[]>;

/** A session that keeps every handler it is given, once per kind. */
class FakeSession implements SessionLike {
  readonly handlers = new Map<string, Listener>();
  readonly protocols = new Map<string, (request: unknown) => Response>();
  private keep(kind: string, handler: Listener): void {
    assert.ok(!this.handlers.has(kind), `${kind} installed twice`);
    this.handlers.set(kind, handler);
  }
  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void {
    this.keep('permissionRequest', handler);
  }
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void {
    this.keep('permissionCheck', handler);
  }
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void {
    this.keep('devicePermission', handler);
  }
  readonly webRequest = {
    onBeforeRequest: (listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void) =>
      this.keep('beforeRequest', listener),
    onHeadersReceived: (listener: (details: { responseHeaders?: Headers }, callback: (response: { responseHeaders: Headers }) => void) => void) =>
      this.keep('headersReceived', listener),
  };
  readonly protocol = {
    handle: (scheme: string, handler: (request: unknown) => Response) => {
      assert.ok(!this.protocols.has(scheme), `${scheme} handled twice`);
      this.protocols.set(scheme, handler);
    },
  };
  handler<F extends Listener>(kind: string): F {
    const h = this.handlers.get(kind);
    assert.ok(h, `${kind} installed`);
    return h as F;
  }
}

/** A webContents that keeps its listeners and its window-open handler. */
class FakeContents implements ContentsLike {
  readonly listeners = new Map<string, Listener[]>();
  openHandler: ((details: unknown) => { action: string }) | null = null;
  constructor(readonly session: FakeSession = new FakeSession()) {}
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  setWindowOpenHandler(handler: (details: unknown) => { action: 'deny' }): void {
    assert.equal(this.openHandler, null, 'one window-open handler');
    this.openHandler = handler;
  }
}

/** An app that records the order of calls. */
class FakeApp implements AppLike {
  readonly calls: string[] = [];
  readonly created: ((event: unknown, contents: ContentsLike) => void)[] = [];
  constructor(private readonly lock: boolean) {}
  enableSandbox(): void {
    this.calls.push('enableSandbox');
  }
  requestSingleInstanceLock(): boolean {
    this.calls.push('requestSingleInstanceLock');
    return this.lock;
  }
  on(event: 'web-contents-created', listener: (event: unknown, contents: ContentsLike) => void): this {
    this.calls.push(`on:${event}`);
    this.created.push(listener);
    return this;
  }
}

function preventable(): Preventable & { prevented: boolean } {
  return {
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
}

describe('hardenApp', () => {
  it('sandboxes every renderer, takes the single-instance lock, then hardens each webContents', () => {
    const app = new FakeApp(true);
    assert.equal(hardenApp(app, OPTS), true);
    assert.deepEqual(app.calls, ['enableSandbox', 'requestSingleInstanceLock', 'on:web-contents-created']);
    const contents = new FakeContents();
    for (const listener of app.created) listener({}, contents);
    assert.ok(contents.openHandler, 'the created webContents was hardened');
    assert.ok(contents.session.handlers.has('permissionRequest'), 'and its session');
  });

  it('installs nothing more when another instance holds the lock (the caller quits)', () => {
    const app = new FakeApp(false);
    assert.equal(hardenApp(app, OPTS), false);
    assert.deepEqual(app.calls, ['enableSandbox', 'requestSingleInstanceLock']);
  });
});

describe('hardenContents', () => {
  it('prevents every navigation, redirect and webview, and denies every new window', () => {
    const contents = new FakeContents();
    hardenContents(contents, OPTS);
    assert.deepEqual(
      [...contents.listeners.keys()].sort(),
      ['select-bluetooth-device', 'will-attach-webview', 'will-frame-navigate', 'will-navigate', 'will-redirect'],
    );
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const listeners = contents.listeners.get(name) ?? [];
      assert.equal(listeners.length, 1, name);
      const event = preventable();
      (listeners[0] as (e: Preventable, ...rest: unknown[]) => void)(event, 'https://example.com/', false, true);
      assert.equal(event.prevented, true, name);
    }
    assert.ok(contents.openHandler);
    for (const url of ['https://example.com/', 'file:///opt/keyroom/out/renderer/index.html', 'about:blank']) {
      assert.deepEqual(contents.openHandler({ url, frameName: '', features: '', disposition: 'new-window' }), { action: 'deny' }, url);
    }
  });

  it('picks no Bluetooth device (Chromium would pick the first one itself)', () => {
    const contents = new FakeContents();
    hardenContents(contents, OPTS);
    const event = preventable();
    const picked: string[] = [];
    const listener = contents.listeners.get('select-bluetooth-device')?.[0] as (e: Preventable, devices: unknown[], cb: (id: string) => void) => void;
    listener(event, [{ deviceId: 'aa:bb', deviceName: 'key' }], (id) => picked.push(id));
    assert.equal(event.prevented, true);
    assert.deepEqual(picked, ['']);
  });

  it('hardens a session once, however many webContents share it', () => {
    const session = new FakeSession();
    hardenContents(new FakeContents(session), OPTS);
    hardenContents(new FakeContents(session), OPTS); // FakeSession asserts nothing is installed twice
    hardenSession(session, OPTS);
    assert.equal(session.handlers.size, 5);
  });
});

describe('hardenSession', () => {
  const session = new FakeSession();
  hardenSession(session, OPTS);

  it('denies every permission request and check, listed or not, and every device', () => {
    const request = session.handler<(c: unknown, p: string, cb: (granted: boolean) => void) => void>('permissionRequest');
    const check = session.handler<(c: unknown, p: string) => boolean>('permissionCheck');
    const device = session.handler<(d: unknown) => boolean>('devicePermission');
    for (const permission of [...Object.keys(PERMISSIONS), 'camera', 'some-future-permission', '__proto__', '']) {
      const answers: boolean[] = [];
      request({}, permission, (granted) => answers.push(granted));
      assert.deepEqual(answers, [false], permission);
      assert.equal(check({}, permission), false, permission);
    }
    assert.equal(device({ deviceType: 'usb', origin: 'file://' }), false);
  });

  it('cancels every request outside our bundle', () => {
    const before = session.handler<(d: { url: string }, cb: (r: { cancel: boolean }) => void) => void>('beforeRequest');
    const cancelled = (url: string): boolean => {
      const answers: boolean[] = [];
      before({ url }, (r) => answers.push(r.cancel));
      assert.equal(answers.length, 1, url);
      return answers[0]!;
    };
    for (const url of ['file:///opt/keyroom/out/renderer/index.html', 'file:///opt/keyroom/out/renderer/assets/index-x.js', 'data:image/png;base64,AA==']) {
      assert.equal(cancelled(url), false, url);
    }
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:8080/',
      'ws://localhost:5173/',
      'wss://example.com/',
      'ftp://example.com/',
      'file:///etc/passwd',
      'file:///opt/keyroom/out/renderer/../preload/preload.cjs',
      'blob:file:///0f0e',
      'devtools://devtools/bundled/inspector.html',
      'chrome-extension://abc/x.js',
    ]) {
      assert.equal(cancelled(url), true, url);
    }
  });

  it('lets devtools load only when devtools are enabled', () => {
    const dev = new FakeSession();
    hardenSession(dev, { rendererBase: BASE, devTools: true });
    const before = dev.handler<(d: { url: string }, cb: (r: { cancel: boolean }) => void) => void>('beforeRequest');
    const answers: boolean[] = [];
    before({ url: 'devtools://devtools/bundled/inspector.html' }, (r) => answers.push(r.cancel));
    before({ url: 'https://example.com/' }, (r) => answers.push(r.cancel));
    assert.deepEqual(answers, [false, true]);
  });

  it('puts the CSP on every response with headers, keeping the others', () => {
    const headers = session.handler<(d: { responseHeaders?: Headers }, cb: (r: { responseHeaders: Headers }) => void) => void>('headersReceived');
    const seen: Headers[] = [];
    headers({ responseHeaders: { 'Content-Type': ['text/html'], 'Content-Security-Policy': ["default-src *"] } }, (r) => seen.push(r.responseHeaders));
    headers({}, (r) => seen.push(r.responseHeaders));
    assert.deepEqual(seen, [
      { 'Content-Type': ['text/html'], 'Content-Security-Policy': [CSP] },
      { 'Content-Security-Policy': [CSP] },
    ]);
  });

  it('switches http and https off in the session', () => {
    assert.deepEqual([...session.protocols.keys()].sort(), ['http', 'https']);
    for (const [scheme, handle] of session.protocols) {
      const response = handle(new Request(`${scheme}://example.com/`));
      assert.equal(response.type, 'error', scheme);
    }
  });
});

describe('the built main process', () => {
  it('hardens the app before it is ready and the default session before the window', () => {
    const built = join(ROOT, 'out', 'main', 'main.js');
    assert.ok(existsSync(built), `${built} is missing: run \`npm run build\` first (npm test does)`);
    const js = readFileSync(built, 'utf8');
    // Top level: the lock and the sandbox come before whenReady, and start runs only with the lock.
    const harden = /^if \(!hardenApp\((\w+), HARDENING\)\) \{\n\s+\1\.quit\(\);\n\} else \{/m.exec(js);
    assert.ok(harden, 'main.js quits unless hardenApp took the lock');
    const ready = js.indexOf('.whenReady()');
    assert.ok(ready > harden.index, 'hardenApp runs before the app is ready');
    // start(): the default session is hardened before the window exists.
    const start = /async function start\(\) \{([^]*?)\n\}/.exec(js);
    assert.ok(start?.[1], 'start() found');
    const body = start[1];
    const session = body.search(/hardenSession\(\w+\.defaultSession, HARDENING\)/);
    const window = body.indexOf('createWindow()');
    assert.ok(session >= 0 && window > session, 'default session hardened before createWindow()');
    // One window, with windowOptions (tested in security.test.ts), and no other kind of view.
    assert.deepEqual([...js.matchAll(/new (\w+)\(windowOptions\(/g)].map((m) => m[1]), ['BrowserWindow']);
    assert.equal([...js.matchAll(/new BrowserWindow\b/g)].length, 1, 'one BrowserWindow');
    for (const view of ['BrowserView', 'WebContentsView', 'webviewTag: true', 'nodeIntegration: true', 'contextIsolation: false', 'sandbox: false']) {
      assert.ok(!js.includes(view), `no ${view}`);
    }
    assert.equal([...js.matchAll(/\.enableSandbox\(\)/g)].length, 1, 'enableSandbox only in hardenApp');
  });
});
