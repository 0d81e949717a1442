/**
 * The typed client: the one place the renderer touches `window.keyroom`. Each call answers the
 * operation's output or throws an OperationError with the contract's error code, so components
 * and stores never handle transport results. The preload (Electron) or the e2e host's shim gives
 * `window.keyroom`; both are built from the same contract.
 */
import type { z } from 'zod';
import type { AutoLockNotice, DispatchResult, KeyroomApi, ProgressEvent } from '../../../src-shared/contract/api';
import type { OperationName, OperationOutput, Operations } from '../../../src-shared/contract/operations';
import type { ErrorCode } from '../../../src-shared/errors';

export type Input<N extends OperationName> = z.input<Operations[N]['input']>;
export type Output<N extends OperationName> = OperationOutput<N> & { RequestId: string };

/** A refusal from the main process (its code and message), or a transport that failed. */
export class OperationError extends Error {
  override readonly name = 'OperationError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly operation: OperationName,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

function api(): KeyroomApi {
  const keyroom = (window as { keyroom?: KeyroomApi }).keyroom;
  if (!keyroom) throw new OperationError('Internal', 'This page is not connected to Keyroom (no window.keyroom).', 'GetKeystoreStatus');
  return keyroom;
}

const lockedListeners = new Set<() => void>();

/** Told when any call finds the keystore locked, so the shell can return to the unlock screen. */
export function onKeystoreLocked(listener: () => void): () => void {
  lockedListeners.add(listener);
  return () => lockedListeners.delete(listener);
}

/** Run one operation; its output, or an OperationError. */
export async function call<N extends OperationName>(name: N, input: Input<N>): Promise<Output<N>> {
  const verb = api()[name] as unknown as (input: Input<N>) => Promise<DispatchResult<N>>;
  let result: DispatchResult<N>;
  try {
    result = await verb(input);
  } catch (e) {
    // IPC itself failed (the main process went away, the test host closed): not a refusal.
    throw new OperationError('Internal', `Keyroom's main process did not answer (${e instanceof Error ? e.message : String(e)}).`, name);
  }
  if (result.ok) return result.value;
  const { Code, Message, RequestId } = result.error;
  if (Code === 'Keystore.Locked') for (const listener of lockedListeners) listener();
  throw new OperationError(Code, Message, name, RequestId);
}

/** Progress events of long-running operations; returns the unsubscribe function. */
export function onProgress(listener: (event: ProgressEvent) => void): () => void {
  return api().onProgress(listener);
}

/** The main process locked the keystore and logged out of the token by itself; returns the unsubscribe function. */
export function onAutoLock(listener: (notice: AutoLockNotice) => void): () => void {
  // Subscribed as the keystore store is made: a page without window.keyroom must still render,
  // and its first call says what is wrong (api()).
  const keyroom = (window as { keyroom?: KeyroomApi }).keyroom;
  return keyroom ? keyroom.onAutoLock(listener) : () => undefined;
}

/** A fresh OperationId for a long-running call (CancelOperation takes it back). */
export function newOperationId(): string {
  return crypto.randomUUID();
}
