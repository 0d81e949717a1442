/**
 * The e2e test host (DESIGN.md, "Running without an Electron binary"): the built renderer served
 * over HTTP on 127.0.0.1, and the REAL handler table (`dispatch` on a `Session` over a real
 * SQLCipher keystore, optionally a real SoftHSM token) bound to a loopback WebSocket that the
 * preload shim (./preloadShim.ts) speaks to. Test only: nothing here is shipped in the app.
 *
 * What the host adds to the app, and why each piece is as tight as it can be:
 * - The page is served with the app's own Content-Security-Policy (`CSP` of
 *   src-main/app/security.ts), with one test-host-only relaxation: `connect-src` names this host's own ws://
 *   origin (the app says 'none'), so the shim can reach the handlers. The same relaxation is made
 *   in the index.html <meta> policy, because the browser enforces both.
 * - The shim is a same-origin file, `/__keyroom_shim.js`, put before the app's module script in
 *   index.html, so `script-src 'self'` stays exactly as the app has it (no inline script, no
 *   hash, no nonce) and the shim runs under the very policy the app runs under. Playwright's
 *   `page.addInitScript` was the other way: it injects over the DevTools protocol, which
 *   bypasses the page's CSP, so a policy that blocked the shim (or anything the app needs) would
 *   go unnoticed, and the host would work only under Playwright, not in a browser opened by hand.
 * - The WebSocket is refused (at the HTTP upgrade, before any message) unless it carries the
 *   random token, comes from this host's own origin, and names this host as Host (DNS rebinding).
 * - The session has its auto-lock, as the app's main process gives it (services/autoLock.ts), so
 *   ReportActivity and SetAutoLock work and a lock reaches the page as the preload's onAutoLock
 *   delivers it; its countdown runs on a manual clock (`autoLock.timers.advance(ms)`), so real
 *   time never locks a spec's keystore and a spec about the delay waits for nothing.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { WebSocketServer, type WebSocket } from 'ws';
import { Session, type HsmOptions } from '../../../src-main/services/session';
import { attachAutoLock, type AutoLock } from '../../../src-main/services/autoLock';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { operationNamesFor } from '../../../src-shared/contract/operations';
import { channelOf, type AutoLockNotice, type ProgressEvent } from '../../../src-shared/contract/api';
import { ManualTimers } from '../../support/manualTimers';
// The policy the Electron main process sets (security.ts is pure: Electron types only).
import { CSP as APP_CSP } from '../../../src-main/app/security';

const ROOT = resolve(import.meta.dirname, '../../..');
/** What `npm run build` (electron-vite) writes for the renderer. */
export const RENDERER_DIR = join(ROOT, 'out/renderer');

export const SHIM_PATH = '/__keyroom_shim.js';
export const SOCKET_PATH = '/__keyroom_ws';
/** Generous for base64 inputs; the contract's inputs are small JSON. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface TestHostOptions {
  /** A temp directory of the test's; the keystore is `<keystoreDir>/keystore.db` (not created). */
  keystoreDir: string;
  /** A real PKCS#11 token (SoftHSM in tests) behind HSM keys; absent: Hsm.NotConfigured. */
  hsm?: HsmOptions;
}

export interface TestHost {
  /** The page to open: the host's origin with `?token=` (the shim reads it from there). */
  url: string;
  /** `http://127.0.0.1:<port>`, the only origin the page may talk to. */
  origin: string;
  /** The WebSocket's address, without the token. */
  socketUrl: string;
  token: string;
  /** The policy sent with every response (the app's, connect-src relaxed to `socketUrl`'s origin). */
  contentSecurityPolicy: string;
  session: Session;
  keystorePath: string;
  /**
   * The session's clock (test only): `advance(ms)` moves what the handlers take as "now" forward,
   * e.g. past a key's NextRotationDate; `reset()` returns to the real time. Starts at the real time.
   */
  clock: { advance(ms: number): void; reset(): void; now(): Date };
  /** The session's auto-lock, and the manual clock its countdown runs on (apart from `clock`). */
  autoLock: { lock: AutoLock; timers: ManualTimers };
  /** Close every connection, the servers, and the session (keystore locked, token logged out). */
  close(): Promise<void>;
}

