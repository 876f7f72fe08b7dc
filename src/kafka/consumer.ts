import type { ReplicaOptions, StandbyReport } from './task-assignment.ts';
import type { Consumer, ConsumerRunConfig, Kafka, KafkaMessage } from 'kafkajs';

import type { Headers } from '../core/index.ts';
import { groupOnly } from './group-metadata.ts';
import { backoffMs, batchFaultAction, crashAction } from './faults.ts';
import { taskAssigner } from './task-assigner.ts';
import { waiter } from './waiter.ts';
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
  /** After how long a partition that should move on and does not is reported (onStalled); 60 s by default. */
  stallReportMs?: number;
  /**
   * Rebalance incrementally (KIP-429) where the adapter can (@platformatic/kafka; kafkajs is
   * always eager): tasks that stay keep running through a rebalance, and one that moves is given
   * to its new owner after its old owner closed it. True by default.
   */
  cooperative?: boolean;
  /**
   * Standby replicas and warm-ups (assignWithReplicas in task-assignment.ts): the assignor's
   * settings, and what this member reports at each join. Only the @platformatic/kafka adapter
   * carries them (the worker refuses the setting on kafkajs); without them, active tasks only.
   */
  replicas?: ReplicaOptions & { report: () => StandbyReport };
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

/** A kafkajs message as the runtime takes it. */
export function fetchedRecord(m: KafkaMessage): FetchedRecord {
  return {
    key: m.key,
    value: m.value,
    timestamp: Number(m.timestamp),
    headers: headersOf(m.headers),
    offset: m.offset,
  };
}

/** An error kafkajs's fetch loop answers with a rejoin of the group (its `isRebalancing`). */
function rejoinError(cause: unknown): Error {
  return Object.assign(new Error('task fenced: rejoining the group', { cause }), {
    type: 'REBALANCE_IN_PROGRESS',
    retriable: true,
  });
}

