/**
 * Debian's Chromium driven by playwright-core for the e2e specs: a fresh temp profile per launch,
 * every request that is not to the test host aborted and recorded, screenshots as artifacts.
 *
 * Never `npx playwright install`: the browser is Debian's (`apt-get install chromium`), which is
 * what a machine that reaches only npm and Debian can have.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', // containers and CI run as root, where Chromium's own sandbox cannot start
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** The window size the app is designed for (issue 4: works at 1280x800 and larger). */
export const VIEWPORT = { width: 1280, height: 800 };

const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/e2e');

/** What the page tried that an air-gapped app must never do. */
export interface OutsideTraffic {
  /** Requests to anywhere but the allowed origin, aborted before they left. */
  requests: string[];
  /** WebSockets to anywhere but the allowed origin (the CSP stops them; this records the try). */
  websockets: string[];
  /** Content-Security-Policy violations Chromium reported on the console. */
  cspViolations: string[];
}

/**
 * Abort every request of `context` that `allowed` refuses, and record it with WebSockets and CSP
 * reports of the pages, so a test can assert that none was attempted.
 */
export async function watchOutsideTraffic(context: BrowserContext, allowed: (url: string) => boolean): Promise<OutsideTraffic> {
  const traffic: OutsideTraffic = { requests: [], websockets: [], cspViolations: [] };
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    traffic.requests.push(url);
    return route.abort('blockedbyclient');
  });
  const watchPage = (page: Page) => {
    page.on('websocket', (ws) => {
      if (!allowed(ws.url())) traffic.websockets.push(ws.url());
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) traffic.cspViolations.push(msg.text());
    });
  };
  context.pages().forEach(watchPage);
  context.on('page', watchPage);
  return traffic;
}

export function assertNoOutsideTraffic(traffic: OutsideTraffic): void {
  assert.deepEqual(traffic, { requests: [], websockets: [], cspViolations: [] }, 'the page attempted a connection it must not make');
}

/** Save `test-results/e2e/<spec>/<step>.png` (gitignored) and return its path. */
export async function saveScreenshot(page: Page, spec: string, step: string): Promise<string> {
  const dir = join(SCREENSHOTS, spec);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${step}.png`);
  // From the top: the navigation is sticky, and a capture taken mid-scroll shows it mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The page's own origin over HTTP, or its WebSocket on the same host and port. */
function sameHost(url: string, host: string): boolean {
  try {
    const u = new URL(url);
    return u.host === host && (u.protocol === 'http:' || u.protocol === 'ws:');
  } catch {
    return false;
  }
}

export interface E2eBrowser {
  context: BrowserContext;
  /** The first tab, opened with the profile. */
  page: Page;
  traffic: OutsideTraffic;
  /** Uncaught exceptions in any page of the context. */
  pageErrors: string[];
  assertNoOutsideTraffic(): void;
  screenshot(step: string, page?: Page): Promise<string>;
  /** Close the browser and remove its profile. */
  close(): Promise<void>;
}

/**
 * Launch headless Chromium with a fresh profile in a temp directory, allowing requests to
 * `allowedOrigin` only (the test host's `http://127.0.0.1:<port>`, and its ws:// twin).
 */
export async function launchE2eBrowser(opts: { spec: string; allowedOrigin: string }): Promise<E2eBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'keyroom-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: VIEWPORT,
      serviceWorkers: 'block',
      acceptDownloads: false,
      offline: false,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const host = new URL(opts.allowedOrigin).host;
  const traffic = await watchOutsideTraffic(context, (url) => sameHost(url, host));
  const pageErrors: string[] = [];
  const watchErrors = (page: Page) => page.on('pageerror', (e) => pageErrors.push(e.message));
  context.pages().forEach(watchErrors);
  context.on('page', watchErrors);
  const page = context.pages()[0] ?? (await context.newPage());

  let closed: Promise<void> | undefined;
  return {
    context,
    page,
    traffic,
    pageErrors,
    assertNoOutsideTraffic: () => assertNoOutsideTraffic(traffic),
    screenshot: (step, p = page) => saveScreenshot(p, opts.spec, step),
    close() {
      closed ??= context.close().finally(() => rmSync(profile, { recursive: true, force: true }));
      return closed;
    },
  };
}
