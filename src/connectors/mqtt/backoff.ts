import { systemClock } from '../../core/index.ts';

/** The shared exponential backoff with jitter (src/core/retry.ts); the numbers are this connector's. */
export { backoffDelay } from '../../core/index.ts';
export type { Backoff } from '../../core/index.ts';

/** Waits ms, or rejects as soon as the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) => systemClock.sleep(ms, signal);

/** Runs fn after ms; returns a function that cancels it. Tests pass a manual one. */
export type Schedule = (ms: number, fn: () => void) => () => void;

export const realSchedule: Schedule = (ms, fn) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};