/** Start a host on a random loopback port. The renderer must have been built (`npm run build`). */
export async function startTestHost(opts: TestHostOptions): Promise<TestHost> {
  const indexFile = join(RENDERER_DIR, 'index.html');
  if (!existsSync(indexFile)) throw new Error(`No built renderer at ${RENDERER_DIR}: run \`npm run build\` first (npm test does).`);
  const shimSource = await shimScript();

  const keystorePath = join(opts.keystoreDir, 'keystore.db');
  let clockOffsetMs = 0;
  const now = () => new Date(Date.now() + clockOffsetMs);
  const session = new Session({ keystorePath, clock: now, ...(opts.hsm ? { hsm: opts.hsm } : {}) });
  const autoLockTimers = new ManualTimers();
  const token = randomBytes(32).toString('base64url');
  const tokenDigest = sha256(token);

  // The port is known only once listening; the policy and checks read these after that.
  let origin = '';
  let csp = '';
  let hostHeader = '';
  let connectSource = '';

  const server = createServer((req, res) => serveFile(req, res, { csp, connectSource, hostHeader, shimSource, indexFile }));
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  // As main.ts sends AUTO_LOCK_CHANNEL to the app's window: here every page of the host is one.
  const autoLock = attachAutoLock(session, {
    timers: autoLockTimers,
    onLocked: (reason) => {
      const autoLockNotice: AutoLockNotice = { Reason: reason };
      for (const ws of sockets.clients) if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ autoLock: autoLockNotice }));
    },
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(req, { origin, hostHeader, tokenDigest });
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => bindHandlers(ws, session));
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  hostHeader = `127.0.0.1:${port}`;
  const socketOrigin = `ws://127.0.0.1:${port}`;
  connectSource = socketOrigin;
  csp = withConnectSrc(APP_CSP, socketOrigin);

  let closed: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    socketUrl: `${socketOrigin}${SOCKET_PATH}`,
    token,
    contentSecurityPolicy: csp,
    session,
    keystorePath,
    clock: {
      advance: (ms: number) => {
        clockOffsetMs += ms;
      },
      reset: () => {
        clockOffsetMs = 0;
      },
      now,
    },
    autoLock: { lock: autoLock, timers: autoLockTimers },
    close() {
      closed ??= (async () => {
        autoLock.stop();
        for (const ws of sockets.clients) ws.terminate();
        await new Promise<void>((ok) => sockets.close(() => ok()));
        server.closeAllConnections();
        await new Promise<void>((ok) => server.close(() => ok()));
        await session.dispose();
      })();
      return closed;
    },
  };
}

// ---- the WebSocket: one request, one answer, the dispatch result as is; progress beside ----------

/**
 * The channels the Electron binding (src-main/app/ipc.ts) handles: one per app operation,
 * `keyroom:<Name>`, each the real dispatch. A channel outside the table gets what Electron gives an unhandled channel: no
 * result, a rejection.
 */
const CHANNELS: ReadonlyMap<string, string> = new Map(operationNamesFor('app').map((name) => [channelOf(name), name]));

/**
 * What the shim sends: `{ id, channel, input }`; it gets `{ id, result }` or `{ id, error }`, and,
 * while a long-running call of its own is under way, `{ progress }` messages (as Electron sends
 * them on PROGRESS_CHANNEL to the calling webContents only).
 */
interface CallMessage {
  id: number;
  channel: string;
  input?: unknown;
}

function bindHandlers(ws: WebSocket, session: Session): void {
  ws.on('message', (data, isBinary) => {
    const call = isBinary ? undefined : parseCall(data.toString());
    if (!call) {
      ws.close(1008, 'not a call'); // the shim never sends anything else
      return;
    }
    const answer = (body: { result: unknown } | { error: string }) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: call.id, ...body }));
    };
    const name = CHANNELS.get(call.channel);
    if (!name) return answer({ error: `No handler registered for '${call.channel}'` });
    const onProgress = (progress: ProgressEvent) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ progress }));
    };
    // Calls run concurrently, as ipcMain.handle runs them; dispatch never throws.
    void dispatch(session, name, call.input, { onProgress }).then((result) => answer({ result }));
  });
}

