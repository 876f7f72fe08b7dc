import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { MessageToProduce, ProduceResult, ProducerOptions } from '@platformatic/kafka';

import { TributaryError } from '../../core/index.ts';
import type { KafkaClientOptions } from '../client.ts';
import { partitionForKey } from '../partitioner.ts';
import { chunkBySize } from '../producer.ts';
import type { OutgoingRecord, RecordProducer, WrittenOffsets } from '../types.ts';
import { countPerPartition, offsetsAfter } from '../written-offsets.ts';
import { guardMetadata } from './api-lookup.ts';
import { baseOptions } from './options.ts';
import { useOwnProduceEncoder } from './produce-request.ts';

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/**
 * Producer options of the adapter: idempotent, acks from all in-sync replicas. A send to a topic
 * that does not exist yet asks the broker to create it, as the kafkajs adapter's producer does
 * (the broker's auto.create.topics.enable decides): with the library's default (no creation)
 * its metadata request for the missing topic is retried without end and the send never settles
 * (found with `bench:windowed`, whose output topic is created by the first write).
 */
export function producerOptions(
  options: KafkaClientOptions,
): ProducerOptions<Buffer, Buffer, Buffer, Buffer> {
  return {
    ...baseOptions(options),
    autocreateTopics: true,
    idempotent: true,
    acks: ProduceAcks.ALL,
    // The library retries an idempotent producer's requests without end unless told otherwise;
    // a send that cannot complete then hangs its task for good, silently (a rolling restart
    // of the brokers left one partition's batch waiting for over four minutes). As the Java
    // producer's delivery.timeout.ms: give up after about a minute, backing off from 100 ms to
    // 1 s, so the failure reaches the runtime, which logs it and retries the batch.
    retries: sendRetries,
    retryDelay: (_client, _operation, attempt) => Math.min(1000, 100 * 2 ** (attempt - 1)),
  };
}

/** Retries of a request before it fails: about a minute of backoff (producerOptions). */
export const sendRetries = 60;

/**
 * Chooses the partition of every record before the send, as the Java client does: its own if
 * it has one, murmur2 of its key if keyed, else round-robin. @platformatic/kafka's default
 * partitioner is not murmur2 (its compatibilityPartitioner is, but then the records a send wrote
 * to each partition could not be counted, which the written offsets need).
 */
export function partitionChooser(
  producer: Producer<Buffer, Buffer, Buffer, Buffer>,
): (records: OutgoingRecord[]) => Promise<Chosen> {
  let next = 0;
  return async (records) => {
    const topics = [...new Set(records.map((r) => r.topic))];
    const metadata = await producer.metadata({ topics });
    // One pass, no object per record but the message: the send path of every record.
    const perTopic = new Map<string, number[]>();
    let topic: string | undefined;
    let count = 0;
    let counted: number[] = [];
    let earliest = Infinity;
    let latest = -Infinity;
    const messages = new Array<Message>(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as OutgoingRecord;
      if (record.topic !== topic) {
        topic = record.topic;
        count = metadata.topics.get(topic)?.partitionsCount ?? 0;
        // guardMetadata (api-lookup.ts) refuses an answer without the topic's partitions as
        // retriable stale metadata, so none reaches here; kept as the invariant it is.
        if (count === 0)
          throw new TributaryError(
            'KAFKA_UNAVAILABLE',
            `topic ${topic} has no partitions in the metadata`,
          );
        counted = perTopic.get(topic) ?? [];
        perTopic.set(topic, counted);
      }
      const partition =
        record.partition ??
        (record.key === null ? (next = (next + 1) % count) : partitionForKey(record.key, count));
      counted[partition] = (counted[partition] ?? 0) + 1;
      if (record.timestamp < earliest) earliest = record.timestamp;
      if (record.timestamp > latest) latest = record.timestamp;
      // Null keys and values (tombstones) are written as null; the library's types say Buffer,
      // and its validation wants a `value` property.
      const message: Message = {
        topic,
        partition,
        key: record.key as Buffer,
        value: record.value as Buffer,
        timestamp: BigInt(record.timestamp),
      };
      const headers = headersOf(record.headers);
      if (headers !== undefined) message.headers = headers;
      messages[i] = message;
    }
    const counts = new Map<string, number>();
    for (const [name, list] of perTopic)
      list.forEach((n, partition) => counts.set(`${name}/${partition}`, n));
    return { messages, counts, timestampSpanMs: messages.length === 0 ? 0 : latest - earliest };
  };
}

