import type { Consumer, Kafka } from 'kafkajs';

import type { Headers } from '../core/index.ts';
import { taskAssigner } from './task-assigner.ts';
import type {
  BatchConsumer,
  BatchConsumerHandlers,
  FetchedRecord,
  TopicPartition,
  TopicPartitionOffset,
} from './types.ts';

export interface BatchConsumerOptions {
  groupId: string;
  /** Maps a source topic to its sub-topology, so the assigner keeps tasks whole. */
  groupOf: (topic: string) => number | undefined;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How many partitions' batches run at once. */
  concurrency: number;
  maxBytesPerPartition: number;
}

/** kafkajs's headers as ours: the last value of a header given more than once. */
export function headersOf(
  raw: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Headers {
  const headers: Headers = {};
  if (raw === undefined) return headers;
  for (const [name, value] of Object.entries(raw)) {
    headers[name] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return headers;
}

/** The broker's answers that mean this member has lost its place in the group, not a failure. */
const membershipLost = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/**
 * The protocol error in `error`'s cause chain saying the member lost its place in the group (its
 * session expired while a long batch blocked the heartbeats, or a rebalance fenced its commit).
 * kafkajs's commitOffsets wraps it in a non-retriable error, and its fetch loop then crashes the
 * consumer instead of rejoining; handed back unwrapped, the loop rejoins, as Kafka Streams does
 * after a CommitFailedException. The tasks whose commit failed were discarded already and start
 * again from their last committed state.
 */
export function groupMembershipError(error: unknown): Error | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && membershipLost.has(type)) return e;
  }
  return undefined;
}

export function createBatchConsumer(kafka: Kafka, options: BatchConsumerOptions): BatchConsumer {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    partitionAssigners: [taskAssigner(options.groupOf)],
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    maxBytesPerPartition: options.maxBytesPerPartition,
    // Outputs of exactly-once producers upstream are read only once committed.
    readUncommitted: false,
  });
  let removeJoinListener: (() => void) | undefined;
  let removeCrashListener: (() => void) | undefined;

  return {
    async start(topics: string[], handlers: BatchConsumerHandlers) {
      await consumer.connect();
      removeJoinListener = consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assigned: TopicPartition[] = Object.entries(event.payload.memberAssignment).flatMap(
          ([topic, partitions]) => partitions.map((partition) => ({ topic, partition })),
        );
        void handlers
          .onAssignment(assigned)
          .catch((error: unknown) => handlers.onCrash(error as Error));
      });
      removeCrashListener = consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) handlers.onCrash(event.payload.error);
      });
      // A new group reads from the start of the topics, as Kafka Streams does.
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          const records: FetchedRecord[] = batch.messages.map((m) => ({
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
            headers: headersOf(m.headers),
            offset: m.offset,
          }));
          // A batch can take long (an external sink retrying through an outage): heartbeats go
          // on meanwhile so the group keeps this member. A heartbeat that finds a rebalance
          // throws; the rejoin happens once the batch returns.
          const beat = setInterval(() => {
            heartbeat().catch(() => undefined);
          }, options.heartbeatIntervalMs);
          let outcome;
          try {
            outcome = await handlers.handleBatch({
              topic: batch.topic,
              partition: batch.partition,
              records,
            });
          } catch (error) {
            // kafkajs rejoins the group on these errors only when they reach it unwrapped.
            throw groupMembershipError(error) ?? error;
          } finally {
            clearInterval(beat);
          }
          if (outcome === 'halt') {
            pause();
            return;
          }
          if (outcome === 'skip') return;
          // Tell kafkajs where to fetch next; the offsets were committed by handleBatch.
          resolveOffset(batch.lastOffset());
          await heartbeat();
        },
      });
    },
    async commit(offsets: TopicPartitionOffset[]) {
      if (offsets.length > 0) await consumer.commitOffsets(offsets);
    },
    async stop() {
      removeJoinListener?.();
      removeCrashListener?.();
      // disconnect() stops the fetch loop, waits for the batches in flight, leaves the group.
      await consumer.disconnect();
    },
  };
}
