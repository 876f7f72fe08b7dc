import type { StateStore } from '../state/index.ts';
import type { OpenWindow, OpenWindows } from './open-windows.ts';
import { isKeyTimeKey } from './window-clock.ts';
import type { KeyTimeEntry, WindowClock, WindowEntry } from './window-clock.ts';

/** The reserved store key of the stream time (per-partition mode). */
export const streamTimeKey = Buffer.from([0xff]);

interface StreamTimeEntry {
  streamTime: number;
}

/**
 * Per-partition event time, Kafka Streams' rule: the task's stream time is the largest event time
 * seen in its partition, stored under the one-byte key 0xff (window keys are at least 8 bytes
 * long, so they never collide). A window closes when its close time <= stream time; the open
 * windows are indexed by close time (a min-heap), so a record never scans the store. With an
 * idle timeout, a quiet partition's stream time follows the wall clock once the timeout passed.
 */
export class PartitionClock implements WindowClock {
  private streamTime = Number.NEGATIVE_INFINITY;
  // Wall-clock times of the last record and of the last advance of stream time.
  private lastRecordAt = 0;
  private lastAdvanceAt = 0;
  // Per-key entries' times, read when the store has no stream time (written in per-key mode).
  private restoredKeyTime = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: StateStore<unknown>,
    private readonly open: OpenWindows,
    private readonly idleTimeoutMs: number | undefined,
  ) {}

  timeWith(_keyId: string, _keyBytes: Buffer, t: number): number {
    return Math.max(this.streamTime, t);
  }

  advance(_keyId: string, _keyBytes: Buffer, time: number, now: number): OpenWindow[] {
    this.advanceTo(time);
    this.lastRecordAt = this.lastAdvanceAt = now;
    return this.open.takeClosed(this.streamTime);
  }

  punctuate(now: number): OpenWindow[] {
    const idle = this.idleTimeoutMs;
    if (idle !== undefined && Number.isFinite(this.streamTime) && now - this.lastRecordAt >= idle) {
      if (now > this.lastAdvanceAt) this.advanceTo(this.streamTime + (now - this.lastAdvanceAt));
      this.lastAdvanceAt = Math.max(this.lastAdvanceAt, now);
    }
    return this.open.takeClosed(this.streamTime);
  }

  entryTime(): undefined {
    return undefined;
  }

  restoreEntry(storeKey: Buffer, value: unknown): boolean {
    if (isKeyTimeKey(storeKey)) {
      this.restoredKeyTime = Math.max(this.restoredKeyTime, (value as KeyTimeEntry).t);
      return true;
    }
    if (!storeKey.equals(streamTimeKey)) return false;
    this.streamTime = (value as StreamTimeEntry).streamTime;
    return true;
  }

  restoreWindow(_window: OpenWindow, entry: WindowEntry): void {
    if (entry.t !== undefined && entry.t > this.restoredKeyTime) this.restoredKeyTime = entry.t;
  }

  restored(now: number): void {
    // A store last written in per-key mode has no stream time: its keys' largest time is one.
    if (this.streamTime === Number.NEGATIVE_INFINITY) this.streamTime = this.restoredKeyTime;
    this.lastRecordAt = this.lastAdvanceAt = now;
  }

  private advanceTo(time: number): void {
    if (time <= this.streamTime) return;
    this.streamTime = time;
    this.store.put(streamTimeKey, { streamTime: time } satisfies StreamTimeEntry);
  }
}
