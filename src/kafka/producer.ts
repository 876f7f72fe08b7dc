import type { Kafka, Message, Producer } from 'kafkajs';

import { javaCompatiblePartitioner } from './partitioner.ts';
import type { OutgoingRecord, RecordProducer, WrittenOffsets } from './types.ts';
import { writtenOffsets } from './written-offsets.ts';

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
      if (records.length === 0) return new Map();
      const metadata = await producer.sendBatch({
        acks: -1,
        topicMessages: topicMessages(records),
      });
      return writtenOffsets(metadata, records);
    },
    disconnect: () => producer.disconnect(),
  };
}
