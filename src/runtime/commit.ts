import { performance } from 'node:perf_hooks';

import type { Clock, Logger, Telemetry } from '../core/index.ts';
import { crossedRebalance, groupOnly } from '../kafka/index.ts';
import type {
  ConsumerGroupMetadata,
  OutgoingRecord,
  RecordProducer,
  TopicPartitionOffset,
  TransactionalProducer,
  WrittenOffsets,
} from '../kafka/index.ts';
import { writeCheckpoint } from '../state/index.ts';
import type { StoreChange } from '../state/index.ts';
import type { TaskPersistence } from './restore.ts';
import type { Task } from './task.ts';

/** A live task with what its commits need: its open RocksDB stores and checkpoint. */
export interface TaskHandle {
  task: Task;
  /** Set when the task was discarded after a failed commit: its partition gets a new task. */
  discarded?: boolean;
  taskDir: string;
  persistence: TaskPersistence;
  /** The changelog offsets after the task's last committed writes (merged into at every commit). */
  checkpoint: Map<string, string>;
  /** Store changes written to RocksDB since the checkpoint file was last written. */
  sinceCheckpoint: number;
  /** Under exactly-once: the task's transactional producer. */
  producer?: TransactionalProducer;
  /**
   * Under exactly-once: the member's place in the group its offsets are sent under (KIP-447):
   * that of the assignment it was made or last kept in (task-registry.ts).
   */
  group?: ConsumerGroupMetadata;
  /**
   * Per `topic/partition`: the first offset whose effects this task has not committed (its
   * first batch's start, then the offsets of each commit). Under exactly-once a discarded task's
   * partitions are fetched again from here: its aborted transaction may hold batches the
   * consumer had already moved past.
   */
  restartFrom: Map<string, bigint>;
  pending: {
    offsets: Map<string, TopicPartitionOffset>;
    changes: Map<string, StoreChange[]>;
    written: WrittenOffsets;
    since: number;
  };
}

export function emptyPending(): TaskHandle['pending'] {
  return { offsets: new Map(), changes: new Map(), written: new Map(), since: 0 };
}

/**
 * How a guarantee commits. The order of the steps is the guarantee (DESIGN.md, Data flow):
 *
 *   (1) write what the tasks collected for external sinks (Cassandra), retrying until written
 *   (2) flush store caches: their changes become changelog records
 *   (3) send the produced records (outputs, dead letters, changelog records) and wait for acks
 *   (4) commit the input offsets (inside the transaction under exactly-once)
 *   (5) write the stores' committed changes to RocksDB, then the checkpoint file
 *
 * A crash before (4) repeats the uncommitted input: at-least-once gives duplicates, exactly-once
 * aborts the transaction, so nothing of it is visible. RocksDB only holds committed changes.
 */
export interface Committer {
  /** After a fetched batch was processed. */
  afterBatch(
    handle: TaskHandle,
    produced: OutgoingRecord[],
    offset: TopicPartitionOffset,
  ): Promise<void>;
  /** Time-driven: what punctuation produced, and interval commits. */
  tick(handle: TaskHandle, produced: OutgoingRecord[]): Promise<void>;
  /** Commits what is open before the task closes. */
  close(handle: TaskHandle): Promise<void>;
}

/**
 * Write the checkpoint after this many store changes (and when a task closes). Each checkpoint
 * first syncs RocksDB to disk, so it never names changes a power loss could take back; in
 * between, a restart restores a longer changelog tail (replaying it is idempotent). Kafka
 * Streams uses the same 10,000.
 */
export const checkpointEveryChanges = 10_000;

/** (5): RocksDB, then (every so often, and at close) the checkpoint file. */
export async function persist(
  handle: TaskHandle,
  changes: Map<string, StoreChange[]>,
  written: WrittenOffsets,
  force = false,
): Promise<void> {
  if (handle.persistence.size === 0) return;
  for (const [store, list] of changes) {
    await handle.persistence.get(store)?.write(list);
    handle.task.stores.get(store)?.memory.persisted?.(list);
    handle.sinceCheckpoint += list.length;
  }
  for (const { spec } of handle.task.stores.values()) {
    // A table restored from its source topic is as far as the input committed (just now).
    const next =
      spec.source === undefined
        ? written.get(`${spec.changelogTopic}/${handle.task.partition}`)
        : handle.task.committedFloor.get(`${spec.changelogTopic}/${handle.task.partition}`);
    if (next !== undefined) handle.checkpoint.set(spec.changelogTopic, next.toString());
  }
  if (!force && handle.sinceCheckpoint < checkpointEveryChanges) return;
  for (const db of handle.persistence.values()) await db.flush();
  await writeCheckpoint(handle.taskDir, handle.checkpoint);
  handle.sinceCheckpoint = 0;
}

function merge(into: Map<string, StoreChange[]>, from: Map<string, StoreChange[]>): void {
  for (const [store, list] of from) {
    const existing = into.get(store);
    if (existing === undefined) into.set(store, list);
    else existing.push(...list);
  }
}

