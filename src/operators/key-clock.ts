import type { StateStore } from '../state/index.ts';
import { MinHeap } from './min-heap.ts';
import { byStartThenKey } from './open-windows.ts';
import type { OpenWindow, OpenWindows } from './open-windows.ts';
import { keyTimeKey, isKeyTimeKey } from './window-clock.ts';
import type { KeyTimeEntry, WindowClock, WindowEntry } from './window-clock.ts';

/** What the operator keeps in memory per key with at least one open window. */
interface KeyState {
  /** The key's event time: the largest of its records' times. */
  time: number;
  /** Wall-clock time of the key's last record. */
  lastRecordAt: number;
  /** Whether the key has an item in the idle queue. */
  scheduled: boolean;
  keyBytes: Buffer;
}

interface IdleCheck {
  /** Wall-clock time at which to look at the key again. */
  at: number;
  keyId: string;
}

interface Retained {
  time: number;
  keyId: string;
  keyBytes: Buffer;
}

/**
 * Per-key event time: each key's windows close when the key's own time passes their close time
 * (end + grace), and a record is late against its key's time only. A device whose clock runs
 * ahead, a device that publishes hours of buffered readings, or a backfill that sends location
 * after location closes and judges only its own windows.
 *
 * An idle timeout (wall clock) closes all of a quiet key's windows: the end of a backfill, a
 * device switched off. Its time then becomes the latest close time among them.
 *
 * Bounded work:
 * - a record closes only its key's windows (a handful) and never looks at other keys;
 * - with an idle timeout, keys with open windows wait in a min-heap by the wall-clock time at
 *   which to look at them again; a key that got records since is pushed back to its new due
 *   time when it reaches the top (lazily), so a punctuation touches only due keys;
 * - keys with no open window have no KeyState.
 *
 * Where the time lives (so restore, checkpoints and exactly-once carry it like any state):
 * - in the `t` of each window entry the key writes (the largest is the key's time: the record
 *   that advanced it wrote a window that is still open), so no extra write per record;
 * - under keyTimeKey(key) once the idle timeout closed the key's windows. Such a windowless
 *   key's time is "retained" for `retentionMs` of event time (measured by the largest time of any
 *   key of the task), so a straggler of a window already emitted is judged late instead of
 *   opening the window again (which would upsert a partial aggregate over the full one); then it
 *   is forgotten (its entry deleted), and a later record of the key starts afresh.
 */
export class KeyClock implements WindowClock {
  private readonly keys = new Map<string, KeyState>();
  private readonly idleQueue = new MinHeap<IdleCheck>((a, b) => a.at < b.at);
  private readonly retained = new MinHeap<Retained>((a, b) => a.time < b.time);
  /** The largest time of any key: what retained keys expire against. */
  private maxTime = Number.NEGATIVE_INFINITY;
  private restoredTimes = new Map<string, { time: number; keyBytes: Buffer }>();

  constructor(
    private readonly store: StateStore<unknown>,
    private readonly open: OpenWindows,
    private readonly idleTimeoutMs: number | undefined,
    private readonly retentionMs: number,
  ) {}

  /** Keys with an open window (for tests and metrics). */
  get activeKeys(): number {
    return this.keys.size;
  }

  /** Windowless keys whose time is still retained. */
  get retainedKeys(): number {
    return this.retained.size;
  }

  timeWith(keyId: string, keyBytes: Buffer, t: number): number {
    const state = this.keys.get(keyId);
    if (state !== undefined) return Math.max(state.time, t);
    const kept = this.store.get(keyTimeKey(keyBytes)) as KeyTimeEntry | undefined;
    return kept === undefined ? t : Math.max(kept.t, t);
  }

  advance(keyId: string, keyBytes: Buffer, time: number, now: number): OpenWindow[] {
    let state = this.keys.get(keyId);
    if (state === undefined) {
      // A new key, or one whose time was retained: its window entries carry its time from now on.
      const timeKey = keyTimeKey(keyBytes);
      if (this.store.get(timeKey) !== undefined) this.store.delete(timeKey);
      state = { time, lastRecordAt: now, scheduled: false, keyBytes };
      this.keys.set(keyId, state);
    } else {
      if (time > state.time) state.time = time;
      state.lastRecordAt = now;
    }
    if (state.time > this.maxTime) this.maxTime = state.time;
    this.schedule(keyId, state, now + (this.idleTimeoutMs ?? 0));
    return this.open.takeClosedOfKey(keyId, state.time);
  }

