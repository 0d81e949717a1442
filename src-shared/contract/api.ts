/**
 * What `window.keyroom` is: one async verb per app operation, typed by the contract, answering
 * a DispatchResult (errors as data: Electron keeps only the message of a thrown error). The
 * Electron preload and the e2e host's shim both build it with createKeyroomApi, over their own
 * transport. This module has no runtime imports but the name list, so a preload can bundle it.
 */
import type { z } from 'zod';
import type { ErrorData } from '../errors';
import type { AppOperationName, Operations, OperationName, OperationOutput } from './operations';
import { APP_OPERATION_NAMES } from './names';
import type { AutoLockReason } from '../domain/autoLock';

/** What every front door gets back from dispatch(): the output with its RequestId, or an error. */
export type DispatchResult<N extends OperationName = OperationName> =
  | { ok: true; value: OperationOutput<N> & { RequestId: string } }
  | { ok: false; error: ErrorData };

/** What a long-running operation is doing now, for a progress bar: `Done` of `Total` units. */
export type ProgressPhase = 'Generating' | 'Hashing' | 'Signing' | 'Writing';
export interface ProgressEvent {
  /** The OperationId its caller gave it. */
  OperationId: string;
  Operation: OperationName;
  Phase: ProgressPhase;
  /** Bytes (Hashing) or steps done; absent when the work cannot be counted (key generation). */
  Done?: number;
  Total?: number;
  /** What is being worked on, when an operation goes through several (SignFile: the file's name). */
  Item?: string;
}

/** The main process locked the keystore and logged out of the token by itself, and why. */
export interface AutoLockNotice {
  Reason: AutoLockReason;
}

/** The contract's verbs, one per operation, and the two subscriptions: progress events and auto-locks. */
export type KeyroomApi = {
  [N in OperationName]: (input: z.input<Operations[N]['input']>) => Promise<DispatchResult<N>>;
} & {
  /** Listen to progress events of the operations under way; returns the unsubscribe function. */
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  /** Listen for the main process locking by itself (src-main/services/autoLock.ts); returns the unsubscribe function. */
  onAutoLock(listener: (notice: AutoLockNotice) => void): () => void;
};

type NotInApp = Exclude<OperationName, AppOperationName>;
/**
 * KeyroomApi is keyed by every operation because today the app offers them all; this fails to
 * type-check when one becomes CLI-only, so that KeyroomApi is then keyed by AppOperationName.
 */
export const KEYROOM_API_COVERS_CONTRACT: [NotInApp] extends [never] ? true : { notInApp: NotInApp } = true;

export const IPC_CHANNEL_PREFIX = 'keyroom:';

export type IpcChannel = `${typeof IPC_CHANNEL_PREFIX}${OperationName}`;

/** Main to renderer: ProgressEvents, sent only to the window that started the operation. */
export const PROGRESS_CHANNEL = 'keyroom:progress';
/** Main to renderer: AutoLockNotices, sent to the app's window when the main process locked by itself. */
export const AUTO_LOCK_CHANNEL = 'keyroom:auto-lock';

/** The IPC channel of an operation: `keyroom:CreateKey`. */
export function channelOf<N extends OperationName>(name: N): `${typeof IPC_CHANNEL_PREFIX}${N}` {
  return `${IPC_CHANNEL_PREFIX}${name}`;
}

/**
 * Build the API over a transport that sends one input on one channel and resolves to what the
 * other side answered, and that delivers progress events (and auto-lock notices) to one listener
 * until unsubscribed. Only the input is passed on: extra arguments never cross, and a listener
 * gets the event alone (never the transport's event object, which would carry the sender).
 */
export function createKeyroomApi(
  invoke: (channel: IpcChannel, input: unknown) => Promise<unknown>,
  subscribe: (listener: (event: ProgressEvent) => void) => () => void,
  subscribeAutoLock: (listener: (notice: AutoLockNotice) => void) => () => void,
): KeyroomApi {
  const api: Record<string, unknown> = {};
  for (const name of APP_OPERATION_NAMES) api[name] = (input: unknown) => invoke(channelOf(name), input);
  api.onProgress = (listener: (event: ProgressEvent) => void) => {
    if (typeof listener !== 'function') throw new TypeError('onProgress takes a function');
    return subscribe((event) => listener(event));
  };
  api.onAutoLock = (listener: (notice: AutoLockNotice) => void) => {
    if (typeof listener !== 'function') throw new TypeError('onAutoLock takes a function');
    return subscribeAutoLock((notice) => listener(notice));
  };
  return Object.freeze(api) as unknown as KeyroomApi;
}
