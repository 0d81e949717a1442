/**
 * The window's security settings as data (security.ts), checked without an Electron binary, and
 * the built preload: one CommonJS file that needs nothing but `electron`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CSP,
  CSP_DIRECTIVES,
  HEADER_ONLY_DIRECTIVES,
  META_CSP,
  PERMISSIONS,
  REFUSED_SCHEMES,
  isAllowedRequest,
  isPermissionGranted,
  rendererBase,
  windowOptions,
} from '../../../src-main/app/security';
import { APP_OPERATION_NAMES } from '../../../src-shared/contract/names';
import { AUTO_LOCK_CHANNEL, PROGRESS_CHANNEL } from '../../../src-shared/contract/api';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    assert.ok(!map.has(name), `${name} given twice`);
    map.set(name, sources);
  }
  return map;
}

/** What any Keyroom CSP must say, wherever it is delivered. */
function assertStrictCsp(csp: string, where: string): void {
  const d = directives(csp);
  assert.deepEqual(d.get('default-src'), ["'none'"], `${where}: default-src 'none'`);
  assert.deepEqual(d.get('script-src'), ["'self'"], `${where}: script-src 'self' only`);
  assert.deepEqual(d.get('connect-src'), ["'none'"], `${where}: connect-src 'none'`);
  assert.deepEqual(d.get('base-uri'), ["'none'"], `${where}: base-uri 'none'`);
  assert.deepEqual(d.get('form-action'), ["'none'"], `${where}: form-action 'none'`);
  for (const [name, sources] of d) {
    for (const s of sources) {
      assert.ok(["'self'", "'none'", 'data:'].includes(s), `${where}: ${name} allows only our bundle (found ${s})`);
      assert.ok(s !== 'data:' || name === 'img-src', `${where}: data: only for images (found in ${name})`);
    }
  }
  for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", 'http:', 'https:', 'ws:', 'wss:', 'blob:', '*']) {
    assert.ok(!csp.includes(bad), `${where}: no ${bad}`);
  }
}

describe('Content-Security-Policy', () => {
  it('has no remote sources, no inline script or style, no eval, and connects nowhere', () => {
    assertStrictCsp(CSP, 'security.ts');
    const d = directives(CSP);
    for (const name of ['object-src', 'frame-src', 'worker-src', 'frame-ancestors']) assert.deepEqual(d.get(name), ["'none'"], name);
    assert.deepEqual(d.get('style-src'), ["'self'"]);
    assert.equal(d.size, Object.keys(CSP_DIRECTIVES).length);
  });

  it('is in the built page as META_CSP: the same policy, less what a meta tag cannot carry', () => {
    assertStrictCsp(META_CSP, 'META_CSP');
    const header = directives(CSP);
    const meta = directives(META_CSP);
    for (const name of HEADER_ONLY_DIRECTIVES) assert.equal(meta.has(name), false, `${name} is header-only`);
    assert.deepEqual([...meta], [...header].filter(([name]) => !HEADER_ONLY_DIRECTIVES.includes(name)));

    // The source page has none of its own (the build adds it, electron.vite.config.ts).
    const source = readFileSync(join(ROOT, 'src-renderer', 'index.html'), 'utf8');
    assert.ok(!/http-equiv\s*=\s*["']?Content-Security-Policy/i.test(source), 'src-renderer/index.html has no CSP of its own');

    // The built page (npm test builds before it tests): exactly one policy, exactly META_CSP, in
    // the attribute order and quoting test/e2e/host/testHost.ts rewrites, before any script or style.
    const built = join(ROOT, 'out', 'renderer', 'index.html');
    assert.ok(existsSync(built), `${built} is missing: run \`npm run build\` first (npm test does)`);
    const html = readFileSync(built, 'utf8');
    const metas = [...html.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/gi)];
    assert.equal(metas.length, 1, 'one CSP meta tag');
    const uncommented = html.replace(/<!--[^]*?-->/g, '');
    assert.equal(uncommented.match(/Content-Security-Policy/gi)?.length, 1, 'no other policy, in any form');
    assert.equal(metas[0]![1], META_CSP);
    const at = metas[0]!.index;
    for (const tag of [/<script\b/i, /<link\b/i, /<style\b/i]) {
      const m = tag.exec(html);
      assert.ok(!m || m.index > at, `the policy comes before the first ${tag.source}`);
    }
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline script');
    assert.ok(!/<style\b/i.test(html) && !/\sstyle=/i.test(html), 'no inline style');
  });
});

describe('permissions', () => {
  it('denies every permission in the table, and any it does not list', () => {
    assert.ok(Object.keys(PERMISSIONS).length >= 20);
    for (const [name, entry] of Object.entries(PERMISSIONS)) {
      assert.equal(entry.granted, false, name);
      assert.ok(entry.why.length > 5, `${name} says why`);
      assert.equal(isPermissionGranted(name), false, name);
    }
    for (const name of ['camera', 'some-future-permission', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '']) {
      assert.equal(isPermissionGranted(name), false, name);
    }
  });
});

describe('request filter', () => {
  const base = rendererBase('file:///opt/keyroom/out/renderer/index.html');
  it('lets through only our bundle, data: images and (when enabled) devtools', () => {
    assert.equal(base, 'file:///opt/keyroom/out/renderer/');
    for (const url of ['file:///opt/keyroom/out/renderer/index.html', 'file:///opt/keyroom/out/renderer/assets/index-x.js', 'data:image/png;base64,AA==']) {
      assert.equal(isAllowedRequest(url, base, { devTools: false }), true, url);
    }
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1/',
      'http://localhost:5173/',
      'ws://localhost:5173/',
      'wss://example.com/',
      'ftp://example.com/',
      'file:///etc/passwd',
      'file:///opt/keyroom/out/renderer-evil/index.html',
      'file:///opt/keyroom/out/renderer/../../../etc/passwd',
      'file:///opt/keyroom/out/preload/preload.cjs',
      'blob:file:///0f0e',
      'chrome://gpu',
      'devtools://devtools/bundled/inspector.html',
      'not a url',
    ]) {
      assert.equal(isAllowedRequest(url, base, { devTools: false }), false, url);
    }
    assert.equal(isAllowedRequest('devtools://devtools/bundled/inspector.html', base, { devTools: true }), true);
    assert.deepEqual([...REFUSED_SCHEMES], ['http', 'https']);
  });

  it('knows our bundle only as a file:// folder or a loopback dev server', () => {
    assert.equal(rendererBase('http://localhost:5173/'), 'http://localhost:5173/');
    for (const url of ['https://localhost/', 'http://example.com/', 'data:text/html,x', 'about:blank']) {
      assert.throws(() => rendererBase(url), /file:\/\/ bundle or a loopback dev server/, url);
    }
  });
});

