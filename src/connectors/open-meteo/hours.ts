import { TributaryError } from '../../core/index.ts';
import type { Observation } from './observation.ts';

export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;

/**
 * An hour is complete once it has fully passed: its start + 1 h <= now. Only complete hours are
 * published, so a value is never published while the provider may still revise the hour.
 */
export function isCompleteHour(time: number, now: number): boolean {
  return time + hourMs <= now;
}

/**
 * The observations to publish: complete hours after the high-water mark (the last hour
 * published), one per hour, in time order.
 */
export function hoursToPublish(
  observations: readonly Observation[],
  highWater: number | undefined,
  now: number,
): Observation[] {
  const byTime = new Map<number, Observation>();
  for (const o of observations) {
    if (highWater !== undefined && o.time <= highWater) continue;
    if (!isCompleteHour(o.time, now)) continue;
    byTime.set(o.time, o);
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/** The UTC day of a time, as `YYYY-MM-DD`. */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** Midnight UTC of a `YYYY-MM-DD` day, in ms; CONFIG_INVALID naming `setting` if it is not one. */
export function parseDay(day: string, setting = 'date'): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const time =
    match === null ? NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(time) || utcDay(time) !== day) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `${setting} must be a day as YYYY-MM-DD, got '${day}'`,
    );
  }
  return time;
}

export function addDays(day: string, days: number): string {
  return utcDay(parseDay(day) + days * dayMs);
}

/** Whole days from `from` to `to` (0 when equal). */
export function daysBetween(from: string, to: string): number {
  return Math.round((parseDay(to) - parseDay(from)) / dayMs);
}
