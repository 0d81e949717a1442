/**
 * What the window may do, as data: the Content-Security-Policy, the permission table, the
 * window's webPreferences and which requests may leave the renderer. Pure (Electron types only),
 * so test/unit/app/security.test.ts checks every rule without an Electron binary; hardening.ts
 * installs them and main.ts opens the window with windowOptions(). Offline is enforced here, not
 * assumed: an air-gapped tool makes no connection.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

/**
 * Our bundle only: no remote origin, no inline script or style, no eval, no connections, no
 * frames, no plugins, no forms. `img-src data:` lets the renderer show a QR code or an icon it
 * draws itself; nothing else is a data source. Delivered twice from this one table: as a response
 * header (hardening.ts) and, because file:// pages get no response headers, as the <meta> tag the
 * build puts into index.html (META_CSP, electron.vite.config.ts).
 */
export const CSP_DIRECTIVES = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'none'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'worker-src': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
} as const satisfies Readonly<Record<string, readonly string[]>>;

function serialise(directives: readonly (readonly [string, readonly string[]])[]): string {
  return directives.map(([directive, sources]) => `${directive} ${sources.join(' ')}`).join('; ');
}

export const CSP = serialise(Object.entries(CSP_DIRECTIVES));

/**
 * Directives a <meta> policy cannot carry: the CSP spec has browsers ignore them there, and
 * Chromium says so with a console error on every load. The header still carries them.
 */
export const HEADER_ONLY_DIRECTIVES: readonly string[] = ['frame-ancestors', 'report-uri', 'sandbox'];

/** CSP as index.html's <meta http-equiv="Content-Security-Policy"> carries it. */
export const META_CSP = serialise(Object.entries(CSP_DIRECTIVES).filter(([directive]) => !HEADER_ONLY_DIRECTIVES.includes(directive)));

/**
 * Every permission Chromium may ask for, and why Keyroom refuses it. Nothing is granted: the
 * type allows only `false`, and a permission not listed (a newer Chromium's) is refused too.
 * A later feature that seems to need one (copying a public key) asks the main process instead.
 */
export const PERMISSIONS = {
  'clipboard-read': { granted: false, why: 'the page never reads what the operator copied elsewhere' },
  'clipboard-sanitized-write': { granted: false, why: 'copying goes through a main-process verb that decides what may be copied' },
  'deprecated-sync-clipboard-read': { granted: false, why: 'as clipboard-read' },
  'display-capture': { granted: false, why: 'no screen capture' },
  fileSystem: { granted: false, why: 'files are read and written by the main process, after a dialog' },
  fullscreen: { granted: false, why: 'the page cannot take over the screen; the window manager can' },
  geolocation: { granted: false, why: 'no location' },
  hid: { granted: false, why: 'tokens are reached through PKCS#11 in the main process, never WebHID' },
  'idle-detection': { granted: false, why: 'the auto-lock is the main process\'s own countdown, reset by the window\'s activity reports' },
  keyboardLock: { granted: false, why: 'the operator keeps every system shortcut' },
  media: { granted: false, why: 'no camera, no microphone' },
  mediaKeySystem: { granted: false, why: 'no DRM' },
  midi: { granted: false, why: 'no MIDI' },
  midiSysex: { granted: false, why: 'no MIDI' },
  notifications: { granted: false, why: 'the app shows its own messages in the window' },
  openExternal: { granted: false, why: 'no links leave the app' },
  pointerLock: { granted: false, why: 'the pointer stays the operator\'s' },
  serial: { granted: false, why: 'no serial devices from the page' },
  'speaker-selection': { granted: false, why: 'no audio' },
  'storage-access': { granted: false, why: 'no third-party storage' },
  'top-level-storage-access': { granted: false, why: 'no third-party storage' },
  usb: { granted: false, why: 'tokens are reached through PKCS#11 in the main process, never WebUSB' },
  'window-management': { granted: false, why: 'the page does not place windows' },
  unknown: { granted: false, why: 'whatever it is' },
} as const satisfies Readonly<Record<string, { granted: false; why: string }>>;

/** Always false; written as a lookup so the table above is the one place that says so. */
export function isPermissionGranted(permission: string): boolean {
  const entry: { granted: boolean } | undefined = Object.prototype.hasOwnProperty.call(PERMISSIONS, permission)
    ? PERMISSIONS[permission as keyof typeof PERMISSIONS]
    : undefined;
  return entry?.granted === true;
}

/**
 * Schemes switched off in every session with protocol.handle (Electron can intercept only its
 * built-in http and https this way); ws, wss, ftp and the rest are cancelled by the request filter.
 */
export const REFUSED_SCHEMES = ['http', 'https'] as const;

/**
 * The prefix every URL of our renderer bundle starts with: the folder of index.html for file://,
 * the origin of a loopback dev server for http://. Anything else is not ours.
 * @throws Error when rendererUrl is neither.
 */
export function rendererBase(rendererUrl: string): string {
  const u = new URL(rendererUrl);
  if (u.protocol === 'file:') return new URL('.', u).href;
  if (u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) return `${u.origin}/`;
  throw new Error(`The renderer must be a file:// bundle or a loopback dev server, not ${u.protocol}//${u.host}.`);
}

/** Whether url (as the renderer asked for it) is inside our bundle. Unparseable URLs are not. */
export function isInsideBundle(url: string, base: string): boolean {
  let href: string;
  try {
    href = new URL(url).href; // normalised: no "..", so a prefix test is a containment test
  } catch {
    return false;
  }
  return href.startsWith(base);
}

/**
 * The request filter: our bundle's files, data: images (the CSP allows them; they make no
 * connection) and, when devtools are enabled, devtools' own pages. Everything else is cancelled.
 */
export function isAllowedRequest(url: string, base: string, opts: { devTools: boolean }): boolean {
  if (url.startsWith('data:')) return true;
  if (opts.devTools && url.startsWith('devtools://')) return true;
  return isInsideBundle(url, base);
}

/**
 * The window. Every option that keeps the renderer a web page without Node, in its own sandbox,
 * is set explicitly, even where it is Electron's default, so a changed default cannot weaken it.
 * DevTools only for an unpackaged build.
 */
export function windowOptions(preloadPath: string, opts: { devTools?: boolean } = {}): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 700,
    title: 'Keyroom',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      plugins: false,
      enableWebSQL: false,
      webgl: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      // A middle click must not open anything (electronegativity AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
      devTools: opts.devTools ?? false,
    },
  };
}
