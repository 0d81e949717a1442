/**
 * The preload exposes verbs, never transports: `window.keyroom` has one async function per app
 * operation (src-shared/contract/names.ts), each sending its one input on `keyroom:<Name>` and
 * answering the main process's DispatchResult. No ipcRenderer, no generic send, no process.env.
 * Bundled to one CommonJS file with only `electron` external (a sandboxed preload cannot load
 * modules); test/unit/app/security.test.ts checks that the bundle requires nothing else.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createKeyroomApi } from '../../src-shared/contract/api';

contextBridge.exposeInMainWorld(
  'keyroom',
  createKeyroomApi((channel, input) => ipcRenderer.invoke(channel, input)),
);
