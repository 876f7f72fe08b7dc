import type { TimestampLimits } from './types.ts';

// The timestamp limits of topics (TopicAdmin.timestampLimits), read from config entries: shared
// by the adapters, whatever client library lists the configs.

/** Kafka 4's defaults (KIP-937): CreateTime, at most 1 hour ahead, any time behind. */
export const kafka4TimestampLimits: TimestampLimits = {
  type: 'CreateTime',
  afterMaxMs: 3_600_000,
  beforeMaxMs: Infinity,
  from: 'default',
};

/** A config value in ms; Long.MAX_VALUE (or anything past 2^53) is unbounded. */
function millis(value: string | undefined): number | undefined {
  if (value === undefined || value === null || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= Number.MAX_SAFE_INTEGER ? Infinity : n;
}

/**
 * Timestamp limits from config entries, with or without the broker's `log.` prefix. Brokers
 * before 3.6 know only the symmetric `message.timestamp.difference.max.ms`.
 */
export function timestampLimitsOf(
  entries: { configName: string; configValue: string }[],
  from: TimestampLimits['from'],
): TimestampLimits {
  const value = (name: string): string | undefined =>
    entries.find((e) => e.configName === name || e.configName === `log.${name}`)?.configValue;
  const difference = millis(value('message.timestamp.difference.max.ms'));
  return {
    type: value('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    afterMaxMs: millis(value('message.timestamp.after.max.ms')) ?? difference ?? Infinity,
    beforeMaxMs: millis(value('message.timestamp.before.max.ms')) ?? difference ?? Infinity,
    from,
  };
}

/** The configs a limit comes from (a broker names them with the prefix `log.`). */
export const timestampConfigs = [
  'message.timestamp.type',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.difference.max.ms',
];
