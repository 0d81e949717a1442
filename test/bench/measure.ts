/** How every benchmark here counts: operations per second over a time budget. */
import { performance } from 'node:perf_hooks';

/** Operations per second of a synchronous `op`, run back to back for `seconds` (at least once). */
export function ratePerSecond(seconds: number, op: () => unknown): number {
  const budget = seconds * 1000;
  const start = performance.now();
  let count = 0;
  let elapsed = 0;
  do {
    op();
    count++;
    elapsed = performance.now() - start;
  } while (elapsed < budget);
  return count / (elapsed / 1000);
}

/** The same for an operation that returns a promise, awaited one at a time. */
export async function ratePerSecondAsync(seconds: number, op: () => unknown): Promise<number> {
  const budget = seconds * 1000;
  const start = performance.now();
  let count = 0;
  let elapsed = 0;
  do {
    await op();
    count++;
    elapsed = performance.now() - start;
  } while (elapsed < budget);
  return count / (elapsed / 1000);
}

export const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Median of a list of numbers (the middle one, or the mean of the middle two). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
