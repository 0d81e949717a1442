// One way to run an action from a view: busy while it runs, its error kept to be shown where it
// happened, never thrown. A second run while one is under way is ignored (the buttons that start
// it are disabled meanwhile; this holds for Enter and double clicks too).
import { ref, type Ref } from 'vue';

export interface ActionOptions {
  /**
   * Busy from the start, before the first run: a view that runs the action on mount says
   * "Reading…" from its first paint instead of an empty state. Runs are still accepted.
   */
  busy?: boolean;
  /**
   * Called with the error once it is in `error`, while still busy (awaited: the action stays busy
   * until it is done), e.g. to read a list again after a refusal. It must not throw.
   */
  onError?: (e: unknown) => unknown;
  /**
   * Called as busy goes false, after success or failure, in the same tick: what a `finally`
   * empties or closes (passphrase fields, a confirmation dialog).
   */
  onSettled?: () => void;
}

export interface Action<A extends unknown[], R> {
  /** Runs the action; resolves to its result, or to undefined when it failed or was ignored. */
  run: (...args: A) => Promise<R | undefined>;
  busy: Readonly<Ref<boolean>>;
  /** The last run's error, null after a success or a reset. */
  error: Ref<unknown>;
  /** Forgets the error (a form opened again). */
  reset: () => void;
}

export function useAction<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, options: ActionOptions = {}): Action<A, R> {
  const busy = ref(options.busy ?? false);
  const error = ref<unknown>(null);
  /** Not `busy`, which may start true (options.busy) before any run. */
  let running = false;

  async function run(...args: A): Promise<R | undefined> {
    if (running) return undefined;
    running = true;
    busy.value = true;
    error.value = null;
    try {
      return await fn(...args);
    } catch (e) {
      error.value = e;
      try {
        await options.onError?.(e);
      } catch {
        // onError must not throw; if it does, the action's own error is the one kept and shown.
      }
      return undefined;
    } finally {
      running = false;
      busy.value = false;
      options.onSettled?.();
    }
  }

  return {
    run,
    busy,
    error,
    reset: () => {
      error.value = null;
    },
  };
}
