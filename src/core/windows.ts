// Event-time window kinds, shared by the DSL (src/topology/windows.ts makes them) and the
// aggregate operator (src/operators/window-aggregate.ts runs them).

/**
 * A kind of event-time window: which windows `[start, start + sizeMs)` a timestamp falls in.
 * tumbling(), hopping() and sliding() make one; any object with these members is one too (a
 * calendar-aligned kind, say), and the aggregate operator runs it like the built-in ones.
 */
export interface TimeWindowKind {
  /** The kind's name, shown by describe(); any name but 'session'. */
  readonly type: string;
  /** Every window's length: whole milliseconds > 0. */
  readonly sizeMs: number;
  /** How long after a window's end (in event time) a late record still counts: >= 0. */
  readonly graceMs: number;
  /**
   * The starts of the windows containing `timestamp` (ms since the epoch, >= 0): each start
   * satisfies `start <= timestamp < start + sizeMs` and is >= 0, whole, ascending. The same
   * timestamp must always give the same starts (windows are found again by their start).
   */
  windowStarts(timestamp: number): number[];
}

/** Per-key sessions: not a TimeWindowKind, since sessions grow and merge with each record. */
export interface SessionWindowSpec {
  readonly type: 'session';
  readonly gapMs: number;
  readonly graceMs: number;
}

/** Event-time windows. Sizes in milliseconds; `graceMs` is how late a record may still count. */
export type WindowSpec = TimeWindowKind | SessionWindowSpec;

/** Whether a window is a session window (a time kind never has the type 'session'). */
export function isSessionWindow(window: WindowSpec): window is SessionWindowSpec {
  return window.type === 'session';
}