export function createBatchConsumer(kafka: Kafka, options: BatchConsumerOptions): BatchConsumer {
  /** The partitions of the latest assignment, announced at each join (sticky assignment). */
  let owned: TopicPartition[] = [];
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    partitionAssigners: [taskAssigner(options.groupOf, () => owned)],
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    maxBytesPerPartition: options.maxBytesPerPartition,
    // Outputs of exactly-once producers upstream are read only once committed.
    readUncommitted: false,
  });
  const removers: (() => void)[] = [];
  const { wait, wakeAll } = waiter();
  let stopped = false;
  /** Failures in a row, per partition (a batch that succeeds resets it) and of the consumer. */
  const failures = new Map<string, number>();
  let crashes = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const runConfig = (handlers: BatchConsumerHandlers): ConsumerRunConfig => ({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.concurrency,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const records: FetchedRecord[] = batch.messages.map(fetchedRecord);
      const key = `${batch.topic}/${batch.partition}`;
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
          isStale,
        });
      } catch (error) {
        // The batch's task was dropped (poll-loop.ts): what the batch did is not committed.
        // (1) a fault no retry fixes crashes the consumer: the worker exits 1;
        // (2) a membership error goes to kafkajs unwrapped: it rejoins the group (onFault
        //     with `rejoin` first: the runtime drops every task, as the group may have moved them);
        // (3) otherwise wait (heartbeats go on), then fetch the batch again from the last
        //     resolved offset; after a fenced producer, rejoin first: the assignment is stale.
        const action = batchFaultAction(error);
        if (stopped) return;
        // (1)
        if (action.kind === 'fail') throw error;
        // (2)
        if (action.kind === 'rejoin-kafkajs') {
          handlers.onFault({ error, attempt: 1, what: 'group membership', rejoin: true });
          throw action.error;
        }
        // (3)
        const attempt = (failures.get(key) ?? 0) + 1;
        failures.set(key, attempt);
        const delayMs = backoffMs(attempt, Math.random());
        handlers.onFault({
          error,
          attempt,
          delayMs,
          what: `batch of ${key}`,
          rejoin: action.kind === 'rejoin',
        });
        await wait(delayMs);
        if (action.kind === 'rejoin' && !stopped) throw rejoinError(error);
        return;
      } finally {
        clearInterval(beat);
      }
      failures.delete(key);
      if (outcome === 'halt') {
        pause();
        return;
      }
      if (outcome === 'skip') return;
      if (outcome === 'rejoin') throw rejoinError(new Error('the worker was fenced'));
      // Tell kafkajs where to fetch next; the offsets were committed by handleBatch.
      resolveOffset(batch.lastOffset());
      await heartbeat();
    },
  });

  /**
   * Our restart of a consumer kafkajs will not restart (its crash had a cause kafkajs deems
   * final, such as KafkaJSGroupCoordinatorNotFound while the brokers restart): connect and run
   * again after a backoff. A start that fails crashes again, which schedules the next attempt.
   */
  const restart = (handlers: BatchConsumerHandlers, delayMs: number): void => {
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      void (async () => {
        try {
          await consumer.connect();
          await consumer.run(runConfig(handlers));
        } catch (error) {
          if (stopped) return;
          crashes++;
          const next = backoffMs(crashes, Math.random());
          handlers.onFault({
            error,
            attempt: crashes,
            delayMs: next,
            what: 'consumer restart',
            rejoin: true,
          });
          restart(handlers, next);
        }
      })();
    }, delayMs);
  };

  return {
    // kafkajs tells neither the generation nor (to its transactions) the member id: offsets are
    // sent with the group id alone, and the broker checks no generation (types.ts).
    groupMetadata: () => groupOnly(options.groupId),
    async start(topics: string[], handlers: BatchConsumerHandlers) {
      await consumer.connect();
      // Start-up retries start() while Kafka does not answer: the listeners are added once.
      if (removers.length === 0)
        removers.push(
          consumer.on(consumer.events.GROUP_JOIN, (event) => {
            crashes = 0;
            const assigned: TopicPartition[] = Object.entries(
              event.payload.memberAssignment,
            ).flatMap(([topic, partitions]) =>
              partitions.map((partition) => ({ topic, partition })),
            );
            owned = assigned;
            void handlers
              .onAssignment(assigned)
              .catch((error: unknown) => handlers.onCrash(error as Error));
          }),
          consumer.on(consumer.events.CRASH, (event) => {
            const { error, restart: kafkajsRestarts } = event.payload;
            if (stopped) return;
            const action = crashAction(error, kafkajsRestarts);
            if (action === 'fail') {
              handlers.onCrash(error);
              return;
            }
            // The consumer has left the group: the group may give our tasks to another member
            // before we are back, so every task is lost (dropped, rebuilt on reassignment).
            crashes++;
            const delayMs = backoffMs(crashes, Math.random());
            handlers.onFault({
              error,
              attempt: crashes,
              // kafkajs restarts after its own retry time.
              ...(action === 'own' ? { delayMs } : {}),
              what: 'consumer (it left the group)',
              rejoin: true,
            });
            void handlers.onLost(error).catch((e: unknown) => handlers.onCrash(e as Error));
            if (action === 'own') restart(handlers, delayMs);
          }),
        );
      // A new group reads from the start of the topics, as Kafka Streams does.
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run(runConfig(handlers));
    },
    seek(tp: TopicPartition, offset: bigint) {
      consumer.seek({ topic: tp.topic, partition: tp.partition, offset: offset.toString() });
    },
    async commit(offsets: TopicPartitionOffset[]) {
      if (offsets.length > 0) await consumer.commitOffsets(offsets);
    },
    async stop() {
      stopped = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      wakeAll();
      for (const remove of removers.splice(0)) remove();
      // disconnect() stops the fetch loop, waits for the batches in flight, leaves the group.
      await consumer.disconnect();
    },
  };
}
