import type { Clock } from '../core/index.ts';

/** A clock that moves only when told: tests drive time instead of sleeping. */
export class ManualClock implements Clock {
  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  set(ms: number): void {
    this.time = ms;
  }
}
