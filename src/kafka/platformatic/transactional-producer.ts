import { Producer } from '@platformatic/kafka';
import type { Consumer, RetryDelayGetter, txnOffsetCommitV4 } from '@platformatic/kafka';

import { setTimeout as sleep } from 'node:timers/promises';

import type { KafkaClientOptions } from '../client.ts';
import type {
  ConsumerGroupMetadata,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../types.ts';
import { guardMetadata } from './api-lookup.ts';
import { coordinators } from './coordinator.ts';
import { brokerSaid } from './errors.ts';
import { commitRequestTopics } from './offsets.ts';
import { useOwnProduceEncoder } from './produce-request.ts';
import { partitionChooser, producerOptions, sendRecords } from './producer.ts';

/**
 * The wait before a retry: 20 ms when the coordinator is still completing the previous
 * transaction (CONCURRENT_TRANSACTIONS, the answer to a begin, an offset commit or a fence right
 * after a commit or abort), where the library's 1 s default would cost a second per transaction;
 * growing to 1 s for anything else (a coordinator moving, a broker restarting).
 */
const retryDelay: RetryDelayGetter = (_client, _operation, attempt, _retries, error) =>
  brokerSaid(error, 'CONCURRENT_TRANSACTIONS') ? 20 : Math.min(1000, 100 * attempt);

/** Enough 20 ms retries to outwait a transaction's markers (the broker writes them in ms). */
const retries = 50;

/** The errors after which the producer may never begin again: a newer owner holds the id. */
function isFenced(error: unknown): boolean {
  return ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_NOT_FOUND'].some((id) =>
    brokerSaid(error, id),
  );
}

/**
 * A task's transactional producer on @platformatic/kafka.
 *
 * - Fencing: the library registers the transactional id (InitProducerId) at the first
 *   beginTransaction, with producer id 0 and epoch 0 unless told otherwise; connect() begins a
 *   transaction with producer id and epoch -1 (a new session of the id: the coordinator bumps the
 *   epoch, fencing the older producer, and completes its open transaction before answering) and
 *   cancels it (locally: nothing was sent in it). Later begins reuse the producer id.
 * - The library would register the id again after a fencing error, fencing the newer owner in
 *   turn: once fenced, this producer refuses to begin.
 * - The transaction timeout is the library's `timeout` (it sends its request timeout as the
 *   transaction timeout), so requests of this producer time out after it too.
 * - Offsets (KIP-447): AddOffsetsToTxn through the library, then one TxnOffsetCommit of our own
 *   to the group coordinator with every offset and the member's generation and member id (the
 *   library sends one request per consumed message): the coordinator refuses them
 *   (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) once the group has moved past that generation, and
 *   the transaction can then only abort.
 */
export function createPlatformaticTransactionalProducer(
  options: KafkaClientOptions,
  transactionalId: string,
  timeoutMs: number,
): TransactionalProducer {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...producerOptions(options),
    transactionalId,
    timeout: timeoutMs,
    retries,
    retryDelay,
  });
  useOwnProduceEncoder(producer);
  guardMetadata(producer);
  const choose = partitionChooser(producer);
  const coordinator = coordinators(options, producer);
  let transaction: Awaited<ReturnType<typeof producer.beginTransaction>> | undefined;
  let fenced: unknown;

  /** Runs a call of the library, remembering a fencing error. */
  const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
    if (fenced !== undefined)
      throw new Error(`${transactionalId}: fenced by a newer producer`, { cause: fenced });
    try {
      return await call();
    } catch (error) {
      if (isFenced(error)) fenced = error;
      throw error;
    }
  };
  /** One TxnOffsetCommit of every offset, retried while the coordinator is busy or moving. */
  const commitOffsets = async (
    group: ConsumerGroupMetadata,
    offsets: TopicPartitionOffset[],
  ): Promise<void> => {
    const topics = commitRequestTopics(offsets);
    for (let attempt = 1; ; attempt++) {
      try {
        const { connection, api } = await coordinator.on<typeof txnOffsetCommitV4.api>(
          group.groupId,
          'TxnOffsetCommit',
        );
        await api.async(
          connection,
          transactionalId,
          group.groupId,
          producer.producerId as bigint,
          producer.producerEpoch as number,
          group.generationId,
          group.memberId,
          null,
          topics,
        );
        return;
      } catch (error) {
        const moved = coordinator.forgetIfMoved(group.groupId, error);
        const busy =
          moved ||
          ['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT'].some(
            (id) => brokerSaid(error, id),
          );
        if (!busy || attempt >= retries) throw error;
        await sleep(retryDelay(producer, 'txnOffsetCommit', attempt, retries, error as Error));
      }
    }
  };
  /** Ends the open transaction; it is closed on our side whatever the answer. */
  const end = async (how: 'commit' | 'abort'): Promise<void> => {
    const open = transaction;
    transaction = undefined;
    if (open !== undefined) await guarded(() => open[how]());
  };

  return {
    async connect() {
      await guarded(async () => {
        const fence = await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 });
        await fence.cancel();
      });
    },
    get inTransaction() {
      return transaction !== undefined;
    },
    async begin() {
      transaction ??= await guarded(() => producer.beginTransaction());
    },
    async send(records) {
      if (records.length === 0) return new Map();
      const open = transaction;
      if (open === undefined) throw new Error(`${transactionalId}: send outside a transaction`);
      return guarded(() => sendRecords(records, choose, (messages) => open.send({ messages })));
    },
    fencesStaleGenerations: true,
    async sendOffsets(group, offsets) {
      const open = transaction;
      if (open === undefined) throw new Error(`${transactionalId}: offsets outside a transaction`);
      if (offsets.length === 0) return;
      await guarded(async () => {
        // AddOffsetsToTxn: the library reads only the group id of the consumer.
        await open.addConsumer({ groupId: group.groupId } as Consumer<
          Buffer,
          Buffer,
          Buffer,
          Buffer
        >);
        await commitOffsets(group, offsets);
      });
    },
    commit: () => end('commit'),
    abort: () => end('abort'),
    async disconnect() {
      await coordinator.close();
      await producer.close();
    },
  };
}