/** at_least_once: every batch is committed on its own, right after its outputs are acknowledged. */
export function atLeastOnceCommitter(
  producer: RecordProducer,
  commitOffsets: (offsets: TopicPartitionOffset[]) => Promise<void>,
  telemetry: Telemetry,
  flushExternal: (task: Task) => Promise<void>,
): Committer {
  const sendAndPersist = async (
    handle: TaskHandle,
    produced: OutgoingRecord[],
    offset?: TopicPartitionOffset,
  ): Promise<void> => {
    const began = performance.now();
    // (1)
    await flushExternal(handle.task);
    // (2)
    const flush = handle.task.flushStores();
    // (3) outputs and dead letters first, then the changelog records that account for them: a
    // send refused in part (INVALID_TIMESTAMP on an output partition, appended on the changelog
    // partition) must not leave a changelog that says a window was emitted when it was not, or
    // the rebuilt task would never emit it again.
    const written = await producer.send(produced);
    for (const [tp, next] of await producer.send(flush.records)) written.set(tp, next);
    // (4)
    if (offset !== undefined) await commitOffsets([offset]);
    // (5)
    await persist(handle, flush.changes, written);
    if (offset !== undefined) telemetry.committed((performance.now() - began) / 1000);
  };
  return {
    afterBatch: (handle, produced, offset) => sendAndPersist(handle, produced, offset),
    tick: (handle, produced) => sendAndPersist(handle, produced),
    close: (handle) => persist(handle, new Map(), new Map(), true),
  };
}

/** How long past its due time a transaction waits for a rebalance to end before it commits. */
const rebalanceHoldMs = 10_000;

/**
 * exactly_once: each task writes through its own transactional producer; a transaction stays
 * open across batches and commits (with the input offsets) once `commitIntervalMs` has passed.
 */
export function exactlyOnceCommitter(options: {
  groupId: string;
  /** The member's place in the group now (BatchConsumer.groupMetadata). */
  currentGroup: () => ConsumerGroupMetadata;
  commitIntervalMs: number;
  clock: Clock;
  logger: Logger;
  telemetry: Telemetry;
  flushExternal: (task: Task) => Promise<void>;
  /**
   * True while the member rebalances (BatchConsumer.rebalancing): a due commit waits, at most
   * `rebalanceHoldMs` past its due time, since offsets sent as the group moves to its next
   * generation are refused, and the transaction aborted, while the task is still this
   * member's (an incremental rebalance keeps its tasks running).
   */
  rebalancing?: () => boolean;
}): Committer {
  const { groupId, commitIntervalMs, clock } = options;
  const producerOf = (handle: TaskHandle): TransactionalProducer => {
    if (handle.producer === undefined)
      throw new Error(`task ${handle.task.id} has no transactional producer`);
    return handle.producer;
  };
  const write = async (handle: TaskHandle, produced: OutgoingRecord[]): Promise<void> => {
    const producer = producerOf(handle);
    // (2)
    const flush = handle.task.flushStores();
    const records = [...produced, ...flush.records];
    if (records.length === 0 && flush.changes.size === 0) return;
    if (!producer.inTransaction) {
      await producer.begin();
      handle.pending.since = clock.now();
    }
    // (3)
    const written = await producer.send(records);
    for (const [tp, next] of written) handle.pending.written.set(tp, next);
    merge(handle.pending.changes, flush.changes);
  };
  const commit = async (handle: TaskHandle): Promise<void> => {
    const producer = producerOf(handle);
    if (!producer.inTransaction) return;
    const began = performance.now();
    // (1)
    await options.flushExternal(handle.task);
    // (4)
    const offsets = [...handle.pending.offsets.values()];
    const group = handle.group ?? groupOnly(groupId);
    try {
      if (offsets.length > 0) await producer.sendOffsets(group, offsets);
      await producer.commit();
    } catch (error) {
      // A refusal that crossed a rebalance loses this task only (kafka/faults.ts).
      throw (
        crossedRebalance(error, group.generationId, options.currentGroup().generationId) ?? error
      );
    }
    options.logger.debug(
      {
        task: handle.task.id,
        offsets: offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`),
      },
      'transaction committed',
    );
    for (const o of offsets) handle.restartFrom.set(`${o.topic}/${o.partition}`, BigInt(o.offset));
    const { changes, written } = handle.pending;
    handle.pending = emptyPending();
    // (5)
    await persist(handle, changes, written);
    options.telemetry.committed((performance.now() - began) / 1000);
  };
  const due = (handle: TaskHandle): boolean => {
    const open = clock.now() - handle.pending.since;
    if (open < commitIntervalMs) return false;
    return options.rebalancing?.() !== true || open >= commitIntervalMs + rebalanceHoldMs;
  };
  return {
    async afterBatch(handle, produced, offset) {
      const producer = producerOf(handle);
      if (!producer.inTransaction) {
        await producer.begin();
        handle.pending.since = clock.now();
      }
      await write(handle, produced);
      // Never back: a batch delivered again (partly skipped) ends below what is pending.
      const key = `${offset.topic}/${offset.partition}`;
      const pending = handle.pending.offsets.get(key);
      if (pending === undefined || BigInt(pending.offset) < BigInt(offset.offset))
        handle.pending.offsets.set(key, offset);
      if (due(handle)) await commit(handle);
    },
    async tick(handle, produced) {
      await write(handle, produced);
      if (producerOf(handle).inTransaction && due(handle)) await commit(handle);
    },
    async close(handle) {
      try {
        await commit(handle);
        await persist(handle, new Map(), new Map(), true);
      } catch (error) {
        options.logger.warn(
          { task: handle.task.id, err: error },
          'closing task: its open transaction could not commit and is aborted',
        );
        await producerOf(handle)
          .abort()
          .catch(() => undefined);
      }
    },
  };
}
