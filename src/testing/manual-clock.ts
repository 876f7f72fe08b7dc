import type { Clock } from '../core/index.ts';

interface Sleeper {
  due: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told: tests drive time instead of sleeping. A `sleep` resolves
 * when `advance` or `set` moves the clock to (or past) its end, never by itself.
 */
export class ManualClock implements Clock {
  private sleepers: Sleeper[] = [];

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = { due: this.time + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(abortReason(signal));
        },
        { once: true },
      );
    });
  }

  /** How many sleeps are waiting for the clock to move. */
  pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** When the earliest waiting sleep ends, if any waits. */
  nextWakeAt(): number | undefined {
    return this.sleepers.reduce<number | undefined>(
      (earliest, s) => (earliest === undefined || s.due < earliest ? s.due : earliest),
      undefined,
    );
  }

  advance(ms: number): void {
    this.set(this.time + ms);
  }

  set(ms: number): void {
    this.time = ms;
    // (1) wake the sleeps that are due, earliest first; (2) keep the others waiting.
    const due = this.sleepers.filter((s) => s.due <= ms).sort((a, b) => a.due - b.due);
    this.sleepers = this.sleepers.filter((s) => s.due > ms);
    for (const s of due) s.resolve();
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}
