import type { OpenWindow } from './open-windows.ts';

/**
 * One open window as the operator reads it back. `t`, kept in per-key mode only, is the key's
 * event time when the entry was written: after a restart a key's time is the largest `t` of its
 * open windows (the record that last advanced it always writes an entry of a window still open).
 */
export interface WindowEntry {
  end: number;
  agg: unknown;
  t?: number;
}

/**
 * A window entry as stored (and changelogged) on every update, kept small because it is written
 * per record: `a` the aggregate; `e` end - start for sessions only (a time window's end is its
 * start + size); `d` the key time - start, per key only (>= 0: a record's windows start at or
 * before it). Entries written before this form, `{ end, agg, t? }`, are still read.
 */
export interface StoredWindow {
  a: unknown;
  e?: number;
  d?: number;
}

export function storedWindow(
  agg: unknown,
  start: number,
  end: number,
  session: boolean,
  t: number | undefined,
): StoredWindow {
  const stored: StoredWindow = { a: agg };
  if (session) stored.e = end - start;
  if (t !== undefined) stored.d = t - start;
  return stored;
}

/** The aggregate of a stored window entry, in either form. */
export function storedAggregate(value: unknown): unknown {
  const v = value as StoredWindow | WindowEntry;
  return 'a' in v ? v.a : v.agg;
}

/** A stored window entry read back; `sizeMs` is the time window's size (undefined: session). */
export function readWindow(value: unknown, start: number, sizeMs: number | undefined): WindowEntry {
  const v = value as StoredWindow | WindowEntry;
  if (!('a' in v)) return v;
  const end = v.e !== undefined ? start + v.e : start + (sizeMs ?? 1);
  return v.d === undefined ? { end, agg: v.a } : { end, agg: v.a, t: start + v.d };
}

/**
 * Which event time closes windows and judges lateness: one clock per operator instance (task).
 *
 * - 'partition' (partition-clock.ts): the task's stream time, the largest event time of any key,
 *   as in Kafka Streams.
 * - 'key' (key-clock.ts): each key's own largest event time, as in Quix Streams: right for
 *   devices with their own clocks, reconnect bursts and entity-ordered backfills.
 *
 * The operator calls, per record: (1) `timeWith` to judge lateness before writing anything,
 * (2) `advance` after the record's windows are written, then emits what `advance` returns.
 */
export interface WindowClock {
  /** The event time a record of this key at `t` is judged against: the current time, or `t`. */
  timeWith(keyId: string, keyBytes: Buffer, t: number): number;
  /** The record was accepted; its key's (or the task's) time is now `time`. Returns what closed. */
  advance(keyId: string, keyBytes: Buffer, time: number, now: number): OpenWindow[];
  /** Wall-clock work: idle timeouts, and forgetting what is no longer needed. Returns what closed. */
  punctuate(now: number): OpenWindow[];
  /** The `t` to store with window entries written by a record at `time`, if this clock keeps one. */
  entryTime(time: number): number | undefined;
  /** Restore, for each store entry: true when the entry is the clock's own (not a window). */
  restoreEntry(storeKey: Buffer, value: unknown): boolean;
  /** Restore, for each open window read back. */
  restoreWindow(window: OpenWindow, entry: WindowEntry): void;
  /** Restore is over: `now` is the wall clock. */
  restored(now: number): void;
}

const keyTimeSuffix = Buffer.alloc(8, 0xff);

/**
 * The store key of a key's own time (per-key mode): the encoded key, then 8 bytes 0xff. A window
 * start is a safe integer, so no window key ends with 8 bytes 0xff: the two never collide.
 */
export function keyTimeKey(keyBytes: Buffer): Buffer {
  return Buffer.concat([keyBytes, keyTimeSuffix]);
}

export function isKeyTimeKey(storeKey: Buffer): boolean {
  return storeKey.length >= 8 && storeKey.subarray(storeKey.length - 8).equals(keyTimeSuffix);
}

/** The value stored under keyTimeKey(). */
export interface KeyTimeEntry {
  t: number;
}