  /**
   * 1. keys whose idle timeout passed (no record of the key for that long): all their windows
   *    close (see idleClose);
   * 2. retained times older than the retention are forgotten.
   */
  punctuate(now: number): OpenWindow[] {
    const closed: OpenWindow[] = [];
    const idle = this.idleTimeoutMs;
    for (let top = this.idleQueue.peek(); idle !== undefined && top !== undefined;) {
      if (top.at > now) break;
      this.idleQueue.pop();
      const state = this.keys.get(top.keyId);
      if (state !== undefined) {
        state.scheduled = false;
        const due = state.lastRecordAt + idle;
        if (due > now) this.schedule(top.keyId, state, due);
        else closed.push(...this.idleClose(top.keyId, state));
      }
      top = this.idleQueue.peek();
    }
    for (let top = this.retained.peek(); top !== undefined; top = this.retained.peek()) {
      if (top.time + this.retentionMs > this.maxTime) break;
      this.retained.pop();
      const timeKey = keyTimeKey(top.keyBytes);
      const kept = this.store.get(timeKey) as KeyTimeEntry | undefined;
      if (!this.keys.has(top.keyId) && kept?.t === top.time) this.store.delete(timeKey);
    }
    return closed.sort(byStartThenKey);
  }

  entryTime(time: number): number {
    return time;
  }

  restoreEntry(storeKey: Buffer, value: unknown): boolean {
    if (!isKeyTimeKey(storeKey)) return false;
    const keyBytes = storeKey.subarray(0, storeKey.length - 8);
    this.noteRestored(keyBytes.toString('latin1'), keyBytes, (value as KeyTimeEntry).t);
    return true;
  }

  restoreWindow(window: OpenWindow, entry: WindowEntry): void {
    const keyBytes = window.storeKey.subarray(0, window.storeKey.length - 8);
    // An entry without `t` was written in per-partition mode: its window's start is a lower bound.
    this.noteRestored(window.keyId, keyBytes, entry.t ?? window.start);
  }

  restored(now: number): void {
    for (const [keyId, { time, keyBytes }] of this.restoredTimes) {
      if (time > this.maxTime) this.maxTime = time;
      if (this.open.ofKey(keyId).length === 0) {
        this.retained.push({ time, keyId, keyBytes });
        continue;
      }
      const state = { time, lastRecordAt: now, scheduled: false, keyBytes };
      this.keys.set(keyId, state);
      this.schedule(keyId, state, now + (this.idleTimeoutMs ?? 0));
    }
    this.restoredTimes = new Map();
  }

  private noteRestored(keyId: string, keyBytes: Buffer, time: number): void {
    const seen = this.restoredTimes.get(keyId);
    if (seen === undefined) this.restoredTimes.set(keyId, { time, keyBytes });
    else if (time > seen.time) seen.time = time;
  }

  private schedule(keyId: string, state: KeyState, at: number): void {
    if (this.idleTimeoutMs === undefined || state.scheduled) return;
    state.scheduled = true;
    this.idleQueue.push({ at, keyId });
  }

  /**
   * The key has had no record for its idle timeout: all its windows close now. Its time moves to
   * the latest close time among them, so a straggler of a window just emitted is late instead of
   * opening it again; the time is stored (no window entry holds it any more) and retained.
   */
  private idleClose(keyId: string, state: KeyState): OpenWindow[] {
    const closed = this.open.takeClosedOfKey(keyId, Number.POSITIVE_INFINITY);
    for (const w of closed) if (w.closeAt > state.time) state.time = w.closeAt;
    if (state.time > this.maxTime) this.maxTime = state.time;
    this.store.put(keyTimeKey(state.keyBytes), { t: state.time } satisfies KeyTimeEntry);
    this.keys.delete(keyId);
    this.retained.push({ time: state.time, keyId, keyBytes: state.keyBytes });
    return closed;
  }
}
