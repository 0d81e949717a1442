/**
 * The long-running operations under way in one session, by the OperationId their caller gave:
 * an AbortController each (CancelOperation aborts it) and a throttled progress emitter towards
 * the front door that started the call (its `onProgress` sink).
 */
import { KmsError } from '../../src-shared/errors';
import type { ProgressEvent } from '../../src-shared/contract/api';
import type { OperationInput, OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { Session } from '../services/session';
import { UNCONTROLLED, type OperationControl, type ProgressUpdate } from '../services/operationControl';

/** At most about ten events a second per operation: a progress bar needs no more, IPC pays each. */
export const PROGRESS_INTERVAL_MS = 100;

export type ProgressSink = (event: ProgressEvent) => void;

export interface RunningOperation extends OperationControl {
  /** Forget the operation (it finished, failed or was cancelled); its id may be used again. */
  end(): void;
}

export class OperationsUnderWay {
  private readonly running = new Map<string, AbortController>();

  /**
   * Register `operationId` for `operation`. Without an id the call cannot be followed or
   * cancelled: it gets a signal that never fires and progress that goes nowhere.
   * @throws KmsError InvalidParameter when the id is already under way
   */
  begin(operation: OperationName, operationId: string | undefined, sink: ProgressSink | undefined): RunningOperation {
    if (operationId === undefined) return { ...UNCONTROLLED, end: () => undefined };
    if (this.running.has(operationId)) {
      throw new KmsError('InvalidParameter', `An operation with OperationId ${operationId} is already under way; give each call a new OperationId.`);
    }
    const controller = new AbortController();
    this.running.set(operationId, controller);
    return {
      signal: controller.signal,
      progress: throttled(operationId, operation, sink),
      end: () => {
        if (this.running.get(operationId) === controller) this.running.delete(operationId);
      },
    };
  }

  /** Ask the operation to stop; false when no operation has this id. */
  cancel(operationId: string): boolean {
    const controller = this.running.get(operationId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  get size(): number {
    return this.running.size;
  }
}

/**
 * Forward updates to `sink`, dropping those that come within PROGRESS_INTERVAL_MS of the last
 * one sent, except a change of phase and the last step (Done = Total), which a bar must show.
 * A failing sink (a window closed meanwhile) never fails the operation.
 */
function throttled(operationId: string, operation: OperationName, sink: ProgressSink | undefined): (u: ProgressUpdate) => void {
  if (!sink) return () => undefined;
  let last: ProgressUpdate | undefined;
  let lastAt = -Infinity;
  return (u) => {
    const at = performance.now();
    const same = last !== undefined && last.Phase === u.Phase && last.Done === u.Done && last.Total === u.Total;
    const newPhase = last?.Phase !== u.Phase;
    const finished = u.Total !== undefined && u.Done === u.Total;
    if (same || (!newPhase && !finished && at - lastAt < PROGRESS_INTERVAL_MS)) return;
    last = { ...u };
    lastAt = at;
    try {
      sink({ OperationId: operationId, Operation: operation, ...u });
    } catch {
      // the listener is gone; the operation goes on
    }
  };
}

const REGISTRIES = new WeakMap<Session, OperationsUnderWay>();

/** The session's registry (one per front door, as the session is). */
export function operationsOf(session: Session): OperationsUnderWay {
  let r = REGISTRIES.get(session);
  if (!r) {
    r = new OperationsUnderWay();
    REGISTRIES.set(session, r);
  }
  return r;
}

/** CancelOperation: the operation answers Cancelled itself, once it has stopped. */
export async function cancelOperation(session: Session, input: OperationInput<'CancelOperation'>): Promise<OperationOutput<'CancelOperation'>> {
  if (!operationsOf(session).cancel(input.OperationId)) {
    throw new KmsError('NotFound.Operation', `No operation with OperationId ${input.OperationId} is under way: it has finished already, or never started.`);
  }
  return { Cancelled: true };
}
