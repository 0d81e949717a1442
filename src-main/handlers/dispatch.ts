/**
 * The single entry every front door (CLI, Electron IPC, e2e host) calls: validate the untrusted
 * input against the contract, run the handler, and return a result object. Errors cross the
 * boundary as data with a stable code (Electron would keep only a thrown error's message).
 */
import { randomUUID } from 'node:crypto';
import { KmsError, type ErrorData } from '../../src-shared/errors';
import { boundEchoes, echo } from '../../src-shared/echo';
import { OPERATIONS, isOperationName, type OperationName } from '../../src-shared/contract/operations';
import type { DispatchResult } from '../../src-shared/contract/api';
import { parseInput } from '../../src-shared/contract/validate';
import type { Session } from '../services/session';
import { HANDLERS, type Handler } from './handlerTable';
import { operationsOf, type ProgressSink } from './operationsUnderWay';
import { recordRefusal } from './refusals';

export type { DispatchResult };

export interface DispatchOptions {
  /** Where the progress events of a long-running call with an OperationId go (its caller only). */
  onProgress?: ProgressSink;
}

/**
 * An error as data. `input` is what the caller sent: a message never repeats more than ECHO_CAP
 * characters of any of its values (boundEchoes, the one place that holds for every message).
 */
export function toErrorData(e: unknown, requestId: string, input?: unknown): ErrorData {
  if (e instanceof KmsError) return { Code: e.code, Message: boundEchoes(e.message, input), RequestId: requestId };
  // Not ours: a library's message may quote its inputs (a key, a scalar), so only its class
  // name crosses the boundary; the RequestId ties the report to the audit log.
  const kind = e instanceof Error ? e.name : typeof e;
  return { Code: 'Internal', Message: `Internal error (${kind}); nothing was changed. Report it with this RequestId.`, RequestId: requestId };
}

export async function dispatch(session: Session, name: string, rawInput: unknown, opts: DispatchOptions = {}): Promise<DispatchResult> {
  const requestId = randomUUID();
  // Set once the input parsed: only then was something attempted that a refusal entry can record.
  let attempted: { name: OperationName; input: Record<string, unknown> } | undefined;
  try {
    if (!isOperationName(name)) throw new KmsError('InvalidParameter', `Unknown operation ${echo(name)}.`);
    const input = parseInput(name, rawInput);
    attempted = { name, input: input as Record<string, unknown> };
    // Registered before any await, so that a CancelOperation sent right after finds it.
    const operationId = OPERATIONS[name].longRunning ? (input as { OperationId?: string }).OperationId : undefined;
    const running = operationsOf(session).begin(name, operationId, opts.onProgress);
    try {
      if (OPERATIONS[name].keystore === 'open') await session.carryOutDueWork();
      const handler = HANDLERS[name] as Handler<OperationName>;
      const value = await handler(input, { session, requestId, signal: running.signal, progress: running.progress });
      // RequestId is also the id of the audit entry the operation wrote, if it wrote one.
      return { ok: true, value: Object.assign({}, value, { RequestId: requestId }) };
    } finally {
      running.end();
    }
  } catch (e) {
    // After the operation's own transaction rolled back: a refusal gets its own entry, with
    // this RequestId (refusals.ts says which codes, and why a locked keystore records none).
    if (attempted) await recordRefusal(session, attempted.name, attempted.input, e, requestId);
    return { ok: false, error: toErrorData(e, requestId, rawInput) };
  }
}
