import { setTimeout as delay } from 'node:timers/promises';

import { isRetriable } from './errors.ts';

/** How a failed request is retried: exponential backoff with jitter, a bounded number of attempts. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  attempts: number;
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** No delay exceeds this (a server's Retry-After included). */
  maxDelayMs: number;
  /**
   * The share of each delay that is random, in [0, 1]: a delay d becomes a value in
   * [d * (1 - jitter), d], so many clients retrying together spread out instead of colliding.
   */
  jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 0.5,
};

/** Waits ms, or rejects as soon as the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal === undefined ? {} : { signal });
};

/**
 * The wait before retry number `retry` (1 = the first retry): baseDelayMs * 2^(retry-1), capped
 * at maxDelayMs, of which the `jitter` share is random; at least `floorMs` (a Retry-After).
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
  floorMs = 0,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = exponential * (1 - policy.jitter) + exponential * policy.jitter * random();
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, floorMs)));
}

export interface RetryContext {
  policy: RetryPolicy;
  sleep?: Sleep;
  random?: () => number;
  /** Aborting stops the retries: the error of the last attempt is thrown. */
  signal?: AbortSignal;
  /** Called before each wait, with the error of the failed attempt. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
}

/**
 * Runs attempt until it succeeds, throws an error that is not retriable, or the attempts are
 * used up; then throws the last error.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  context: RetryContext,
): Promise<T> {
  const { policy, sleep = realSleep, random = Math.random, signal, onRetry } = context;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.attempts || !isRetriable(error) || signal?.aborted === true) throw error;
      const retryAfter =
        typeof error === 'object' && error !== null && 'retryAfterMs' in error
          ? Number(error.retryAfterMs ?? 0)
          : 0;
      const wait = backoffDelay(n, policy, random, retryAfter);
      onRetry?.(error, n, wait);
      try {
        await sleep(wait, signal);
      } catch {
        throw error; // stopped while waiting: give up with the error that made us wait
      }
    }
  }
}
