#!/usr/bin/env node
// Bundles the `keyroom` command into out/cli/ (keyroom.mjs and the chunks it loads on demand),
// so that each run starts in plain Node instead of compiling the TypeScript sources through tsx
// (about 0.6 s a start). Run by `npm ci` (the `prepare` script) and before `npm test`, so the
// tests never run a stale bundle. Native modules stay external: they load their compiled .node
// files from node_modules at run time.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * zod's namespace re-exports every locale (`z.locales`), about 360 kB that `--help` would parse
 * on each start; Keyroom's messages are its own and zod registers English itself (classic/
 * schemas.js), so the bundle's `z.locales` holds English only.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir) ? { path: join(args.resolveDir, '..', 'locales', 'en.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'out', 'cli');

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { keyroom: 'src-main/cli/run.ts' },
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  // `--help` loads only the contract; an operation loads the services and native modules too.
  splitting: true,
  platform: 'node',
  // The ES module builds where a package has both (@peculiar's ASN.1 schemas): no CommonJS
  // interop, and unused exports are dropped.
  mainFields: ['module', 'main'],
  format: 'esm',
  target: 'node20.19',
  external: ['@journeyapps/sqlcipher', 'pkcs11js', 'electron'],
  plugins: [zodEnglishOnly],
  // CommonJS dependencies bundled into ESM call require() for Node's built-ins; give them one.
  banner: { js: "import { createRequire as __keyroomCreateRequire } from 'node:module';\nconst require = __keyroomCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
  write: false,
});

/** Replaces `path` in one rename, so a `keyroom` starting meanwhile reads the old file or the new. */
function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

// The chunks first (their names carry a content hash, so the old entry still finds its own), then
// the list of inputs, then the entry; last, the previous build's chunks are removed.
const entry = join(OUT, 'keyroom.mjs');
const written = new Set(result.outputFiles.map((f) => f.path));
for (const f of result.outputFiles) if (f.path !== entry) writeAtomically(f.path, f.contents);
// Every file the bundle was built from, so a test can tell that the bundle is older than the
// sources it would exercise (test/support/keyroomCli.ts) instead of running stale code.
const inputs = join(OUT, 'inputs.json');
writeAtomically(inputs, JSON.stringify(Object.keys(result.metafile.inputs).filter((f) => !f.includes(':')).sort(), null, 1) + '\n');
writeAtomically(entry, result.outputFiles.find((f) => f.path === entry).contents);
written.add(inputs);
for (const e of readdirSync(OUT, { recursive: true, withFileTypes: true })) {
  const path = join(e.parentPath ?? e.path, e.name);
  if (e.isFile() && !written.has(path)) rmSync(path);
}
