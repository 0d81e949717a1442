/**
 * The IPC binding, generated from the contract: one `handle` per app operation on
 * `keyroom:<Name>`. Every call is checked to come from the main frame of our own window showing
 * our own bundle before anything runs; then dispatch() validates the input and runs the handler,
 * and the result (errors included) goes back as data. Progress events of a long-running call go
 * back on PROGRESS_CHANNEL to the webContents that made the call, and to no other. The only
 * module that touches `ipcMain`, and only inside bindElectronIpc, so everything else here is
 * testable with plain objects.
 */
import { randomUUID } from 'node:crypto';
import type { IpcMainInvokeEvent } from 'electron';
import { operationNamesFor } from '../../src-shared/contract/operations';
import { PROGRESS_CHANNEL, channelOf, type DispatchResult, type ProgressEvent } from '../../src-shared/contract/api';
import type { Session } from '../services/session';
import { dispatch } from '../handlers/dispatch';
import { isInsideBundle, rendererBase } from './security';

/** What bindIpc needs of `ipcMain` (which satisfies it); E is the event the listener gets. */
export interface IpcRegistry<E> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface IpcDeps<E> {
  session: Session;
  /** True only for our own window's main frame showing our bundle; see trustedSender. */
  isTrustedSender(event: E): boolean;
}

/** The parts of an Electron WebFrameMain the sender check reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
}

/** The parts of a webContents progress events are sent to. */
export interface ProgressReceiver {
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
}

/** The parts of an IpcMainInvokeEvent the sender check reads. */
export interface SenderEvent {
  readonly sender: object;
  /** Null when the frame navigated away or was destroyed before the call was handled. */
  readonly senderFrame: FrameLike | null;
}

/** The parts of our BrowserWindow the sender check reads. */
export interface OwnWindow {
  isDestroyed(): boolean;
  readonly webContents: { readonly mainFrame: FrameLike };
}

function refused(): DispatchResult {
  return {
    ok: false,
    error: {
      Code: 'Rejected.Sender',
      Message: 'This request did not come from the Keyroom window; it was refused and nothing was run.',
      RequestId: randomUUID(),
    },
  };
}

/**
 * Register one handler per app operation. Returns a function that removes them all.
 * @throws Error when a channel already has a handler (ipcMain refuses a second one).
 */
export function bindIpc<E extends { readonly sender: ProgressReceiver }>(ipc: IpcRegistry<E>, deps: IpcDeps<NoInfer<E>>): () => void {
  const bound: string[] = [];
  const unbind = () => {
    for (const channel of bound.splice(0)) ipc.removeHandler(channel);
  };
  try {
    for (const name of operationNamesFor('app')) {
      const channel = channelOf(name);
      // Only the first argument is the input; anything else the renderer sends is ignored.
      ipc.handle(channel, async (event, input): Promise<DispatchResult> => {
        let trusted = false;
        try {
          trusted = deps.isTrustedSender(event);
        } catch {
          // A destroyed window or frame throws on access: not a sender we can vouch for.
        }
        if (!trusted) return refused();
        return dispatch(deps.session, name, input, { onProgress: progressTo(event.sender) });
      });
      bound.push(channel);
    }
  } catch (e) {
    unbind();
    throw e;
  }
  return unbind;
}

/** Send progress to the calling webContents while it lives; a closed window just stops listening. */
export function progressTo(receiver: ProgressReceiver): (event: ProgressEvent) => void {
  return (event) => {
    if (!receiver.isDestroyed()) receiver.send(PROGRESS_CHANNEL, event);
  };
}

/**
 * The sender check (Electron's security checklist, item 17): the call must come from our window's
 * webContents, from its main frame (not an iframe), and that frame must be showing a page of our
 * bundle (the file:// folder of index.html, or the loopback dev server). Frames are compared by
 * identity: Electron hands out one WebFrameMain object per frame.
 */
export function trustedSender(win: OwnWindow, rendererUrl: string): (event: SenderEvent) => boolean {
  const base = rendererBase(rendererUrl);
  return (event) => {
    if (win.isDestroyed()) return false;
    const contents = win.webContents;
    const frame = event.senderFrame;
    return (
      event.sender === contents &&
      frame !== null &&
      frame === contents.mainFrame &&
      frame.parent === null &&
      isInsideBundle(frame.url, base)
    );
  };
}

/** Bind to Electron's ipcMain (loaded here, on demand, so tests never load Electron). */
export async function bindElectronIpc(deps: IpcDeps<IpcMainInvokeEvent>): Promise<() => void> {
  const { ipcMain } = await import('electron');
  return bindIpc(ipcMain, deps);
}
