import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackEndpoints } from '../../infra/stack/config.ts';

/** Where the local stack's servers listen (the same environment variables as `npm run stack`). */
export const endpoints = stackEndpoints();

/** A name no earlier run used, so tests never see each other's topics, tables or subjects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Polls until check returns a value other than undefined, or fails after timeoutMs. */
export async function eventually<T>(
  what: string | (() => string),
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  const described = typeof what === 'string' ? what : what();
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${described}`, { cause: lastError });
}
