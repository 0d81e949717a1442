// The architecture as lint rules (STYLE.md, "A file lives in exactly one runtime"): each folder's
// imports are limited to the layers below it, and `npm test` fails on a violation.
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';
import globals from 'globals';

/** Node's built-in modules: the node: prefix as a pattern, bare names (`fs`, `domain`) matched exactly. */
const NODE_BUILTINS = ['node:*'];
const BARE_BUILTINS = (await import('node:module')).builtinModules.filter((m) => !m.startsWith('_') && !m.startsWith('node:'));

/**
 * An import-restriction rule from patterns, each with the reason shown on a violation. Where the
 * Node modules are refused, their bare names are refused too (exact names: a pattern `domain`
 * would also match a folder of ours called domain).
 */
function restrict(...groups) {
  const node = groups.find(([group]) => group === NODE_BUILTINS);
  const paths = node ? BARE_BUILTINS.map((name) => ({ name, message: node[1] })) : [];
  return ['error', { paths, patterns: groups.map(([group, message]) => ({ group, message })) }];
}

const noElectron = ['electron', 'electron/*'];
const ELECTRON_MSG = 'Only src-main/app/ talks to Electron.';

/** Browser globals src-shared must not use (it runs in main, the CLI and the renderer). */
const DOM_GLOBALS = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'location', 'HTMLElement', 'Element', 'Node', 'fetch', 'XMLHttpRequest', 'WebSocket'];

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'dist/**', '**/*.generated.ts'] },
  {
    files: ['**/*.ts', '**/*.vue'],
    languageOptions: {
      parser: vueParser,
      parserOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module', extraFileExtensions: ['.vue'] },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, vue },
    rules: {
      // Types carry the meaning: no `any`, at boundaries or inside.
      '@typescript-eslint/no-explicit-any': 'error',
      // Control characters in a pattern are a mistake unless said so (a disable comment says why).
      'no-control-regex': 'error',
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [NODE_BUILTINS, 'src-shared runs in every runtime: no Node modules.'],
        [noElectron, 'src-shared runs in every runtime: no Electron.'],
        [['**/src-main/**', '**/src-renderer/**'], 'src-shared imports nothing above it.'],
      ),
      'no-restricted-globals': ['error', ...DOM_GLOBALS.map((name) => ({ name, message: 'src-shared runs in every runtime: no DOM.' }))],
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.vue'],
    rules: {
      'no-restricted-imports': restrict(
        [NODE_BUILTINS, 'The renderer is sandboxed: no Node modules.'],
        [noElectron, 'The renderer reaches main only through window.keyroom (client/keyroom.ts).'],
        [['**/src-main/**'], 'The renderer never imports main-process code.'],
      ),
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/app/**'],
    rules: { 'no-restricted-imports': restrict([noElectron, ELECTRON_MSG]) },
  },
  {
    files: ['src-main/app/**/*.ts'],
    ignores: ['src-main/app/ipc.ts', 'src-main/app/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', importNames: ['ipcMain', 'ipcRenderer'], message: 'Only app/ipc.ts uses ipcMain and only app/preload.ts ipcRenderer.' }] },
      ],
    },
  },
  {
    files: ['src-main/app/ipc.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', importNames: ['ipcRenderer'], message: 'Only the preload uses ipcRenderer.' }] }] },
  },
  {
    files: ['src-main/app/preload.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', importNames: ['ipcMain'], message: 'Only app/ipc.ts uses ipcMain.' }] }] },
  },
  {
    files: ['src-main/services/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [noElectron, ELECTRON_MSG],
        [['**/handlers/**', '**/cli/**', '**/app/**'], 'Services do not know who called them: no handler, CLI or app code.'],
      ),
    },
  },
  {
    files: ['src-main/backends/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [noElectron, ELECTRON_MSG],
        [['**/services/**', '**/keystore/**', '**/handlers/**', '**/cli/**', '**/app/**'], 'Backends compute with keys; they know no service or keystore.'],
      ),
    },
  },
  {
    files: ['src-main/keystore/**/*.ts', 'src-main/files/**/*.ts', 'src-main/system/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [noElectron, ELECTRON_MSG],
        [['**/services/**', '**/backends/**', '**/handlers/**', '**/cli/**', '**/app/**'], 'Storage, files and the OS probes sit below services and backends.'],
      ),
    },
  },
  {
    files: ['src-main/crypto/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [noElectron, ELECTRON_MSG],
        [['**/services/**', '**/backends/**', '**/keystore/**', '**/files/**', '**/handlers/**', '**/cli/**', '**/app/**'], 'src-main/crypto is the bottom layer: it imports nothing above it.'],
      ),
    },
  },
  {
    files: ['src-main/formats/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [noElectron, ELECTRON_MSG],
        [['**/services/**', '**/backends/**', '**/keystore/**', '**/files/**', '**/handlers/**', '**/cli/**', '**/app/**'], 'src-main/formats sits with crypto at the bottom: it imports src-shared and crypto only.'],
      ),
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.vue'],
    languageOptions: { globals: globals.browser },
  },
);