describe('window options', () => {
  it('sets every security option explicitly', () => {
    const o = windowOptions('/opt/keyroom/out/preload/preload.cjs');
    const w = o.webPreferences;
    assert.ok(w);
    assert.equal(w.preload, '/opt/keyroom/out/preload/preload.cjs');
    const expected = {
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
      disableBlinkFeatures: 'Auxclick',
      devTools: false,
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(w[k as keyof typeof w], v, k);
    assert.equal(w.enableBlinkFeatures, undefined);
    assert.equal(windowOptions('/p', { devTools: true }).webPreferences?.devTools, true);
    assert.equal(o.show, false, 'shown on ready-to-show, never blank');
    assert.ok((o.width ?? 0) >= 1280 && (o.height ?? 0) >= 800);
  });
});

describe('preload bundle', () => {
  it('is one CommonJS file that requires only electron, exposes only window.keyroom, and listens only for progress and auto-locks', () => {
    // Build the preload alone, with the project's own config, into a temp folder (out/ is left
    // alone: other tests serve the renderer from it).
    const tmp = mkdtempSync(join(tmpdir(), 'keyroom-preload-'));
    try {
      const config = join(tmp, 'preload-only.config.ts');
      writeFileSync(
        config,
        [
          `import config from ${JSON.stringify(join(ROOT, 'electron.vite.config.ts'))};`,
          `const preload = (config as { preload: { build: object } }).preload;`,
          `export default { preload: { ...preload, build: { ...preload.build, outDir: ${JSON.stringify(join(tmp, 'preload'))} } } };`,
        ].join('\n'),
      );
      const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '-c', config, '-l', 'warn', ROOT], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      const js = readFileSync(join(tmp, 'preload', 'preload.cjs'), 'utf8');
      const requires = [...js.matchAll(/\brequire\s*\(\s*([^)]*)\)/g)].map((m) => m[1]);
      assert.deepEqual(requires, ['"electron"'], 'only electron is required');
      assert.ok(!/\bimport\s*\(/.test(js) && !/^\s*import\s/m.test(js), 'no ES imports');
      assert.equal([...js.matchAll(/exposeInMainWorld\(/g)].length, 1);
      assert.match(js, /exposeInMainWorld\(\s*"keyroom"/);
      assert.ok(!/process\.env/.test(js), 'no process.env');
      assert.ok(!/ipcRenderer\.(send|sendSync|once|postMessage|sendTo|addListener|prependListener|removeAllListeners)\b/.test(js), 'invoke, and the progress and auto-lock listeners');
      // It listens on the progress and auto-lock channels, and on no other (a channel may be a named constant).
      const listened = [...js.matchAll(/ipcRenderer\.(on|removeListener)\(\s*([^,\s]+)\s*,/g)].map((m) => {
        const arg = m[2]!;
        return arg.startsWith('"') ? arg : new RegExp(`\\b${arg}\\s*=\\s*("[^"]*")`).exec(js)?.[1];
      });
      assert.deepEqual(
        listened,
        [`"${PROGRESS_CHANNEL}"`, `"${PROGRESS_CHANNEL}"`, `"${AUTO_LOCK_CHANNEL}"`, `"${AUTO_LOCK_CHANNEL}"`],
        'on and removeListener, on the progress and auto-lock channels only',
      );
      assert.ok(!/\bzod\b|ZodObject/.test(js), 'no schemas in the preload');
      for (const name of APP_OPERATION_NAMES) assert.ok(js.includes(`"${name}"`), name);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
