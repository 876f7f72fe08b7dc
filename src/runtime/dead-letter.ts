import { TributaryError } from '../core/index.ts';
import type { Headers, SourcePosition } from '../core/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../kafka/index.ts';

/** Headers a dead-letter record carries besides the original record's own. */
export const deadLetterHeaders = {
  /**
   * `late`, `invalid` (could not be decoded or validated), `failed` (an operator threw) or
   * `refused` (an output whose timestamp its topic would refuse: TIMESTAMP_OUT_OF_RANGE).
   */
  reason: 'tributary.error.reason',
  code: 'tributary.error.code',
  message: 'tributary.error.message',
  operator: 'tributary.error.operator',
  topic: 'tributary.source.topic',
  partition: 'tributary.source.partition',
  offset: 'tributary.source.offset',
  /** The original record's timestamp (ms): the dead-letter topic stamps records on append. */
  timestamp: 'tributary.source.timestamp',
} as const;

/** The error code and message of anything thrown. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof TributaryError) return { code: error.code, message: error.message };
  if (error instanceof Error)
    return { code: 'OPERATOR_FAILED', message: `${error.name}: ${error.message}` };
  return { code: 'OPERATOR_FAILED', message: String(error) };
}

function reasonOf(code: string): 'late' | 'invalid' | 'failed' | 'refused' {
  if (code === 'LATE_RECORD') return 'late';
  if (code === 'TIMESTAMP_OUT_OF_RANGE') return 'refused';
  return code.startsWith('SERDE_') || code === 'MODEL_INPUT_INVALID' ? 'invalid' : 'failed';
}

/** The input record, unchanged, addressed to the dead-letter topic with the reason in headers. */
export function deadLetter(
  dlqTopic: string,
  input: FetchedRecord,
  source: SourcePosition,
  operator: string,
  reason: { code: string; message: string },
): OutgoingRecord {
  const headers: Headers = {
    ...input.headers,
    [deadLetterHeaders.reason]: reasonOf(reason.code),
    [deadLetterHeaders.code]: reason.code,
    // Bounded: a message quoting 1 MB of garbage must not double the record.
    [deadLetterHeaders.message]: reason.message.slice(0, 1000),
    [deadLetterHeaders.operator]: operator,
    [deadLetterHeaders.topic]: source.topic,
    [deadLetterHeaders.partition]: String(source.partition),
    [deadLetterHeaders.offset]: source.offset,
    [deadLetterHeaders.timestamp]: String(input.timestamp),
  };
  return {
    topic: dlqTopic,
    key: input.key,
    value: input.value,
    timestamp: input.timestamp,
    headers,
  };
}

/**
 * An output record its topic would refuse for its timestamp, unchanged (key, value, headers,
 * timestamp), addressed to the dead-letter topic. Its `tributary.source.topic` (and partition,
 * when the sink chose one) name the topic it was meant for, so `tributary dlq replay` sends it
 * there once the topic accepts it; it has no source offset (it was never written).
 */
export function refusedLetter(
  dlqTopic: string,
  record: OutgoingRecord,
  operator: string,
  message: string,
): OutgoingRecord {
  const headers: Headers = {
    ...record.headers,
    [deadLetterHeaders.reason]: reasonOf('TIMESTAMP_OUT_OF_RANGE'),
    [deadLetterHeaders.code]: 'TIMESTAMP_OUT_OF_RANGE',
    [deadLetterHeaders.message]: message.slice(0, 1000),
    [deadLetterHeaders.operator]: operator,
    [deadLetterHeaders.topic]: record.topic,
    ...(record.partition === undefined
      ? {}
      : { [deadLetterHeaders.partition]: String(record.partition) }),
    [deadLetterHeaders.timestamp]: String(record.timestamp),
  };
  return {
    topic: dlqTopic,
    key: record.key,
    value: record.value,
    timestamp: record.timestamp,
    headers,
  };
}
