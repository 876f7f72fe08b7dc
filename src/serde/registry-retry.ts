import { TributaryError, withRetries } from '../core/index.ts';
import type { Clock } from '../core/index.ts';

/** How often a registry call is tried while the registry is unavailable. */
export interface RetryOptions {
  /** Tries in all, the first included. Default 4. */
  attempts?: number;
  /** The wait before the second try; each later wait doubles, up to maxDelayMs. Default 250. */
  initialDelayMs?: number;
  /** Default 2000. */
  maxDelayMs?: number;
  /** Waits go through this clock's sleep; default the system clock. */
  clock?: Pick<Clock, 'now' | 'sleep'>;
}

/**
 * Runs a registry call, again after a growing wait (the shared backoff of src/core/retry.ts,
 * without jitter) while it fails with a retriable error (REGISTRY_UNAVAILABLE). The defaults
 * wait 0.25 + 0.5 + 1 s before giving up, the last error then says how many tries were made.
 * Other errors are thrown at once.
 */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  try {
    return await withRetries(call, {
      backoff: {
        baseDelayMs: options.initialDelayMs ?? 250,
        maxDelayMs: options.maxDelayMs ?? 2000,
        jitter: 0,
      },
      attempts,
      isRetriable: (error) => error instanceof TributaryError && error.retriable,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
  } catch (error) {
    // A retriable error thrown here used up the attempts: say so.
    if (attempts === 1 || !(error instanceof TributaryError && error.retriable)) throw error;
    throw new TributaryError(error.code, `${error.message} (tried ${attempts} times)`, {
      cause: error.cause ?? error,
    });
  }
}
