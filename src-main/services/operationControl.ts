/**
 * What a long-running service gets from its caller: a signal that says "stop" (CancelOperation)
 * and a place to report progress. Plain values, so services stay free of front doors; the
 * registry that makes them lives beside dispatch (handlers/operationsUnderWay.ts).
 */
import { KmsError } from '../../src-shared/errors';
import type { ProgressEvent } from '../../src-shared/contract/api';
import type { OperationName } from '../../src-shared/contract/operations';

/** A progress report as a service makes it; the registry adds OperationId and Operation. */
export type ProgressUpdate = Omit<ProgressEvent, 'OperationId' | 'Operation'>;

export interface OperationControl {
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
}

/** For calls nobody can cancel or follow (no OperationId, or a direct service call). */
export const UNCONTROLLED: OperationControl = Object.freeze({
  signal: new AbortController().signal,
  progress: () => undefined,
});

export function cancelledError(operation: OperationName): KmsError {
  return new KmsError('Cancelled', `${operation} was cancelled at your request; nothing was written.`);
}

/** Stop here if the caller cancelled: the services call it before each step that writes. */
export function throwIfCancelled(control: OperationControl, operation: OperationName): void {
  if (control.signal.aborted) throw cancelledError(operation);
}
