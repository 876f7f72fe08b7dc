import type { Kafka, Message, Producer } from 'kafkajs';

import { javaCompatiblePartitioner } from './partitioner.ts';
import type { OutgoingRecord, RecordProducer } from './types.ts';

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
    async send(records: OutgoingRecord[]) {
      if (records.length === 0) return;
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
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    },
    disconnect: () => producer.disconnect(),
  };
}
