import { TributaryError } from '../core/index.ts';
import type { JoinWindow } from './stream.ts';

function wholeMs(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `${what} of a join window must be a whole number of milliseconds >= 0, got ${value}`,
    );
  }
}

/**
 * The bounds of a stream-stream join, as Kafka Streams' JoinWindows: `joinWindow(minutes(5))`
 * joins records of a key at most 5 minutes apart either way; `before`/`after` make it one-sided
 * (a record of this stream at t joins the other's in [t - before, t + after]). `grace`: how long
 * after that a record may still arrive out of order (default 0).
 */
export function joinWindow(
  differenceMs: number,
  options: { before?: number; after?: number; grace?: number } = {},
): JoinWindow {
  const window = {
    beforeMs: options.before ?? differenceMs,
    afterMs: options.after ?? differenceMs,
    graceMs: options.grace ?? 0,
  };
  wholeMs(window.beforeMs, 'before');
  wholeMs(window.afterMs, 'after');
  wholeMs(window.graceMs, 'the grace');
  return window;
}
