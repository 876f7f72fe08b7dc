import { TributaryError } from '../core/index.ts';
import { isSessionWindow } from './plan.ts';
import type { SessionWindowSpec, TimeWindowKind, WindowSpec } from './plan.ts';
import { windowStarts } from './window-starts.ts';

/** Fixed-size windows that do not overlap: `[k * size, (k + 1) * size)`. */
export interface TumblingWindow extends TimeWindowKind {
  readonly type: 'tumbling';
}
/** Fixed-size windows starting every `advanceMs`: a record is in `sizeMs / advanceMs` of them. */
export interface HoppingWindow extends TimeWindowKind {
  readonly type: 'hopping';
  readonly advanceMs: number;
}
/**
 * Flink's sliding windows: `[k * slide + offset, k * slide + offset + size)` for every whole k,
 * with `0 <= offsetMs < slideMs <= sizeMs`; none starts before the epoch.
 */
export interface SlidingWindow extends TimeWindowKind {
  readonly type: 'sliding';
  readonly slideMs: number;
  readonly offsetMs: number;
}
/** Per-key sessions of activity: records at most `gapMs` apart belong to one session. */
export type SessionWindow = SessionWindowSpec;

export interface WindowOptions {
  /** How long after a window's end (in event time) a late record still counts; default 0. */
  grace?: number;
}

export interface SlidingWindowOptions extends WindowOptions {
  /**
   * Shifts the windows from the epoch: whole ms in `(-slide, slide)`, default 0. Daily windows
   * from a local midnight at UTC+1 take `-hours(1)` (stored as `slide - 1 h`, the same windows).
   */
  offset?: number;
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

function notAbove(what: string, value: number, limit: string, limitValue: number): void {
  if (value > limitValue) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `the ${what} (${value} ms) must not exceed its ${limit} (${limitValue} ms), or records between windows would be lost`,
    );
  }
}

/** The checks of a time window kind the operator relies on, whatever made it. */
function checkTimeWindow(window: TimeWindowKind): void {
  const { type } = window as { type: unknown };
  if (typeof type !== 'string' || type === '') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `unknown window type '${String(type)}': use tumbling(), hopping(), sliding(), session() or a TimeWindowKind`,
    );
  }
  positive(window.sizeMs, `the size of a ${type} window`);
  if (typeof (window as { windowStarts: unknown }).windowStarts !== 'function') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `a ${type} window needs windowStarts(timestamp): use tumbling(), hopping(), sliding(), session() or a TimeWindowKind`,
    );
  }
  // 1. The built-in kinds' own parameters (a hand-made object of such a type included).
  if (type === 'hopping') {
    const { advanceMs } = window as HoppingWindow;
    positive(advanceMs, 'the advance of a hopping window');
    notAbove('advance of a hopping window', advanceMs, 'size', window.sizeMs);
  } else if (type === 'sliding') {
    const { slideMs, offsetMs } = window as SlidingWindow;
    positive(slideMs, 'the slide of a sliding window');
    notAbove('slide of a sliding window', slideMs, 'size', window.sizeMs);
    if (!Number.isSafeInteger(offsetMs) || offsetMs < 0 || offsetMs >= slideMs) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `the offset of a sliding window must be a whole number of milliseconds in [0, slide), got ${offsetMs}`,
      );
    }
  }
}

/**
 * Checks a window however it was made (the builders below, an object literal, a user's
 * TimeWindowKind), so the operator can rely on whole positive sizes, a grace >= 0, and for the
 * built-in kinds `advanceMs <= sizeMs` and `slideMs <= sizeMs`. Sessions are checked apart: they
 * are not a time window kind.
 */
export function checkWindow(window: WindowSpec): void {
  if (isSessionWindow(window)) positive(window.gapMs, 'the gap of a session window');
  else checkTimeWindow(window);
  graceOf(window.type, { grace: window.graceMs });
}

/**
 * A built-in kind: its data as enumerable fields (what describe() and plan comparisons see) and
 * windowStarts as a hidden method, frozen since the plan keeps it without copying.
 */
function kind<W extends TimeWindowKind>(
  fields: Omit<W, 'windowStarts'>,
  windowStarts: (timestamp: number) => number[],
): W {
  Object.defineProperty(fields, 'windowStarts', { value: windowStarts, enumerable: false });
  return Object.freeze(fields) as W;
}

/** `tumbling(hours(1), { grace: minutes(5) })`: hourly windows accepting records 5 minutes late. */
export function tumbling(sizeMs: number, options: WindowOptions = {}): TumblingWindow {
  const graceMs = graceOf('tumbling', options);
  const window = kind<TumblingWindow>({ type: 'tumbling', sizeMs, graceMs }, (timestamp) =>
    windowStarts(timestamp, sizeMs, sizeMs, 0),
  );
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
  const window = kind<HoppingWindow>({ type: 'hopping', sizeMs, advanceMs, graceMs }, (timestamp) =>
    windowStarts(timestamp, sizeMs, advanceMs, 0),
  );
  checkWindow(window);
  return window;
}

/**
 * `sliding(days(1), days(1), { offset: -hours(1) })`: daily windows from midnight at UTC+1;
 * `sliding(hours(1), minutes(10), { offset: minutes(5) })`: hour-long windows starting at 5, 15,
 * 25 ... past each hour. Flink's SlidingEventTimeWindows (size, slide, offset); the slide must not
 * exceed the size.
 */
export function sliding(
  sizeMs: number,
  slideMs: number,
  options: SlidingWindowOptions = {},
): SlidingWindow {
  const graceMs = graceOf('sliding', options);
  const offset = options.offset ?? 0;
  positive(slideMs, 'the slide of a sliding window');
  if (!Number.isSafeInteger(offset) || Math.abs(offset) >= slideMs) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `the offset of a sliding window must be a whole number of milliseconds in (-slide, slide) = (-${slideMs}, ${slideMs}), got ${offset}`,
    );
  }
  // 1. A negative offset names the same windows as offset + slide.
  const offsetMs = offset < 0 ? offset + slideMs : offset;
  const window = kind<SlidingWindow>(
    { type: 'sliding', sizeMs, slideMs, offsetMs, graceMs },
    (timestamp) => windowStarts(timestamp, sizeMs, slideMs, offsetMs),
  );
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
  const grace = `grace ${window.graceMs} ms`;
  if (isSessionWindow(window)) return `session gap ${window.gapMs} ms, ${grace}`;
  // 1. The built-in kinds show their parameters; another kind, its name and size.
  if (window.type === 'hopping') {
    const { advanceMs } = window as HoppingWindow;
    return `hopping ${window.sizeMs} ms advance ${advanceMs} ms, ${grace}`;
  }
  if (window.type === 'sliding') {
    const { slideMs, offsetMs } = window as SlidingWindow;
    return `sliding ${window.sizeMs} ms slide ${slideMs} ms offset ${offsetMs} ms, ${grace}`;
  }
  return `${window.type} ${window.sizeMs} ms, ${grace}`;
}
