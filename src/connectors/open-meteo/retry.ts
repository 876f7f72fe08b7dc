import { backoffDelay, systemClock, withRetries as retryWithBackoff } from '../../core/index.ts';
import type { Backoff } from '../../core/index.ts';
import { isRetriable } from './errors.ts';

export { backoffDelay };

/**
 * How a failed request is retried: the shared exponential backoff with jitter
 * (src/core/retry.ts), a bounded number of attempts. What is retried is this connector's
 * policy: HttpSourceErrors marked retriable (5xx, 429, network errors), at least the server's
 * Retry-After apart.
 */
export interface RetryPolicy extends Backoff {
  /** Attempts in all, the first included (1: no retry). */
  attempts: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 0.5,
};

/** Waits ms, or rejects as soon as the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) => systemClock.sleep(ms, signal);

export interface RetryContext {
  policy: RetryPolicy;
  sleep?: Sleep;
  random?: () => number;
  /** Aborting stops the retries: the error of the last attempt is thrown. */
  signal?: AbortSignal;
  /** Called before each wait, with the error of the failed attempt. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
}

/** A server's Retry-After (in ms) carried by the error, else 0. */
function retryAfterOf(error: unknown): number {
  return typeof error === 'object' && error !== null && 'retryAfterMs' in error
    ? Number(error.retryAfterMs ?? 0)
    : 0;
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
  return retryWithBackoff(attempt, {
    backoff: policy,
    attempts: policy.attempts,
    isRetriable,
    floorMs: retryAfterOf,
    clock: { now: systemClock.now, sleep },
    random,
    ...(signal === undefined ? {} : { signal }),
    ...(onRetry === undefined ? {} : { onRetry }),
  });
}
