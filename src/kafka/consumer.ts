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

function headersOf(
  raw: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Headers {
  const headers: Headers = {};
  if (raw === undefined) return headers;
  for (const [name, value] of Object.entries(raw)) {
    headers[name] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return headers;
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
