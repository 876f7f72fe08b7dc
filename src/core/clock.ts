import { setTimeout as delay } from 'node:timers/promises';

/** The only source of time: production uses the system clock, tests a manual one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves once `ms` have passed on this clock, or rejects as soon as `signal` aborts (with
   * the signal's reason). Waits (retry backoff, pacing) go through here, so a test's manual
   * clock decides when they end instead of a real timer.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(Math.max(0, ms), undefined, signal === undefined ? {} : { signal });
  },
};
