/**
 * The preload exposes verbs, never transports: `window.keyroom` has one async function per app
 * operation (src-shared/contract/names.ts), each sending its one input on `keyroom:<Name>` and
 * answering the main process's DispatchResult; `onProgress` and `onAutoLock`, which hand a
 * listener the progress events or auto-lock notices alone (never the IPC event, which carries the
 * sender). No ipcRenderer, no
 * generic send, no process.env. Bundled to one CommonJS file with only `electron` external (a
 * sandboxed preload cannot load modules); test/unit/app/security.test.ts checks that the bundle
 * requires nothing else.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { AUTO_LOCK_CHANNEL, PROGRESS_CHANNEL, createKeyroomApi, type AutoLockNotice, type ProgressEvent } from '../../src-shared/contract/api';

contextBridge.exposeInMainWorld(
  'keyroom',
  createKeyroomApi(
    (channel, input) => ipcRenderer.invoke(channel, input),
    (listener) => {
      const forward = (_event: IpcRendererEvent, progress: ProgressEvent) => listener(progress);
      ipcRenderer.on(PROGRESS_CHANNEL, forward);
      return () => {
        ipcRenderer.removeListener(PROGRESS_CHANNEL, forward);
      };
    },
    (listener) => {
      const forward = (_event: IpcRendererEvent, notice: AutoLockNotice) => listener(notice);
      ipcRenderer.on(AUTO_LOCK_CHANNEL, forward);
      return () => {
        ipcRenderer.removeListener(AUTO_LOCK_CHANNEL, forward);
      };
    },
  ),
);
