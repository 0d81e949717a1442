/**
 * The e2e test host's stand-in for Electron's preload: `window.keyroom`, built by the same
 * `createKeyroomApi` the preload uses (so the same verbs, in the same shape, from the same
 * contract), over the host's loopback WebSocket instead of Electron IPC. Test only; never shipped.
 *
 * The host bundles this file with esbuild into one classic script and serves it as
 * `/__keyroom_shim.js`, before the app's own script (see testHost.ts for why a same-origin file
 * rather than an init script). It runs in the page, not in Node.
 *
 * Differences from the Electron preload that a test could notice, all deliberate:
 * - inputs and results cross as JSON, not by structured clone; the contract's values are JSON
 *   already (strings, numbers, booleans, plain objects), so nothing the app sends changes shape;
 * - the token is read from the page's own URL (`?token=`). A refused operation is a result
 *   (`{ ok: false, error }`), never a rejection; a broken transport (a page without the right
 *   token, a host that went away, a channel with no handler) rejects, as `ipcRenderer.invoke`
 *   rejects when IPC fails.
 */
import { createKeyroomApi, type AutoLockNotice, type IpcChannel, type ProgressEvent } from '../../../src-shared/contract/api';

/**
 * What the host answers to `{ id, channel, input }`: the dispatch result, or why there is none;
 * and, unasked, the progress of this page's long-running calls and the host's auto-locks.
 */
type Answer = { id: number; result: unknown } | { id: number; error: string } | { progress: ProgressEvent } | { autoLock: AutoLockNotice };

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

function installKeyroomShim(): void {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const socket = new WebSocket(`ws://${location.host}/__keyroom_ws?token=${encodeURIComponent(token)}`);
  const pending = new Map<number, Pending>();
  const unsent: string[] = [];
  let nextId = 1;
  let opened = false;
  let broken: string | undefined;

  socket.addEventListener('open', () => {
    opened = true;
    for (const message of unsent.splice(0)) socket.send(message);
  });
  const progressListeners = new Set<(event: ProgressEvent) => void>();
  const autoLockListeners = new Set<(notice: AutoLockNotice) => void>();
  // As ipcRenderer.on does: every listener, one failing listener stopping none of the others.
  const deliver = <T>(listeners: Set<(value: T) => void>, value: T) => {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };
  socket.addEventListener('message', (event: MessageEvent) => {
    const answer = JSON.parse(String(event.data)) as Answer;
    if ('progress' in answer) return deliver(progressListeners, answer.progress);
    if ('autoLock' in answer) return deliver(autoLockListeners, answer.autoLock);
    const call = pending.get(answer.id);
    pending.delete(answer.id);
    if ('error' in answer) call?.reject(new Error(answer.error));
    else call?.resolve(answer.result);
  });
  socket.addEventListener('close', (event: CloseEvent) => {
    // A refused upgrade (wrong token, foreign origin) reaches the page only as a close 1006.
    broken = opened
      ? `The Keyroom test host closed the connection (${event.code}${event.reason ? `: ${event.reason}` : ''}).`
      : 'The Keyroom test host refused the connection (is the page missing its ?token=?).';
    unsent.length = 0;
    for (const call of pending.values()) call.reject(new Error(broken));
    pending.clear();
  });

  const invoke = (channel: IpcChannel, input: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (broken) return reject(new Error(broken));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      const message = JSON.stringify({ id, channel, input });
      if (socket.readyState === WebSocket.OPEN) socket.send(message);
      else unsent.push(message);
    });

  // A wrapper per subscription, as the preload makes: subscribing one function twice gives two.
  const subscriberTo =
    <T>(listeners: Set<(value: T) => void>) =>
    (listener: (value: T) => void): (() => void) => {
      const forward = (value: T) => listener(value);
      listeners.add(forward);
      return () => {
        listeners.delete(forward);
      };
    };

  // As contextBridge.exposeInMainWorld does: the page can call the verbs, not replace them.
  Object.defineProperty(window, 'keyroom', {
    value: createKeyroomApi(invoke, subscriberTo(progressListeners), subscriberTo(autoLockListeners)),
    enumerable: true,
    writable: false,
    configurable: false,
  });
}

installKeyroomShim();
