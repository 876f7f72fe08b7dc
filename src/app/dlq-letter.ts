import { replayedFromHeader } from '../core/index.ts';
import type { Headers } from '../core/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../kafka/index.ts';
import { deadLetterHeaders } from '../runtime/index.ts';

/**
 * A dead letter as `tributary dlq` reads it back: the original record (key, value, its own
 * headers) and what the dead-letter writer added (src/runtime/dead-letter.ts): the error's
 * reason, code, message and operator, and where the record was read (topic, partition, offset,
 * timestamp). Letters written by other writers (the MQTT bridge has no source position) are read
 * too; what they lack is undefined.
 */
export interface DeadLetter {
  /** Where the letter sits in the dead-letter topic. */
  partition: number;
  offset: string;
  /** When the letter was appended (the dead-letter topic stamps LogAppendTime). */
  appendTime: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Every header of the letter, the writer's included. */
  headers: Headers;
  code: string | undefined;
  reason: string | undefined;
  operator: string | undefined;
  message: string | undefined;
  sourceTopic: string | undefined;
  sourcePartition: number | undefined;
  sourceOffset: string | undefined;
  /** The original record's timestamp (ms); undefined when absent or not a number. */
  sourceTimestamp: number | undefined;
}

/**
 * On a replayed record: the dead letter it came from, `<dead-letter topic>:<partition>:<offset>`
 * (defined in core, because a dedup step lets such records through).
 */
export const replayHeader = replayedFromHeader;

/** The headers the dead-letter writer adds; a replay drops them and keeps the record's own. */
const writerPrefixes = ['tributary.error.', 'tributary.source.'];

function text(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function readDeadLetter(partition: number, record: FetchedRecord): DeadLetter {
  const h = record.headers;
  return {
    partition,
    offset: record.offset,
    appendTime: record.timestamp,
    key: record.key,
    value: record.value,
    headers: h,
    code: text(h, deadLetterHeaders.code),
    reason: text(h, deadLetterHeaders.reason),
    operator: text(h, deadLetterHeaders.operator),
    message: text(h, deadLetterHeaders.message),
    sourceTopic: text(h, deadLetterHeaders.topic),
    sourcePartition: integer(text(h, deadLetterHeaders.partition)),
    sourceOffset: text(h, deadLetterHeaders.offset),
    sourceTimestamp: integer(text(h, deadLetterHeaders.timestamp)),
  };
}

/** Which dead letters a command takes. Each list is "any of"; absent lists take every letter. */
export interface DeadLetterFilter {
  codes?: string[];
  operators?: string[];
  reasons?: string[];
  sourceTopics?: string[];
  /** On the source timestamp: from (inclusive) and to (exclusive), ms. */
  from?: number;
  to?: number;
}

function anyOf(list: string[] | undefined, value: string | undefined): boolean {
  return list === undefined || list.length === 0 || (value !== undefined && list.includes(value));
}

/** Whether the filter takes the letter. A time bound never takes a letter without a source time. */
export function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (!anyOf(filter.codes, letter.code)) return false;
  if (!anyOf(filter.operators, letter.operator)) return false;
  if (!anyOf(filter.reasons, letter.reason)) return false;
  if (!anyOf(filter.sourceTopics, letter.sourceTopic)) return false;
  const time = letter.sourceTimestamp;
  if (filter.from !== undefined && (time === undefined || time < filter.from)) return false;
  if (filter.to !== undefined && (time === undefined || time >= filter.to)) return false;
  return true;
}

/**
 * The headers a replay needs and the letter lacks: the source timestamp always, the source
 * topic unless the replay names its own target.
 */
export function missingForReplay(letter: DeadLetter, targetTopic?: string): string[] {
  const missing: string[] = [];
  if (targetTopic === undefined && (letter.sourceTopic ?? '') === '')
    missing.push(deadLetterHeaders.topic);
  if (letter.sourceTimestamp === undefined) missing.push(deadLetterHeaders.timestamp);
  return missing;
}

/** The letter's name in the replay ledger and in the replay header's tail: `<partition>:<offset>`. */
export function letterId(letter: Pick<DeadLetter, 'partition' | 'offset'>): string {
  return `${letter.partition}:${letter.offset}`;
}

/**
 * The original record again, for `topic`: its key, value, own headers and timestamp, plus
 * `tributary.replay.of`. `partition` undefined: keyed records go where Java's partitioner puts
 * them. The letter must have a source timestamp (see missingForReplay).
 */
export function replayRecord(
  letter: DeadLetter,
  dlqTopic: string,
  topic: string,
  partition: number | undefined,
): OutgoingRecord {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(letter.headers)) {
    if (!writerPrefixes.some((prefix) => name.startsWith(prefix))) headers[name] = value;
  }
  headers[replayHeader] = `${dlqTopic}:${letterId(letter)}`;
  return {
    topic,
    key: letter.key,
    value: letter.value,
    timestamp: letter.sourceTimestamp ?? letter.appendTime,
    headers,
    ...(partition === undefined ? {} : { partition }),
  };
}
