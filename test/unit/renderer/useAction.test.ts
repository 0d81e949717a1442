/**
 * useAction, the one way a view runs an action: busy while it runs, the error kept (never
 * thrown), a second run while busy ignored, and the hooks called while still busy (onError) or
 * as busy goes false (onSettled). Plain Vue refs: no DOM needed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useAction } from '../../../src-renderer/src/composables/useAction';

/** A promise settled from outside, to look at the action while it is under way. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('useAction', () => {
  it('is busy while running, returns the result, and clears the last error', async () => {
    const gate = deferred<string>();
    const action = useAction((n: number) => gate.promise.then((s) => `${s}${n}`));
    action.error.value = new Error('from before');
    assert.equal(action.busy.value, false);
    const running = action.run(7);
    assert.equal(action.busy.value, true);
    assert.equal(action.error.value, null, 'cleared as the run starts');
    gate.resolve('x');
    assert.equal(await running, 'x7');
    assert.equal(action.busy.value, false);
    assert.equal(action.error.value, null);
  });

  it('never throws: a failure lands in `error` and run resolves to undefined', async () => {
    const refusal = new Error('refused');
    const action = useAction(async () => {
      throw refusal;
    });
    assert.equal(await action.run(), undefined);
    assert.equal(action.error.value, refusal);
    assert.equal(action.busy.value, false);
    action.reset();
    assert.equal(action.error.value, null);

    const syncThrow = useAction((): number => {
      throw refusal;
    });
    assert.equal(await syncThrow.run(), undefined);
    assert.equal(syncThrow.error.value, refusal);
  });

  it('ignores a second run while one is under way', async () => {
    const gate = deferred<void>();
    let calls = 0;
    const action = useAction(async () => {
      calls += 1;
      await gate.promise;
      return calls;
    });
    const first = action.run();
    assert.equal(await action.run(), undefined, 'ignored at once');
    gate.resolve();
    assert.equal(await first, 1);
    assert.equal(calls, 1);
    assert.equal(await action.run(), 2, 'accepted again once settled');
  });

  it('calls onError with the error set and still busy (awaited), then onSettled as busy goes false', async () => {
    const seen: string[] = [];
    const refusal = new Error('no');
    const action = useAction(
      async () => {
        throw refusal;
      },
      {
        onError: async (e) => {
          seen.push(`onError ${e === refusal} error=${action.error.value === refusal} busy=${action.busy.value}`);
          await Promise.resolve();
          seen.push(`onError done busy=${action.busy.value}`);
        },
        onSettled: () => seen.push(`onSettled busy=${action.busy.value} error=${action.error.value === refusal}`),
      },
    );
    await action.run();
    assert.deepEqual(seen, ['onError true error=true busy=true', 'onError done busy=true', 'onSettled busy=false error=true']);
  });

  it('keeps the action\'s own error when onError fails', async () => {
    const refusal = new Error('refused');
    const action = useAction(
      async () => {
        throw refusal;
      },
      {
        onError: () => {
          throw new Error('hook');
        },
      },
    );
    assert.equal(await action.run(), undefined);
    assert.equal(action.error.value, refusal);
  });

  it('calls onSettled after a success too', async () => {
    let settled = 0;
    const action = useAction(async () => 'ok', { onSettled: () => (settled += 1) });
    assert.equal(await action.run(), 'ok');
    assert.equal(settled, 1);
  });

  it('may start busy (a view that loads on mount), and still accepts the first run', async () => {
    const action = useAction(async () => 'loaded', { busy: true });
    assert.equal(action.busy.value, true);
    assert.equal(await action.run(), 'loaded');
    assert.equal(action.busy.value, false);
  });
});
