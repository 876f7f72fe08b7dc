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
    // for-in, not Object.entries: no array per record on the send path.
    for (const name in record.headers) size += name.length + (record.headers[name]?.length ?? 0);
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
    const messages = topicMessages(chunk);
    for (const [tp, next] of writtenOffsets(await sendBatch(messages), messages))
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
 *
 * After a send that failed, the next send goes through a new kafkajs producer (a new producer
 * id): kafkajs rolls back the sequence numbers of every partition of a failed request, also of
 * the partitions the broker did append (a request that wrote a changelog partition but was
 * refused on an output partition, INVALID_TIMESTAMP), and every later send to those partitions
 * is refused (OUT_OF_ORDER_SEQUENCE_NUMBER) for as long as the producer lives. The old producer
 * is disconnected once the sends still running on it are done. At-least-once only: a failed
 * send's batch is processed and sent again anyway.
 */
export function createRecordProducer(kafka: Kafka): RecordProducer {
  const make = (): Producer =>
    kafka.producer({
      createPartitioner: javaCompatiblePartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
  let producer = make();
  let renewing: Promise<void> | undefined;
  const running = new Map<Producer, number>();
  const retired = new Set<Producer>();
  const release = (used: Producer): void => {
    const left = (running.get(used) ?? 1) - 1;
    if (left > 0) return void running.set(used, left);
    running.delete(used);
    if (retired.delete(used)) void used.disconnect().catch(() => undefined);
  };
  const renew = (failed: Producer): void => {
    if (failed !== producer || renewing !== undefined) return;
    renewing = (async () => {
      const next = make();
      await next.connect();
      producer = next;
      if (running.has(failed)) retired.add(failed);
      else void failed.disconnect().catch(() => undefined);
    })()
      // Kafka down: the old producer stays, and the next failure tries again.
      .catch(() => undefined)
      .finally(() => {
        renewing = undefined;
      });
  };
  return {
    connect: () => producer.connect(),
    async send(records: OutgoingRecord[]): Promise<WrittenOffsets> {
      if (renewing !== undefined) await renewing;
      const used = producer;
      running.set(used, (running.get(used) ?? 0) + 1);
      try {
        return await sendInChunks(records, (topicMessages) =>
          used.sendBatch({ acks: -1, topicMessages }),
        );
      } catch (error) {
        renew(used);
        throw error;
      } finally {
        release(used);
      }
    },
    async disconnect() {
      if (renewing !== undefined) await renewing;
      await producer.disconnect();
    },
  };
}
