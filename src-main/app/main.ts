/**
 * Electron main process: a table of contents. Each setupX() owns one concern; the rules they
 * apply (CSP, permissions, window options, request filter) are data in security.ts, and the IPC
 * binding is generated from the contract in ipc.ts.
 */
import { app, BrowserWindow, Menu, session as electronSessions, type MenuItemConstructorOptions, type Session as ElectronSession } from 'electron';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KmsError } from '../../src-shared/errors';
import { Session } from '../services/session';
import { bindElectronIpc, trustedSender } from './ipc';
import { CSP, REFUSED_SCHEMES, isAllowedRequest, isPermissionGranted, rendererBase, windowOptions } from './security';

const RENDERER_INDEX = join(__dirname, '../renderer/index.html');
const RENDERER_URL = pathToFileURL(RENDERER_INDEX).href;
const RENDERER_BASE = rendererBase(RENDERER_URL);
const PRELOAD = join(__dirname, '../preload/preload.cjs');
/** DevTools only when asked for, and never in a packaged app. */
const DEV_TOOLS = !app.isPackaged && process.env.KEYROOM_DEVTOOLS === '1';

let keyroom: Session | null = null;
let mainWindow: BrowserWindow | null = null;

/**
 * The app's data folder is the one the `keyroom` command uses by default (cli/main.ts
 * defaultKeystorePath), so both open the same keystore: `Keyroom`, not the package's lower-case name.
 */
function setupPaths(): void {
  app.setName('Keyroom');
  app.setPath('userData', join(app.getPath('appData'), 'Keyroom'));
}

const hardened = new WeakSet<ElectronSession>();

/** Every session, once: nothing granted, nothing fetched but our bundle, http(s) switched off. */
function hardenSession(s: ElectronSession): void {
  if (hardened.has(s)) return;
  hardened.add(s);
  s.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionGranted(permission)));
  s.setPermissionCheckHandler((_contents, permission) => isPermissionGranted(permission));
  s.setDevicePermissionHandler(() => false);
  s.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, RENDERER_BASE, { devTools: DEV_TOOLS }) });
  });
  s.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  for (const scheme of REFUSED_SCHEMES) s.protocol.handle(scheme, () => Response.error());
}

function setupSecurity(): void {
  hardenSession(electronSessions.defaultSession);
  app.on('web-contents-created', (_e, contents) => {
    hardenSession(contents.session);
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-frame-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    // Without a listener Chromium would pick the first Bluetooth device itself.
    contents.on('select-bluetooth-device', (event, _devices, callback) => {
      event.preventDefault();
      callback('');
    });
  });
}

/** Editing shortcuts only: the default menu's Help items open web pages, and DevTools. */
function setupMenu(): void {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' } as const] : []),
    { role: 'editMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(windowOptions(PRELOAD, { devTools: DEV_TOOLS }));
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    mainWindow = null;
  });
  return win;
}

/** The PIN flow is the Tokens screen's (a later step); until then HSM keys say where it will be. */
async function pinFromTokensScreen(): Promise<Buffer> {
  throw new KmsError('Hsm.NotConfigured', "Enter the token's PIN in the Tokens screen, then try again.");
}

/** One keystore session for the app's life, bound to IPC before the renderer can call. */
async function setupIpc(win: BrowserWindow): Promise<Session> {
  const dataDir = app.getPath('userData');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const session = new Session({
    keystorePath: join(dataDir, 'keystore.db'),
    hsm: {
      modulePath: process.env.KEYROOM_PKCS11_MODULE,
      tokenLabel: process.env.KEYROOM_TOKEN,
      pin: pinFromTokensScreen,
    },
  });
  await bindElectronIpc({ session, isTrustedSender: trustedSender(win, RENDERER_URL) });
  return session;
}

async function start(): Promise<void> {
  setupSecurity();
  setupMenu();
  mainWindow = createWindow();
  keyroom = await setupIpc(mainWindow);
  await mainWindow.loadFile(RENDERER_INDEX);
}

/** Lock the keystore and log out of the token before the process ends. */
function setupQuit(): void {
  let disposed = false;
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    if (disposed || !keyroom) return;
    event.preventDefault();
    void keyroom
      .dispose()
      .catch((e: unknown) => console.error(`Keyroom: closing the keystore failed (${e instanceof Error ? e.name : typeof e}).`))
      .finally(() => {
        disposed = true;
        app.quit();
      });
  });
}

setupPaths();
app.enableSandbox(); // before any window: every renderer is sandboxed, whatever its options say
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });
  setupQuit();
  void app.whenReady().then(start).catch((e: unknown) => {
    console.error('Keyroom could not start:', e);
    app.exit(1);
  });
}
