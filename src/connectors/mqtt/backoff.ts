import { setTimeout as delay } from 'node:timers/promises';

/** Exponential backoff: baseDelayMs doubling per attempt up to maxDelayMs, a `jitter` share random. */
export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
  /** The share of each delay that is random, in [0, 1] (a delay d becomes one in [d(1-jitter), d]). */
  jitter: number;
}

/** Waits ms, or rejects as soon as the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal === undefined ? {} : { signal });
};

/** Runs fn after ms; returns a function that cancels it. Tests pass a manual one. */
export type Schedule = (ms: number, fn: () => void) => () => void;

export const realSchedule: Schedule = (ms, fn) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

/** The wait before retry number `retry` (1 = the first). */
export function backoffDelay(retry: number, backoff: Backoff, random: () => number): number {
  const exponential = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (retry - 1));
  return Math.round(exponential * (1 - backoff.jitter) + exponential * backoff.jitter * random());
}
