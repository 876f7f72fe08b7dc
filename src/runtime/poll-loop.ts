import { performance } from 'node:perf_hooks';

import { TributaryError } from '../core/index.ts';
import type { Telemetry } from '../core/index.ts';
import type { FetchedBatch } from '../kafka/index.ts';
import { deleteCheckpoint } from '../state/index.ts';
import type { Committer, TaskHandle } from './commit.ts';
import { HaltError } from './processor-node.ts';
import type { TaskRegistry } from './task-registry.ts';

export interface PollLoopDeps {
  registry: TaskRegistry;
  committer: Committer;
  /** Serdes that need I/O per batch (the Avro serde) by source topic. */
  prepareBatch: (batch: FetchedBatch) => Promise<void>;
  /** Called once when an operator with the `fail` policy failed; the worker stops. */
  halt: (error: HaltError) => void;
  /** True once the worker is stopping: batches are left for the next owner. */
  stopping: () => boolean;
  /**
   * True from a fence or a lost membership until the next assignment: this worker may no longer
   * own its partitions, so it creates no task (a task's producer would fence the real owner's)
   * and answers 'rejoin': the consumer rejoins the group.
   */
  rejoining: () => boolean;
  telemetry: Telemetry;
  /**
   * A commit failed after the batch changed the task's state (or a store could not be read):
   * the task must be rebuilt. `why` is the warning logged, if not the commit's.
   */
  corrupted: (handle: TaskHandle, error: unknown, why?: string) => Promise<void>;
  /** After a batch is committed: the partition's next offset to process. */
  position: (topic: string, partition: number, next: bigint) => void;
}

export interface PollLoop {
  handleBatch(batch: FetchedBatch): Promise<'done' | 'halt' | 'skip' | 'rejoin'>;
  /** Resolves when no batch is being handled. */
  idle(): Promise<void>;
}

/**
 * Handles one fetched batch (kafkajs runs the batches of one partition one after another):
 *
 *   (1) find (or create: restore, initialise) the task of the batch's partition
 *   (2) let serdes prepare the batch (e.g. fetch unknown schemas)
 *   (3) have cached stores read the keys the batch needs from RocksDB (the last await), then
 *       process every record synchronously, in offset order, collecting what it produced
 *   (4) commit as the guarantee says (commit.ts): outputs and changelogs, then the offset
 *
 * Returns 'halt' (and processes nothing more) once stopping or after a `fail` operator failed.
 */
export function pollLoop(deps: PollLoopDeps): PollLoop {
  let halted = false;
  let inFlight = 0;
  let whenIdle: (() => void)[] = [];
  const handle = async (batch: FetchedBatch): Promise<'done' | 'halt' | 'skip' | 'rejoin'> => {
    if (halted || deps.stopping()) return 'halt';
    if (deps.rejoining()) return 'rejoin';
    // (1)
    const taskHandle = await deps.registry.handleFor(batch);
    const { task } = taskHandle;
    const of = `batch of ${batch.topic}/${batch.partition}`;
    return task.exclusive(async () => {
      if (deps.stopping()) return 'halt';
      if (deps.registry.get(task.id) !== taskHandle) {
        // Discarded while this batch waited, or closed (its partition was revoked): leave the
        // batch unprocessed and unresolved. The consumer fetches it again (after a discard
        // under exactly-once, from the task's last commit: runtime.ts, rewind), or the new
        // owner does. Run here on a successor, a batch past the discarded task's aborted
        // batches would move the partition's position beyond them, and they would be lost.
        return 'skip';
      }
      // The partition was sought back (a discarded task's rewind) after this batch was fetched.
      if (batch.isStale?.() === true) return 'skip';
      const began = performance.now();
      // (2)
      await deps.prepareBatch(batch);
      // A batch delivered again whose records this task already processed: nothing to do, and
      // committing its (older) offset would move the partition's position back.
      const last = batch.records[batch.records.length - 1];
      const floor = task.committedFloor.get(`${batch.topic}/${batch.partition}`);
      if (last !== undefined && floor !== undefined && BigInt(last.offset) < floor) return 'done';
      const first = batch.records[0];
      const key = `${batch.topic}/${batch.partition}`;
      if (first !== undefined && !taskHandle.restartFrom.has(key)) {
        const start = BigInt(first.offset);
        taskHandle.restartFrom.set(key, floor !== undefined && floor > start ? floor : start);
      }
      // (3) a task with cached stores first loads the entries the batch reads (cached-store.ts)
      const loading = task.prefetch(batch.topic, batch.records);
      if (loading !== undefined) {
        task.busyWith(`the RocksDB reads of the ${of}`);
        try {
          await loading;
        } catch (error) {
          // A store that cannot be read (a corrupt or missing file) is a fault of the task's
          // local state, found while it runs rather than at its restore: its checkpoint goes,
          // so the task's next build wipes its stores and restores them from the changelog
          // (Kafka Streams' TaskCorruptedException). Nothing of the batch was processed.
          if (error instanceof TributaryError && error.code === 'STATE_CORRUPT') {
            await deleteCheckpoint(taskHandle.taskDir);
            await deps.corrupted(
              taskHandle,
              error,
              'a store of the task cannot be read: task discarded, its local state wiped and restored from the changelog',
            );
          }
          throw error;
        }
        task.busyWith(`the ${of}`);
      }
      let produced;
      try {
        produced = task.process(batch.topic, batch.partition, batch.records);
      } catch (error) {
        if (!(error instanceof HaltError)) throw error;
        halted = true;
        deps.halt(error);
        return 'halt';
      }
      // (4)
      if (last === undefined) return 'done';
      const next = (BigInt(last.offset) + 1n).toString();
      task.busyWith(`commit of the ${of}`);
      try {
        await deps.committer.afterBatch(taskHandle, produced, {
          topic: batch.topic,
          partition: batch.partition,
          offset: next,
        });
      } catch (error) {
        // The batch will be delivered again; the task's stores already hold its effects.
        await deps.corrupted(taskHandle, error);
        throw error;
      }
      deps.telemetry.batchProcessed(
        task.id,
        (performance.now() - began) / 1000,
        batch.records.length,
      );
      deps.position(batch.topic, batch.partition, BigInt(next));
      return 'done';
    }, `the ${of} (its serdes' lookups, then processing)`);
  };
  return {
    async handleBatch(batch) {
      inFlight++;
      try {
        return await handle(batch);
      } finally {
        inFlight--;
        if (inFlight === 0) {
          for (const resolve of whenIdle) resolve();
          whenIdle = [];
        }
      }
    },
    idle: () =>
      inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => whenIdle.push(resolve)),
  };
}
