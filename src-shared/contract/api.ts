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

/** What every front door gets back from dispatch(): the output with its RequestId, or an error. */
export type DispatchResult<N extends OperationName = OperationName> =
  | { ok: true; value: OperationOutput<N> & { RequestId: string } }
  | { ok: false; error: ErrorData };

export type KeyroomApi = {
  [N in OperationName]: (input: z.input<Operations[N]['input']>) => Promise<DispatchResult<N>>;
};

type NotInApp = Exclude<OperationName, AppOperationName>;
/**
 * KeyroomApi is keyed by every operation because today the app offers them all; this fails to
 * type-check when one becomes CLI-only, so that KeyroomApi is then keyed by AppOperationName.
 */
export const KEYROOM_API_COVERS_CONTRACT: [NotInApp] extends [never] ? true : { notInApp: NotInApp } = true;

export const IPC_CHANNEL_PREFIX = 'keyroom:';

export type IpcChannel = `${typeof IPC_CHANNEL_PREFIX}${OperationName}`;

/** The IPC channel of an operation: `keyroom:CreateKey`. */
export function channelOf<N extends OperationName>(name: N): `${typeof IPC_CHANNEL_PREFIX}${N}` {
  return `${IPC_CHANNEL_PREFIX}${name}`;
}

/**
 * Build the API over a transport that sends one input on one channel and resolves to what the
 * other side answered. Only the input is passed on: extra arguments never cross.
 */
export function createKeyroomApi(invoke: (channel: IpcChannel, input: unknown) => Promise<unknown>): KeyroomApi {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of APP_OPERATION_NAMES) api[name] = (input: unknown) => invoke(channelOf(name), input);
  return Object.freeze(api) as unknown as KeyroomApi;
}
