/**
 * @doyensec/electronegativity (Doyensec's Electron misconfiguration scanner) over the main-process
 * sources (src-main) and the built app (out/: main, preload, and the renderer with the index.html
 * whose CSP meta tag the build writes). Every finding above INFORMATIONAL must be explained by an
 * entry of ACCEPTED below; an entry that explains nothing is stale and fails too.
 *
 * Offline: the scanner fetches translations (S3) and Electron's release list (GitHub) with `got`.
 * The scan runs in a child process in which `got` is replaced by a function that fails at once,
 * so no connection is attempted; the translations it ships are used, and the one check that needs
 * the release list (AvailableSecurityFixesGlobalCheck: is this Electron the newest with security
 * fixes?) is switched off, since keeping Electron current is the lockfile's business.
 * npm test builds before it tests; run `npm run build` first when running this file alone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { META_CSP } from '../../../src-main/app/security';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(import.meta.url);

/** One finding, as electronegativity's runner returns it (the fields read here). */
interface Finding {
  id: string;
  /** Relative to the scanned folder; "N/A" for an app-wide finding. */
  file: string;
  location: { line: number; column: number };
  description: string;
  severity: { name: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH'; value: number };
  confidence: { name: string; value: number };
  manualReview: boolean;
  /** The flagged source line, or for a CSP finding the policy it evaluated. */
  sample?: string;
}

interface ScanResult {
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Finding[];
}

type ScanName = 'src-main' | 'out' | 'canary';

interface Accepted {
  scan: ScanName;
  id: string;
  file: string;
  /** What the flagged line of that file must say: the entry covers that finding and no other. */
  line: RegExp;
  /** When one check reports different things (the CSP check does), which one is accepted. */
  description?: string;
  why: string;
}

const BROWSER_WINDOW = /new BrowserWindow\(windowOptions\(PRELOAD, \{ devTools: DEV_TOOLS \}\)\)/;
const WINDOW_OPTIONS_WHY =
  'electronegativity reads webPreferences only from an object literal (or a variable set to one) passed to `new BrowserWindow`; ' +
  'ours come from windowOptions() in src-main/app/security.ts, which sets contextIsolation: true, sandbox: true and ' +
  "disableBlinkFeatures: 'Auxclick' explicitly; test/unit/app/security.test.ts ('window options') asserts each value, and " +
  'hardenApp() calls app.enableSandbox() before any window besides.';
const CSP_HEADER = /["']Content-Security-Policy["']: \[CSP\]/;
const CSP_HEADER_WHY =
  "electronegativity evaluates a CSP header only when its value is a string literal; ours is the CSP constant built from " +
  "CSP_DIRECTIVES in security.ts, so its parser gets `undefined` and says 'may not be valid'. The same policy (less the " +
  "header-only frame-ancestors) is evaluated by this scan in out/renderer/index.html, and security.test.ts checks it directive by directive.";
const MAYBE_WEAK_CSP = 'One or more CSP directives detected seems to be vulnerable';

/**
 * Every finding above INFORMATIONAL that stays, and why. Line numbers are not given: they move;
 * the `line` pattern pins each entry to the code it was written for.
 */
const ACCEPTED: readonly Accepted[] = [
  { scan: 'src-main', id: 'CONTEXT_ISOLATION_JS_CHECK', file: 'app/main.ts', line: BROWSER_WINDOW, why: WINDOW_OPTIONS_WHY },
  { scan: 'src-main', id: 'SANDBOX_JS_CHECK', file: 'app/main.ts', line: BROWSER_WINDOW, why: WINDOW_OPTIONS_WHY },
  { scan: 'src-main', id: 'AUXCLICK_JS_CHECK', file: 'app/main.ts', line: BROWSER_WINDOW, why: WINDOW_OPTIONS_WHY },
  { scan: 'out', id: 'CONTEXT_ISOLATION_JS_CHECK', file: 'main/main.js', line: BROWSER_WINDOW, why: WINDOW_OPTIONS_WHY },
  { scan: 'out', id: 'SANDBOX_JS_CHECK', file: 'main/main.js', line: BROWSER_WINDOW, why: WINDOW_OPTIONS_WHY },
  { scan: 'out', id: 'AUXCLICK_JS_CHECK', file: 'main/main.js', line: BROWSER_WINDOW, why: WINDOW_OPTIONS_WHY },
  { scan: 'src-main', id: 'CSP_GLOBAL_CHECK', file: 'app/hardening.ts', line: CSP_HEADER, why: CSP_HEADER_WHY },
  { scan: 'out', id: 'CSP_GLOBAL_CHECK', file: 'main/main.js', line: CSP_HEADER, why: CSP_HEADER_WHY },
  {
    scan: 'out',
    id: 'CSP_GLOBAL_CHECK',
    file: 'renderer/index.html',
    line: new RegExp(`<meta http-equiv="Content-Security-Policy" content="${META_CSP.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" />`),
    description: MAYBE_WEAK_CSP,
    why:
      "csp-evaluator's only remark on META_CSP: \"'self' can be problematic if you host JSONP, Angular or user uploaded files\" " +
      "(script-src 'self'). Our 'self' is the file:// folder of the built bundle, out/renderer: no JSONP endpoint, no Angular, " +
      'nothing uploaded is ever written there, and the request filter cancels every load from outside it (hardening.ts). ' +
      'A finding that the policy IS weak has another description and is not accepted.',
  },
];

/**
 * The child: `got` replaced before the scanner loads it, then one run per (name, folder) pair,
 * results written as JSON to the file named last.
 */
const CHILD = `
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'got') return () => Promise.reject(new Error('offline: no connection is made from this test'));
  return load.call(this, request, ...rest);
};
const [runnerPath, electronVersion, outFile, ...pairs] = process.argv.slice(1);
const run = require(runnerPath);
(async () => {
  const results = {};
  for (let i = 0; i < pairs.length; i += 2) {
    results[pairs[i]] = await run({
      input: pairs[i + 1],
      customScan: [],
      excludeFromScan: ['availablesecurityfixesglobalcheck'],
      isRelative: true,
      electronVersionOverride: electronVersion,
      parserPlugins: [],
    }, false);
  }
  require('node:fs').writeFileSync(outFile, JSON.stringify(results));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`;

function scan(inputs: Record<ScanName, string>): Record<ScanName, ScanResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'keyroom-electronegativity-'));
  try {
    const outFile = join(tmp, 'findings.json');
    const runner = require.resolve('@doyensec/electronegativity');
    const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
    const pairs = Object.entries(inputs).flat();
    const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', CHILD, runner, electronVersion, outFile, ...pairs], {
      cwd: tmp,
      encoding: 'utf8',
      // LANG picks the scanner's locale; its descriptions are matched in English above.
      env: { ...process.env, LANG: 'en-US', FORCE_COLOR: '0' },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `electronegativity failed:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(readFileSync(outFile, 'utf8')) as Record<ScanName, ScanResult>;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function lineOf(folder: string, f: Finding): string {
  if (f.file === 'N/A') return '';
  return readFileSync(join(folder, f.file), 'utf8').split('\n')[f.location.line - 1] ?? '';
}

function describeFinding(scanName: ScanName, f: Finding, line: string): string {
  return `${scanName}: ${f.id} ${f.severity.name}/${f.confidence.name} in ${f.file}:${f.location.line}:${f.location.column} – ${f.description}\n    ${line.trim().slice(0, 200)}`;
}

describe('electronegativity', () => {
  it('finds nothing above informational in src-main and the built app that ACCEPTED does not explain', (t) => {
    const out = join(ROOT, 'out');
    for (const part of ['main/main.js', 'preload/preload.cjs', 'renderer/index.html']) {
      assert.ok(existsSync(join(out, part)), `out/${part} is missing: run \`npm run build\` first (npm test does)`);
    }
    // A canary the scanner must flag, so a scan that silently checks nothing cannot pass.
    const canaryDir = mkdtempSync(join(tmpdir(), 'keyroom-eneg-canary-'));
    try {
      mkdirSync(join(canaryDir, 'src'));
      writeFileSync(
        join(canaryDir, 'src', 'main.js'),
        "const { BrowserWindow } = require('electron');\n" +
          'new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n',
      );
      const folders: Record<ScanName, string> = { 'src-main': join(ROOT, 'src-main'), out, canary: canaryDir };
      const results = scan(folders);

      const canaryIds = new Set(results.canary.issues.map((f) => f.id));
      for (const id of ['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK', 'CSP_GLOBAL_CHECK']) {
        assert.ok(canaryIds.has(id), `the scanner flags the canary's ${id} (it found ${[...canaryIds].join(', ')})`);
      }

      const unexplained: string[] = [];
      const used = new Set<Accepted>();
      for (const scanName of ['src-main', 'out'] as const) {
        const result = results[scanName];
        assert.ok(result.atomicChecks >= 30 && result.globalChecks >= 5, `${scanName}: the checks loaded (${result.atomicChecks} atomic, ${result.globalChecks} global)`);
        // A file it could not parse is a file it did not check.
        assert.deepEqual(result.errors, [], `${scanName}: every file parsed`);
        for (const f of result.issues) {
          const line = lineOf(folders[scanName], f);
          if (f.severity.value === 0) {
            t.diagnostic(`informational: ${describeFinding(scanName, f, line)}`);
            continue;
          }
          const entry = ACCEPTED.find(
            (a) => a.scan === scanName && a.id === f.id && a.file === f.file && a.line.test(line) && (a.description === undefined || a.description === f.description),
          );
          if (entry) used.add(entry);
          else unexplained.push(describeFinding(scanName, f, line));
        }
      }
      assert.deepEqual(unexplained, [], 'findings above informational that ACCEPTED does not explain: fix them, or add an entry that says why');
      const stale = ACCEPTED.filter((a) => !used.has(a)).map((a) => `${a.scan}: ${a.id} in ${a.file}`);
      assert.deepEqual(stale, [], 'ACCEPTED entries that match no finding any more: remove them');

      // The policy the scanner evaluated in the built page is META_CSP itself.
      const pageCsp = results.out.issues.filter((f) => f.id === 'CSP_GLOBAL_CHECK' && f.file === 'renderer/index.html');
      assert.deepEqual(pageCsp.map((f) => f.sample), [META_CSP]);
    } finally {
      rmSync(canaryDir, { recursive: true, force: true });
    }
  });
});
