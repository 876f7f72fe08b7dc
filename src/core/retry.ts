import { systemClock } from './clock.ts';
import type { Clock } from './clock.ts';

/**
 * Exponential backoff: the wait before retry n is baseDelayMs * 2^(n-1), capped at maxDelayMs,
 * of which the `jitter` share is random. The one backoff of the project: HTTP polling, MQTT
 * reconnects and sends, schema registry calls, Kafka faults and external sink writes all use it
 * with their own numbers (their policy, what they retry, stays with them).
 */
export interface Backoff {
  /** The wait before the first retry, before jitter. */
  baseDelayMs: number;
  /** No wait exceeds this. */
  maxDelayMs: number;
  /**
   * The share of each wait that is random, in [0, 1]: a wait d becomes one in [d(1-jitter), d],
   * so that clients which failed together do not retry together. 0.5 is "equal jitter".
   */
  jitter: number;
}

/**
 * The wait before retry number `retry` (1 = the first retry), at least `floorMs` (a server's
 * Retry-After) but never above maxDelayMs. `random` returns a value in [0, 1).
 */
export function backoffDelay(
  retry: number,
  backoff: Backoff,
  random: () => number = Math.random,
  floorMs = 0,
): number {
  // The exponent is bounded so that a long outage (retry 1000) does not overflow to Infinity.
  const exponent = Math.min(Math.max(retry - 1, 0), 30);
  const exponential = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** exponent);
  const jittered = exponential * (1 - backoff.jitter) + exponential * backoff.jitter * random();
  return Math.round(Math.min(backoff.maxDelayMs, Math.max(jittered, floorMs)));
}

export interface RetryOptions {
  backoff: Backoff;
  /** Whether an error is worth another attempt: the caller's policy. */
  isRetriable: (error: unknown) => boolean;
  /** Attempts in all, the first included (1: no retry). Default: no limit. */
  attempts?: number;
  /**
   * Give up once this many ms have passed since the first attempt: no wait is started that
   * would end after it. Default: no deadline.
   */
  deadlineMs?: number;
  /** Time and waiting; default the system clock. Tests pass a ManualClock. */
  clock?: Pick<Clock, 'now' | 'sleep'>;
  random?: () => number;
  /** Aborting stops the retries: the error of the last attempt is thrown. */
  signal?: AbortSignal;
  /** The least wait after an error (a server's Retry-After), in ms. */
  floorMs?: (error: unknown) => number;
  /** Called before each wait, with the error of the failed attempt. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
}

/**
 * Runs `attempt` (numbered from 1) until it succeeds, throws an error the caller does not retry,
 * the attempts or the deadline are used up, or the signal aborts; then throws the last error.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { backoff, isRetriable, clock = systemClock, random = Math.random, signal } = options;
  const attempts = options.attempts ?? Infinity;
  const began = clock.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= attempts || signal?.aborted === true || !isRetriable(error)) throw error;
      const wait = backoffDelay(n, backoff, random, options.floorMs?.(error) ?? 0);
      if (options.deadlineMs !== undefined && clock.now() + wait - began > options.deadlineMs)
        throw error;
      options.onRetry?.(error, n, wait);
      try {
        await clock.sleep(wait, signal);
      } catch {
        throw error; // stopped while waiting: give up with the error that made us wait
      }
    }
  }
}