/** The messages of one request, with their count per `topic/partition` and timestamp span. */
export interface Chosen {
  messages: Message[];
  counts: Map<string, number>;
  /** The latest timestamp minus the earliest. */
  timestampSpanMs: number;
}

/**
 * Our headers as the library writes them: byte keys and values, absent values left out;
 * undefined when there are none (the library then makes its own empty map).
 */
function headersOf(headers: OutgoingRecord['headers']): Map<Buffer, Buffer> | undefined {
  let map: Map<Buffer, Buffer> | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) (map ??= new Map()).set(Buffer.from(name), Buffer.from(value));
  }
  return map;
}

/**
 * The largest timestamp distance from a record batch's first record that @platformatic/kafka
 * 2.12 writes correctly: its zigzag encoding of a record's timestamp delta (a varlong) shifts
 * the sign by 31 bits, not 63 (@platformatic/dynamic-buffer's int64ZigZagEncode), so a record
 * 2^31 ms (24.8 days) or more from its batch's first one is stamped wrong. Found by
 * test/integration/future-timestamps.test.ts: readings 36 days apart in one batch were read back
 * 73 days early.
 */
export const maxTimestampDeltaMs = 2n ** 31n - 1n;

/**
 * Splits messages, in order, so that within each piece every partition's records are stamped
 * within `maxTimestampDeltaMs` of that partition's first record in the piece (the library makes
 * one record batch per partition and request). One piece in the common case.
 */
export function timestampSafePieces(messages: Message[]): Message[][] {
  const pieces: Message[][] = [];
  let current: Message[] = [];
  let first = new Map<string, bigint>();
  for (const message of messages) {
    const tp = `${message.topic}/${message.partition}`;
    const timestamp = message.timestamp ?? 0n;
    const base = first.get(tp);
    const delta = base === undefined ? 0n : timestamp - base;
    if (delta > maxTimestampDeltaMs || delta < -maxTimestampDeltaMs) {
      pieces.push(current);
      current = [];
      first = new Map();
    }
    if (!first.has(tp)) first.set(tp, timestamp);
    current.push(message);
  }
  if (current.length > 0) pieces.push(current);
  return pieces;
}

/**
 * Sends the records chunk after chunk (the library puts all records of a partition in one
 * request into one record batch, which the broker refuses past `message.max.bytes`), each
 * chunk in timestamp-safe pieces (above), and returns
 * the offset after the last record written to each partition (later chunks win).
 */
export async function sendRecords(
  records: OutgoingRecord[],
  choose: (records: OutgoingRecord[]) => Promise<Chosen>,
  send: (messages: Message[]) => Promise<ProduceResult>,
): Promise<WrittenOffsets> {
  const written: WrittenOffsets = new Map();
  const sendOne = async (messages: Message[], counts: Map<string, number>): Promise<void> => {
    const result = await send(messages);
    const bases = (result.offsets ?? []).map((o) => ({ ...o, baseOffset: o.offset }));
    for (const [tp, next] of offsetsAfter(bases, counts)) written.set(tp, next);
  };
  for (const chunk of chunkBySize(records)) {
    const chosen = await choose(chunk);
    // Every record within the library's limit of each other: one piece, counted already.
    if (chosen.timestampSpanMs <= Number(maxTimestampDeltaMs))
      await sendOne(chosen.messages, chosen.counts);
    else
      for (const piece of timestampSafePieces(chosen.messages))
        await sendOne(piece, countPerPartition(piece));
  }
  return written;
}

/**
 * The idempotent RecordProducer. After a failed send the library drops its producer id and
 * sequence numbers itself (a non-transactional idempotent producer), so the next send starts a
 * new producer id; the kafkajs adapter has to replace its whole producer for that.
 */
export function createPlatformaticRecordProducer(options: KafkaClientOptions): RecordProducer {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>(producerOptions(options));
  useOwnProduceEncoder(producer);
  guardMetadata(producer);
  const choose = partitionChooser(producer);
  return {
    // Registers the idempotent producer id, so a broker that cannot be reached fails here.
    connect: async () => void (await producer.initIdempotentProducer({})),
    send: async (records) =>
      records.length === 0
        ? new Map()
        : sendRecords(records, choose, (messages) => producer.send({ messages })),
    disconnect: () => producer.close(),
  };
}
