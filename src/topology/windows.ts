import { TributaryError } from '../core/index.ts';
import type { WindowSpec } from './plan.ts';

/** Fixed-size windows that do not overlap: `[k * size, (k + 1) * size)`. */
export type TumblingWindow = Extract<WindowSpec, { type: 'tumbling' }>;
/** Fixed-size windows starting every `advanceMs`: a record is in `sizeMs / advanceMs` of them. */
export type HoppingWindow = Extract<WindowSpec, { type: 'hopping' }>;
/** Per-key sessions of activity: records at most `gapMs` apart belong to one session. */
export type SessionWindow = Extract<WindowSpec, { type: 'session' }>;

export interface WindowOptions {
  /** How long after a window's end (in event time) a late record still counts; default 0. */
  grace?: number;
}

export const seconds = (n: number): number => n * 1000;
export const minutes = (n: number): number => n * 60_000;
export const hours = (n: number): number => n * 3_600_000;
export const days = (n: number): number => n * 86_400_000;

function positive(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `${what} must be a positive whole number of milliseconds, got ${value}`,
    );
  }
}

function graceOf(window: string, options: WindowOptions): number {
  const grace = options.grace ?? 0;
  if (!Number.isSafeInteger(grace) || grace < 0) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `the grace of a ${window} window must be a whole number of milliseconds >= 0, got ${grace}`,
    );
  }
  return grace;
}

/**
 * Checks a window however it was made (the builders below, or an object literal), so the
 * operator can rely on whole positive sizes and `advanceMs <= sizeMs`.
 */
export function checkWindow(window: WindowSpec): void {
  switch (window.type) {
    case 'tumbling':
      positive(window.sizeMs, 'the size of a tumbling window');
      break;
    case 'hopping':
      positive(window.sizeMs, 'the size of a hopping window');
      positive(window.advanceMs, 'the advance of a hopping window');
      if (window.advanceMs > window.sizeMs) {
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `the advance of a hopping window (${window.advanceMs} ms) must not exceed its size (${window.sizeMs} ms), or records between windows would be lost`,
        );
      }
      break;
    case 'session':
      positive(window.gapMs, 'the gap of a session window');
      break;
    default:
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `unknown window type '${(window as { type: unknown }).type}': use tumbling(), hopping() or session()`,
      );
  }
  graceOf(window.type, { grace: window.graceMs });
}

/** `tumbling(hours(1), { grace: minutes(5) })`: hourly windows accepting records 5 minutes late. */
export function tumbling(sizeMs: number, options: WindowOptions = {}): TumblingWindow {
  const window: TumblingWindow = {
    type: 'tumbling',
    sizeMs,
    graceMs: graceOf('tumbling', options),
  };
  checkWindow(window);
  return window;
}

/** `hopping(hours(1), minutes(5))`: one-hour windows starting every five minutes. */
export function hopping(
  sizeMs: number,
  advanceMs: number,
  options: WindowOptions = {},
): HoppingWindow {
  const graceMs = graceOf('hopping', options);
  const window: HoppingWindow = { type: 'hopping', sizeMs, advanceMs, graceMs };
  checkWindow(window);
  return window;
}

/** `session(minutes(30))`: a key's records at most 30 minutes apart form one session. */
export function session(gapMs: number, options: WindowOptions = {}): SessionWindow {
  const window: SessionWindow = { type: 'session', gapMs, graceMs: graceOf('session', options) };
  checkWindow(window);
  return window;
}

/** How describe() shows a window: `tumbling 3600000 ms, grace 300000 ms`. */
export function windowText(window: WindowSpec): string {
  switch (window.type) {
    case 'tumbling':
      return `tumbling ${window.sizeMs} ms, grace ${window.graceMs} ms`;
    case 'hopping':
      return `hopping ${window.sizeMs} ms advance ${window.advanceMs} ms, grace ${window.graceMs} ms`;
    case 'session':
      return `session gap ${window.gapMs} ms, grace ${window.graceMs} ms`;
  }
}
