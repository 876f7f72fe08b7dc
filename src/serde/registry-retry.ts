import { setTimeout as sleep } from 'node:timers/promises';

import { TributaryError } from '../core/index.ts';

/** How often a registry call is tried while the registry is unavailable. */
export interface RetryOptions {
  /** Tries in all, the first included. Default 4. */
  attempts?: number;
  /** The wait before the second try; each later wait doubles, up to maxDelayMs. Default 250. */
  initialDelayMs?: number;
  /** Default 2000. */
  maxDelayMs?: number;
}

/**
 * Runs a registry call, again after a growing wait while it fails with a retriable error
 * (REGISTRY_UNAVAILABLE). The defaults wait 0.25 + 0.5 + 1 s before giving up, the last error
 * then says how many tries were made. Other errors are thrown at once.
 */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const maxDelayMs = options.maxDelayMs ?? 2000;
  let delayMs = options.initialDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retriable = error instanceof TributaryError && error.retriable;
      if (!retriable) throw error;
      if (attempt >= attempts) {
        if (attempts === 1) throw error;
        throw new TributaryError(error.code, `${error.message} (tried ${attempts} times)`, {
          cause: error.cause ?? error,
        });
      }
    }
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}
