/**
 * The shell end to end in Debian's Chromium: the built renderer served by the test host, whose
 * shim gives the page `window.keyroom` over a loopback WebSocket bound to the real handler table
 * (a real SQLCipher keystore in a temp dir, a real SoftHSM token). Proves the chain page -> shim ->
 * host -> dispatch -> keystore, that the socket refuses strangers, and that the page made no
 * outside connection under the app's own policy.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CSP as APP_CSP } from '../../src-main/app/security';
import { startTestHost, SOCKET_PATH, type TestHost } from './host/testHost';
import { launchE2eBrowser, type E2eBrowser } from '../support/e2eBrowser';
import { makeSoftHsm, type SoftHsm } from '../support/softhsm';
import type { KeyroomApi, ProgressEvent } from '../../src-shared/contract/api';
import { PASSPHRASE, assertRefused, callKeyroom, checkApiShape, checkKeystoreChain, valueOf, waitForApp } from './shellChecks';

const SPEC = 'shell';

/** How the host answers a WebSocket upgrade: 101 when it accepts, else the HTTP status. */
function upgradeStatus(url: string, headers: { origin?: string; host?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...(headers.origin ? { origin: headers.origin } : {}), ...(headers.host ? { headers: { host: headers.host } } : {}) });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

describe('the shell in Chromium through the test host', () => {
  let dir: string;
  let hsm: SoftHsm;
  let host: TestHost;
  let browser: E2eBrowser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyroom-e2e-'));
    hsm = makeSoftHsm('e2e-shell');
    host = await startTestHost({ keystoreDir: dir, hsm: { modulePath: hsm.modulePath, tokenLabel: hsm.label, pin: async () => Buffer.from(hsm.pin) } });
    browser = await launchE2eBrowser({ spec: SPEC, allowedOrigin: host.origin });
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    hsm?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the built renderer under the app policy, with connect-src only to the host', async () => {
    const response = await browser.page.goto(host.url);
    assert.equal(response?.status(), 200);
    const csp = response.headers()['content-security-policy'] ?? '';
    assert.equal(csp, host.contentSecurityPolicy);
    // The app's own policy, word for word, but for connect-src (the test host's one relaxation).
    const directives = (policy: string) => new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v.join(' ')]));
    const served = directives(csp);
    const app = directives(APP_CSP);
    assert.equal(served.get('connect-src'), new URL(host.socketUrl).origin);
    served.delete('connect-src');
    app.delete('connect-src');
    assert.deepEqual(served, app);
    assert.equal(served.get('script-src'), "'self'");
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    await waitForApp(browser.page);
    await checkApiShape(browser.page);
  });

  it('carries calls to the real keystore: create, key, describe, refusals, lock and unlock', async () => {
    await checkKeystoreChain(browser.page, host.keystorePath);
    // The file the page created is a real keystore on disk, private to its owner.
    assert.ok(existsSync(host.keystorePath));
    assert.equal(statSync(host.keystorePath).mode & 0o777, 0o600);
    assert.equal(host.session.isOpen, true);
  });

  it('creates a key inside the SoftHSM token through the page', async () => {
    const created = valueOf('CreateKey', await callKeyroom(browser.page, 'CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' }));
    assert.equal(created.KeyMetadata.ProtectionLevel, 'HSM');
    // The token itself, asked by OpenSC, holds one secret key now.
    assert.match(hsm.pkcs11Tool(['--list-objects', '--type', 'secrkey']), /Secret Key Object; AES/);
  });

  it('a refused InitKeystore leaves an open keystore open', async () => {
    assert.equal(valueOf('GetKeystoreStatus', await callKeyroom(browser.page, 'GetKeystoreStatus', {})).Unlocked, true);
    const fileBefore = readFileSync(host.keystorePath);
    assertRefused(await callKeyroom(browser.page, 'InitKeystore', { Passphrase: 'another passphrase' }), 'Keystore.AlreadyExists');
    const after = valueOf('GetKeystoreStatus', await callKeyroom(browser.page, 'GetKeystoreStatus', {}));
    if (!after.Unlocked) valueOf('UnlockKeystore', await callKeyroom(browser.page, 'UnlockKeystore', { Passphrase: PASSPHRASE }));
    assert.equal(after.Unlocked, true, 'the refused InitKeystore locked the keystore');
    assert.deepEqual(readFileSync(host.keystorePath), fileBefore, 'the keystore file is unchanged');
    // Still usable without unlocking again.
    valueOf('ListKeys', await callKeyroom(browser.page, 'ListKeys', {}));
  });

  it('sends a DigestFile\'s progress to the page that started it, through window.keyroom.onProgress', async () => {
    const file = join(dir, 'progress.bin');
    writeFileSync(file, randomBytes(3 * 1024 * 1024));
    const operationId = randomUUID();
    const seen = await browser.page.evaluate(
      async ([inputFile, id]) => {
        const api = (window as unknown as { keyroom: KeyroomApi }).keyroom;
        const events: ProgressEvent[] = [];
        const unsubscribe = api.onProgress((e) => events.push(e));
        const result = await api.DigestFile({ InputFile: inputFile, Algorithm: 'SHA_256', OperationId: id });
        unsubscribe();
        // After unsubscribing, another call's progress no longer reaches the listener.
        const count = events.length;
        const later = await api.DigestFile({ InputFile: inputFile, Algorithm: 'SM3', OperationId: crypto.randomUUID() });
        return { result, events: events.slice(0, count), heardAfterUnsubscribe: events.length - count, laterOk: later.ok };
      },
      [file, operationId] as [string, string],
    );
    const result = valueOf('DigestFile', seen.result);
    assert.equal(result.Size, 3 * 1024 * 1024);
    assert.equal(result.Digest, createHash('sha256').update(readFileSync(file)).digest('hex'));
    assert.ok(seen.events.length >= 2, `a first and a last event at least: ${JSON.stringify(seen.events)}`);
    for (const e of seen.events) assert.deepEqual([e.OperationId, e.Operation, e.Phase, e.Total], [operationId, 'DigestFile', 'Hashing', result.Size]);
    assert.deepEqual(seen.events.map((e) => e.Done).slice(-1), [result.Size]);
    assert.ok(seen.laterOk);
    assert.equal(seen.heardAfterUnsubscribe, 0);
  });

  it('shows the page, and the page made no outside connection and broke no policy', async () => {
    const shot = await browser.screenshot('01-placeholder');
    assert.ok(statSync(shot).size > 1000);
    browser.assertNoOutsideTraffic();
    assert.deepEqual(browser.pageErrors, []);
  });

  it('refuses a socket without the token, with a wrong one, from another origin or for another host', async () => {
    const url = `${host.socketUrl}?token=${host.token}`;
    assert.equal(await upgradeStatus(url, { origin: host.origin }), 101);
    assert.equal(await upgradeStatus(host.socketUrl, { origin: host.origin }), 401);
    assert.equal(await upgradeStatus(`${host.socketUrl}?token=${'A'.repeat(host.token.length)}`, { origin: host.origin }), 401);
    assert.equal(await upgradeStatus(url, {}), 403);
    assert.equal(await upgradeStatus(url, { origin: 'http://evil.example' }), 403);
    assert.equal(await upgradeStatus(url, { origin: host.origin, host: `localhost:${new URL(host.origin).port}` }), 403);
    assert.equal(await upgradeStatus(url.replace(SOCKET_PATH, '/elsewhere'), { origin: host.origin }), 404);
  });

  it('a page with a wrong token gets a window.keyroom whose calls reject, and nothing reaches the keystore', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${host.origin}/?token=wrong-token`);
      await waitForApp(page);
      await checkApiShape(page);
      await assert.rejects(callKeyroom(page, 'ListKeys', {}), /refused the connection/);
    } finally {
      await page.close();
    }
    browser.assertNoOutsideTraffic();
  });
});
