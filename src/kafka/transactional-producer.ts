import type { Kafka, Producer, Transaction } from 'kafkajs';

import { javaCompatiblePartitioner } from './partitioner.ts';
import { sendInChunks } from './producer.ts';
import type {
  OutgoingRecord,
  TopicPartitionOffset,
  TransactionalProducer,
  WrittenOffsets,
} from './types.ts';

/**
 * A task's transactional producer (transactional id `<appId>-<taskId>`): outputs, changelog
 * records and the input offsets of one commit interval are written in one transaction.
 */
export function createTransactionalProducer(
  kafka: Kafka,
  transactionalId: string,
  timeoutMs: number,
): TransactionalProducer {
  const producer: Producer = kafka.producer({
    createPartitioner: javaCompatiblePartitioner,
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: timeoutMs,
  });
  let transaction: Transaction | undefined;
  return {
    connect: () => producer.connect(),
    get inTransaction() {
      return transaction !== undefined;
    },
    async begin() {
      transaction ??= await producer.transaction();
    },
    async send(records: OutgoingRecord[]): Promise<WrittenOffsets> {
      if (records.length === 0) return new Map();
      const open = transaction;
      if (open === undefined) throw new Error(`${transactionalId}: send outside a transaction`);
      return sendInChunks(records, (topicMessages) => open.sendBatch({ acks: -1, topicMessages }));
    },
    async sendOffsets(groupId: string, offsets: TopicPartitionOffset[]) {
      if (transaction === undefined)
        throw new Error(`${transactionalId}: offsets outside a transaction`);
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const o of offsets)
        byTopic.set(o.topic, [
          ...(byTopic.get(o.topic) ?? []),
          { partition: o.partition, offset: o.offset },
        ]);
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      });
    },
    async commit() {
      const open = transaction;
      transaction = undefined;
      await open?.commit();
    },
    async abort() {
      const open = transaction;
      transaction = undefined;
      await open?.abort();
    },
    disconnect: () => producer.disconnect(),
  };
}
