/**
 * Timers that run only when the test moves time on (services/autoLock.ts's Timers): the auto-lock
 * unit tests and the e2e host's auto-lock use them, so no test waits for real minutes or
 * asserts a time.
 */
import type { Timers } from '../../src-main/services/autoLock';

export class ManualTimers implements Timers {
  private now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Move time on by `ms`, running every timer that falls due on the way, earliest first. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.pending) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = end;
  }

  /** How long until the next timer falls due; undefined when none is pending. */
  get msToNext(): number | undefined {
    let next: number | undefined;
    for (const { at } of this.pending.values()) if (next === undefined || at < next) next = at;
    return next === undefined ? undefined : next - this.now;
  }
}
