import type { Logger } from '../core/index.ts';
import type { BatchConsumer, FetchedBatch, RecordProducer } from '../kafka/index.ts';
import { commitBatch } from './commit.ts';
import { HaltError } from './processor-node.ts';
import type { TaskRegistry } from './task-registry.ts';

export interface PollLoopDeps {
  registry: TaskRegistry;
  consumer: BatchConsumer;
  producer: RecordProducer;
  logger: Logger;
  /** Serdes that need I/O per batch (the Avro serde) by source topic. */
  prepareBatch: (batch: FetchedBatch) => Promise<void>;
  /** Called once when an operator with the `fail` policy failed; the worker stops. */
  halt: (error: HaltError) => void;
}

/**
 * Handles one fetched batch (kafkajs runs batches of one partition one after another):
 *
 *   (1) find (or create) the task of the batch's partition
 *   (2) let serdes prepare the batch (e.g. fetch unknown schemas), the only await before processing
 *   (3) process every record synchronously, in offset order, collecting outputs and dead letters
 *   (4) commit: send the collected records, wait for their acks, then commit the offset
 *
 * Returns 'halt' (and processes nothing more) after a `fail` operator failed.
 */
export function pollLoop(deps: PollLoopDeps): (batch: FetchedBatch) => Promise<'done' | 'halt'> {
  let halted = false;
  return async (batch) => {
    if (halted) return 'halt';
    // (1)
    const task = await deps.registry.taskFor(batch);
    return task.exclusive(async () => {
      // (2)
      await deps.prepareBatch(batch);
      // (3)
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
      const last = batch.records[batch.records.length - 1];
      if (last === undefined) return 'done';
      const next = (BigInt(last.offset) + 1n).toString();
      await commitBatch(deps.producer, deps.consumer, produced, {
        topic: batch.topic,
        partition: batch.partition,
        offset: next,
      });
      return 'done';
    });
  };
}
