import type { Kafka, Message, Producer, RecordMetadata } from 'kafkajs';

import { javaCompatiblePartitioner } from './partitioner.ts';
import type { OutgoingRecord, RecordProducer, WrittenOffsets } from './types.ts';
import { writtenOffsets } from './written-offsets.ts';

/**
 * Bytes per produce request. kafkajs puts all records of one partition in one record batch,
 * and the broker refuses a batch over `message.max.bytes` (1 MiB by default), so large sends
 * go out as several requests, in order.
 */
export const maxRequestBytes = 512 * 1024;

/** Splits records, in order, into chunks of at most about `maxBytes` (a record alone may exceed it). */
export function chunkBySize(
  records: OutgoingRecord[],
  maxBytes = maxRequestBytes,
): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    let size = 70 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
    for (const [name, value] of Object.entries(record.headers))
      size += name.length + (value?.length ?? 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Sends chunk after chunk and merges what each wrote (later offsets win). */
export async function sendInChunks(
  records: OutgoingRecord[],
  sendBatch: (topicMessages: { topic: string; messages: Message[] }[]) => Promise<RecordMetadata[]>,
): Promise<WrittenOffsets> {
  const written: WrittenOffsets = new Map();
  for (const chunk of chunkBySize(records)) {
    for (const [tp, next] of writtenOffsets(await sendBatch(topicMessages(chunk)), chunk))
      written.set(tp, next);
  }
  return written;
}

/** Groups records by topic, as kafkajs's sendBatch takes them. */
export function topicMessages(records: OutgoingRecord[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({
      key: record.key,
      value: record.value,
      timestamp: String(record.timestamp),
      headers: record.headers,
      ...(record.partition === undefined ? {} : { partition: record.partition }),
    });
    byTopic.set(record.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * An idempotent producer (acks from all in-sync replicas, no duplicates on retry) with one
 * request in flight per broker, so the records of a partition are written in the order sent.
 */
export function createRecordProducer(kafka: Kafka): RecordProducer {
  const producer: Producer = kafka.producer({
    createPartitioner: javaCompatiblePartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  return {
    connect: () => producer.connect(),
    async send(records: OutgoingRecord[]): Promise<WrittenOffsets> {
      return sendInChunks(records, (topicMessages) =>
        producer.sendBatch({ acks: -1, topicMessages }),
      );
    },
    disconnect: () => producer.disconnect(),
  };
}
