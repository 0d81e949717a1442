/**
 * Three build targets, one config (electron-vite). Main keeps native modules (SQLCipher,
 * pkcs11js) external; the preload is one self-contained CommonJS bundle, as a sandboxed
 * preload must be; the renderer is a Vue app with no remote sources.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

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
    plugins: [vue()],
  },
});