function parseCall(text: string): CallMessage | undefined {
  try {
    const m = JSON.parse(text) as Partial<CallMessage> | null;
    if (m && typeof m === 'object' && Number.isSafeInteger(m.id) && typeof m.channel === 'string') return m as CallMessage;
  } catch {
    // falls through: refused by the caller
  }
  return undefined;
}

/** Why an upgrade is refused (an HTTP status line), or undefined to accept it. */
function upgradeRefusal(req: IncomingMessage, want: { origin: string; hostHeader: string; tokenDigest: Buffer }): string | undefined {
  const url = new URL(req.url ?? '/', want.origin);
  if (url.pathname !== SOCKET_PATH) return '404 Not Found';
  if (req.headers.host !== want.hostHeader) return '403 Forbidden';
  // A browser always sends Origin on a WebSocket; only a page of this host may connect.
  if (req.headers.origin !== want.origin) return '403 Forbidden';
  const given = url.searchParams.get('token');
  if (!given || !timingSafeEqual(sha256(given), want.tokenDigest)) return '401 Unauthorized';
  return undefined;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

// ---- static files -------------------------------------------------------------------------------

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { csp: string; connectSource: string; hostHeader: string; shimSource: string; indexFile: string },
): void {
  const headers = {
    'Content-Security-Policy': ctx.csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
  const send = (status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.headers.host !== ctx.hostHeader) return send(403, 'text/plain', 'forbidden');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');

  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://host').pathname);
  } catch {
    return send(400, 'text/plain', 'bad path');
  }
  if (path === SHIM_PATH) return send(200, TYPES['.js']!, ctx.shimSource);
  if (path === '/' || path === '/index.html') return send(200, TYPES['.html']!, hostIndexHtml(readFileSync(ctx.indexFile, 'utf8'), ctx.connectSource));

  const file = resolve(RENDERER_DIR, `.${path}`);
  if (!file.startsWith(RENDERER_DIR + sep) || !existsSync(file) || !statSync(file).isFile()) return send(404, 'text/plain', 'not found');
  send(200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
}

/**
 * The built index.html with the shim's <script> before the app's first script (a classic script
 * runs at once, and module scripts only after parsing, so `window.keyroom` exists before any app
 * code), and its <meta> policy given the same connect-src as the header.
 */
export function hostIndexHtml(html: string, connectSource: string): string {
  const at = html.search(/<script\b/i);
  if (at < 0) throw new Error('The built index.html has no <script>: is out/renderer a Vite build?');
  const withShim = `${html.slice(0, at)}<script src="${SHIM_PATH}"></script>\n    ${html.slice(at)}`;
  return withShim.replace(
    /(<meta\s+http-equiv=["']Content-Security-Policy["']\s+content=")([^"]*)(")/i,
    (_m, open: string, policy: string, close: string) => `${open}${withConnectSrc(policy, connectSource)}${close}`,
  );
}

// ---- the policy ---------------------------------------------------------------------------------

/** The policy with its connect-src (in place, or after default-src if it has none) exactly `source`. */
export function withConnectSrc(csp: string, source: string): string {
  const directives = csp
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  const connect = `connect-src ${source}`;
  const at = directives.findIndex((d) => /^connect-src(\s|$)/.test(d));
  if (at >= 0) directives[at] = connect;
  else directives.splice(directives.findIndex((d) => /^default-src(\s|$)/.test(d)) + 1, 0, connect);
  return directives.join('; ');
}

// ---- the shim, as the browser gets it -----------------------------------------------------------

let shim: Promise<string> | undefined;

/**
 * preloadShim.ts and what it imports from the contract (createKeyroomApi and the name list; zod
 * is type-only there) bundled into one classic script by esbuild, which vite and tsx already
 * bring. Built once per test process.
 */
function shimScript(): Promise<string> {
  shim ??= build({
    entryPoints: [join(import.meta.dirname, 'preloadShim.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
    banner: { js: "// Keyroom e2e test host: a stand-in for Electron's preload. Test only; never shipped." },
  }).then((out) => out.outputFiles[0]!.text);
  return shim;
}
