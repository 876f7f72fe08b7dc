import type { Clock } from '../core/index.ts';
import type { TimestampLimits } from '../kafka/index.ts';

/**
 * How long a record may take from the check (when its sink emits it) to its append: the broker's
 * lower bound moves forward meanwhile, so the check of `before.max.ms` keeps this much in hand.
 * (The upper bound moves forward too, which only makes a record checked earlier more welcome.)
 */
export const appendDelayMs = 60_000;
/** The first allowance for a clock difference to the broker, once the broker refused a record. */
export const firstSkewAllowanceMs = 60_000;
/** The allowance stops doubling here: a worker clock a day off is for NTP, not for us to guess. */
export const maxSkewAllowanceMs = 86_400_000;

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/**
 * Why the broker would refuse a record stamped `timestamp` on `topic` (INVALID_TIMESTAMP), judged
 * against this worker's clock `now`, or undefined when it accepts it. `skewAllowanceMs` narrows
 * the accepted range on both sides by what the clocks were found to differ (TimestampGuard).
 * A LogAppendTime topic, and Kafka's "no timestamp" (-1), are never checked by the broker.
 */
export function timestampRefusal(
  topic: string,
  limits: TimestampLimits,
  timestamp: number,
  now: number,
  skewAllowanceMs = 0,
): string | undefined {
  if (limits.type === 'LogAppendTime' || timestamp === -1) return undefined;
  const source = limits.from === 'topic' ? 'topic config' : `${limits.from} default`;
  const skew =
    skewAllowanceMs > 0
      ? `; ${skewAllowanceMs} ms kept in hand since the broker's clock was found to differ`
      : '';
  const latest = now + limits.afterMaxMs - skewAllowanceMs;
  if (timestamp > latest) {
    return `record timestamp ${iso(timestamp)} is ${timestamp - now} ms ahead of the worker's clock (${iso(now)}); topic ${topic} refuses records more than ${limits.afterMaxMs} ms ahead (message.timestamp.after.max.ms, ${source})${skew}`;
  }
  const earliest = now - limits.beforeMaxMs + appendDelayMs + skewAllowanceMs;
  if (timestamp < earliest) {
    return `record timestamp ${iso(timestamp)} is ${now - timestamp} ms behind the worker's clock (${iso(now)}); topic ${topic} refuses records more than ${limits.beforeMaxMs} ms behind (message.timestamp.before.max.ms, ${source})${skew}`;
  }
  return undefined;
}

/**
 * The timestamp limits of the topics a worker's sinks write (read at start), and the check a
 * sink's record passes before it is collected for sending: a record the broker would refuse
 * goes to the dead-letter topic instead (task.ts), so one record never stalls its task.
 *
 * The check uses the worker's clock, the broker uses its own. When the broker refuses a record
 * the check let through, the clocks differ by more than the allowance: `widen` doubles it (from
 * 0 to 1 min, 2 min, ... up to a day) and the batch is processed again, so the check converges
 * on the broker's verdict within a few retries.
 */
export class TimestampGuard {
  private limits = new Map<string, TimestampLimits>();
  private allowance = 0;

  constructor(private readonly clock: Clock) {}

  /** Replaces the limits (topics absent are not checked). */
  update(limits: Map<string, TimestampLimits>): void {
    this.limits = new Map(limits);
  }

  limitsOf(topic: string): TimestampLimits | undefined {
    return this.limits.get(topic);
  }

  get skewAllowanceMs(): number {
    return this.allowance;
  }

  /** Why `topic` would refuse `timestamp` now, or undefined. */
  refusal(topic: string, timestamp: number): string | undefined {
    const limits = this.limits.get(topic);
    if (limits === undefined) return undefined;
    return timestampRefusal(topic, limits, timestamp, this.clock.now(), this.allowance);
  }

  /** The broker refused a timestamp this guard accepted: check with a larger allowance. */
  widen(): number {
    this.allowance = Math.min(
      maxSkewAllowanceMs,
      Math.max(firstSkewAllowanceMs, this.allowance * 2),
    );
    return this.allowance;
  }
}
