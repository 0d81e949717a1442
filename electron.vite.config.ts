/**
 * Three build targets, one config (electron-vite). Main keeps native modules (SQLCipher,
 * pkcs11js) external; the preload is one self-contained CommonJS bundle, as a sandboxed
 * preload must be; the renderer is a Vue app with no remote sources, whose index.html gets its
 * Content-Security-Policy from security.ts (one policy, not a copy to keep in step).
 */
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import type { Plugin } from 'vite';
import { META_CSP } from './src-main/app/security';

/**
 * Puts `<meta http-equiv="Content-Security-Policy" content="…">` right after the charset tag,
 * before any script or style (a meta policy covers only what follows it). Written by hand, not
 * with Vite's tag injection, which would HTML-escape the quotes of 'self'; attribute order and
 * double quotes are what test/e2e/host/testHost.ts matches. Fails the build rather than produce a
 * page with two policies or none.
 */
function cspMeta(): Plugin {
  return {
    name: 'keyroom-csp-meta',
    transformIndexHtml: {
      order: 'pre',
      handler(html) {
        if (/http-equiv\s*=\s*["']?Content-Security-Policy/i.test(html)) {
          throw new Error('index.html carries its own Content-Security-Policy; the build adds META_CSP from src-main/app/security.ts.');
        }
        if (/["&<>]/.test(META_CSP)) throw new Error('META_CSP must not need HTML escaping.');
        const charset = /<meta\s+charset=[^>]*>/i.exec(html);
        if (!charset) throw new Error('index.html has no <meta charset>, after which the CSP meta tag goes.');
        const at = charset.index + charset[0].length;
        return `${html.slice(0, at)}\n    <meta http-equiv="Content-Security-Policy" content="${META_CSP}" />${html.slice(at)}`;
      },
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      lib: { entry: resolve(__dirname, 'src-main/app/main.ts') },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      lib: { entry: resolve(__dirname, 'src-main/app/preload.ts'), formats: ['cjs'] },
      rollupOptions: { external: ['electron'] },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rollupOptions: { input: resolve(__dirname, 'src-renderer/index.html') },
    },
    plugins: [cspMeta(), vue()],
  },
});
