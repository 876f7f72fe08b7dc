import type { Kafka, Producer, Transaction } from 'kafkajs';

import { javaCompatiblePartitioner } from './partitioner.ts';
import { sendInChunks } from './producer.ts';
import type {
  ConsumerGroupMetadata,
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
    /**
     * Connects and fences: an older producer of this transactional id can no longer write or
     * commit, and its open transaction is completed (aborted, or committed if it was already
     * committing) before this resolves. kafkajs's own `connect()` does not fence: it asks for a
     * producer id without the transactional id, and registers the transactional id only at the
     * first `transaction()`. So a transaction is begun and ended empty here (no request goes out
     * for it). Before this, a task's new owner read the committed offsets and restored its
     * stores before the fence, and a commit of the old owner landing between the two was
     * counted twice.
     */
    async connect() {
      await producer.connect();
      const fence = await producer.transaction();
      await fence.abort();
    },
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
    // kafkajs's sendOffsets takes the group id only (no KIP-447 group metadata).
    fencesStaleGenerations: false,
    async sendOffsets({ groupId }: ConsumerGroupMetadata, offsets: TopicPartitionOffset[]) {
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
