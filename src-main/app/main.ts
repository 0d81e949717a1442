/**
 * Electron main process: a table of contents. Each setupX() owns one concern; the rules they
 * apply (CSP, permissions, window options, request filter) are data in security.ts, hardening.ts
 * installs them on the app, its sessions and its webContents, and the IPC binding is generated
 * from the contract in ipc.ts.
 */
import { app, BrowserWindow, Menu, powerMonitor, session as electronSessions, type MenuItemConstructorOptions } from 'electron';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KmsError } from '../../src-shared/errors';
import { Session } from '../services/session';
import { attachAutoLock, type AutoLock } from '../services/autoLock';
import { bindElectronIpc, trustedSender } from './ipc';
import { hardenApp, hardenSession, type HardeningOptions } from './hardening';
import { autoLockNoticeTo, lockWhenRendererFails, lockWhenSystemSleeps } from './lockTriggers';
import { rendererBase, windowOptions } from './security';

const RENDERER_INDEX = join(__dirname, '../renderer/index.html');
const RENDERER_URL = pathToFileURL(RENDERER_INDEX).href;
const RENDERER_BASE = rendererBase(RENDERER_URL);
const PRELOAD = join(__dirname, '../preload/preload.cjs');
/** DevTools only when asked for, and never in a packaged app. */
const DEV_TOOLS = !app.isPackaged && process.env.KEYROOM_DEVTOOLS === '1';
const HARDENING: HardeningOptions = { rendererBase: RENDERER_BASE, devTools: DEV_TOOLS };

let keyroom: Session | null = null;
let autoLock: AutoLock | null = null;
let mainWindow: BrowserWindow | null = null;

/**
 * The app's data folder is the one the `keyroom` command uses by default (cli/main.ts
 * defaultKeystorePath), so both open the same keystore: `Keyroom`, not the package's lower-case name.
 */
function setupPaths(): void {
  app.setName('Keyroom');
  app.setPath('userData', join(app.getPath('appData'), 'Keyroom'));
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

/**
 * The app's PIN comes from the Tokens screen (LoginToken), never from a prompt of the main
 * process: an HSM key used before that login, or after LogoutToken, says where to enter it.
 */
async function pinFromTokensScreen(): Promise<Buffer> {
  throw new KmsError('Hsm.NotConfigured', "Enter the token's PIN in the Tokens screen, then try again.");
}

/**
 * One keystore session for the app's life, bound to IPC before the renderer can call. It always
 * has an HSM backend (the default module search list unless KEYROOM_PKCS11_MODULE names one), so
 * that the Tokens screen can list tokens and log in without any setting.
 */
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

/**
 * The keystore locks and the token logs out in this process, never on the window's word: after
 * the idle minutes (the window only reports activity), and at once when the window's renderer
 * dies or hangs, the machine sleeps or the screen locks. Attached before the page loads, so the
 * window's first ReportActivity or SetAutoLock finds it.
 */
function setupAutoLock(win: BrowserWindow, session: Session): AutoLock {
  const lock = attachAutoLock(session, {
    onLocked: autoLockNoticeTo(win.webContents),
    onLockFailed: (reason, e) => console.error(`Keyroom: locking (${reason}) failed (${e instanceof Error ? e.name : typeof e}).`),
  });
  lockWhenRendererFails(win.webContents, lock);
  lockWhenSystemSleeps(powerMonitor, lock);
  return lock;
}

async function start(): Promise<void> {
  hardenSession(electronSessions.defaultSession, HARDENING); // other sessions: as their webContents are created
  setupMenu();
  mainWindow = createWindow();
  keyroom = await setupIpc(mainWindow);
  autoLock = setupAutoLock(mainWindow, keyroom);
  await mainWindow.loadFile(RENDERER_INDEX);
}

/** Lock the keystore and log out of the token before the process ends. */
function setupQuit(): void {
  let disposed = false;
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    if (disposed || !keyroom) return;
    event.preventDefault();
    autoLock?.stop();
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
// Before any window: sandbox every renderer, take the single-instance lock, harden each webContents.
if (!hardenApp(app, HARDENING)) {
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
