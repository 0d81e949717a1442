/**
 * What main.ts installs on the app, on every session and on every webContents, so that the rules
 * of security.ts hold at run time: the renderer sandboxed, one instance, no navigation, no new
 * window, no permission, no request outside our bundle, http(s) switched off. Written against the
 * few methods it calls (Electron's app, Session and WebContents satisfy these interfaces; tsc checks
 * that in main.ts), so test/unit/app/hardening.test.ts drives every handler with recording fakes
 * and no Electron binary.
 */
import { CSP, REFUSED_SCHEMES, isAllowedRequest, isPermissionGranted } from './security';

export interface HardeningOptions {
  /** rendererBase() of the page the window loads; requests outside it are cancelled. */
  readonly rendererBase: string;
  /** Whether devtools' own pages may load (never in a packaged app). */
  readonly devTools: boolean;
}

/** An Electron event whose default can be prevented. */
export interface Preventable {
  preventDefault(): void;
}

/** The parts of an Electron Session hardenSession touches. */
export interface SessionLike {
  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void;
  readonly webRequest: {
    onBeforeRequest(listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void): void;
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Record<string, string | string[]> },
        callback: (response: { responseHeaders: Record<string, string | string[]> }) => void,
      ) => void,
    ): void;
  };
  readonly protocol: {
    handle(scheme: string, handler: (request: unknown) => Response): void;
  };
}

/** The parts of an Electron WebContents hardenContents touches. */
export interface ContentsLike {
  readonly session: SessionLike;
  on(event: 'will-navigate', listener: (event: Preventable) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: Preventable) => void): unknown;
  on(event: 'will-redirect', listener: (event: Preventable) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: Preventable) => void): unknown;
  on(event: 'select-bluetooth-device', listener: (event: Preventable, devices: unknown[], callback: (deviceId: string) => void) => void): unknown;
  setWindowOpenHandler(handler: (details: unknown) => { action: 'deny' }): void;
}

/** The parts of Electron's app hardenApp touches. */
export interface AppLike {
  enableSandbox(): void;
  requestSingleInstanceLock(): boolean;
  on(event: 'web-contents-created', listener: (event: unknown, contents: ContentsLike) => void): unknown;
}

const hardened = new WeakSet<SessionLike>();

/**
 * Every session, once: nothing granted, nothing fetched but our bundle, http(s) switched off, and
 * the CSP on every response that has headers (file:// pages take it from index.html's meta tag).
 */
export function hardenSession(s: SessionLike, opts: HardeningOptions): void {
  if (hardened.has(s)) return;
  hardened.add(s);
  s.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionGranted(permission)));
  s.setPermissionCheckHandler((_contents, permission) => isPermissionGranted(permission));
  s.setDevicePermissionHandler(() => false);
  s.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, opts.rendererBase, { devTools: opts.devTools }) });
  });
  s.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  for (const scheme of REFUSED_SCHEMES) s.protocol.handle(scheme, () => Response.error());
}

/** Every webContents (the window's and any other): its session hardened, nowhere to go, nothing to open. */
export function hardenContents(contents: ContentsLike, opts: HardeningOptions): void {
  hardenSession(contents.session, opts);
  const refuse = (event: Preventable) => event.preventDefault();
  contents.on('will-navigate', refuse);
  contents.on('will-frame-navigate', refuse);
  contents.on('will-redirect', refuse);
  contents.on('will-attach-webview', refuse);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  // Without a listener Chromium would pick the first Bluetooth device itself.
  contents.on('select-bluetooth-device', (event, _devices, callback) => {
    event.preventDefault();
    callback('');
  });
}

/**
 * Before the app is ready and before any window: every renderer sandboxed whatever its options
 * say, one instance only (a second would open the same keystore), and every webContents hardened
 * as it is created. The default session is hardened once the app is ready (hardenSession).
 * @returns false when another instance holds the lock: the caller quits, and nothing was installed.
 */
export function hardenApp(app: AppLike, opts: HardeningOptions): boolean {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) return false;
  app.on('web-contents-created', (_event, contents) => hardenContents(contents, opts));
  return true;
}
