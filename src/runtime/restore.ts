import { TributaryError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { ChangelogReader } from '../kafka/index.ts';
import { isFatalStateError } from '../state/index.ts';
import type { StoreChange } from '../state/index.ts';
import { applyChangelog, applySourceTopic } from './changelog-apply.ts';
import type { StoreSpec } from '../topology/plan.ts';
import type { Task } from './task.ts';
import { openTaskStores } from './task-stores.ts';
import type { StateLocation, TaskPersistence } from './task-stores.ts';

export type { StateLocation, TaskPersistence } from './task-stores.ts';

/** Changelog records restored per RocksDB write batch. */
export const restoreWriteBatch = 50_000;

export interface RestoredTask {
  persistence: TaskPersistence;
  /** Changelog offsets the stores now reflect (the start of the next checkpoint). */
  checkpoint: Map<string, string>;
}

/**
 * Restores a task's stores before its processors start:
 *
 *   (1)-(2) open the stores (task-stores.ts): with a checkpoint that holds against the stores on
 *       disk and the changelog, load each store from RocksDB and read its changelog from the
 *       checkpointed offset; otherwise (no checkpoint, or a fault: then all the task's local
 *       state is wiped, with one warning) read the changelog from its start;
 *   (3) apply what was read to memory (a cached store, which lives in RocksDB, only drops the
 *       copies it holds: cached-store.ts) and write it to RocksDB, in batches of
 *       `restoreWriteBatch` records as it is read.
 *
 * RocksDB only ever receives committed changes (the runtime writes it after a commit), so a
 * checkpointed store needs the changelog tail only. Returns the open stores.
 */
export async function restoreTask(
  task: Task,
  location: StateLocation,
  reader: ChangelogReader,
  logger: Logger,
): Promise<RestoredTask> {
  const began = Date.now();
  // (1)-(2)
  const { persistence, from } = await openTaskStores(task, location, reader, logger);
  const requests = [];
  const byTopic = new Map<
    string,
    { name: string; changes: StoreChange[]; source: StoreSpec['source'] }
  >();
  for (const { spec } of task.stores.values()) {
    const offset = from.get(spec.changelogTopic) ?? '0';
    // A table restored from the topic it reads goes up to the group's committed offset only:
    // what follows is processed again, and must find the table as it was before it.
    const to =
      spec.source === undefined
        ? {}
        : {
            to: (
              task.committedFloor.get(`${spec.changelogTopic}/${task.partition}`) ?? 0n
            ).toString(),
          };
    requests.push({ topic: spec.changelogTopic, partition: task.partition, from: offset, ...to });
    byTopic.set(spec.changelogTopic, { name: spec.name, changes: [], source: spec.source });
  }
  const reached = new Map<string, string>();
  try {
    const counts = await reader.read(requests, async (tp, records) => {
      const target = byTopic.get(tp.topic);
      if (target === undefined) return;
      if (target.source === undefined) applyChangelog(task, target.name, records, target.changes);
      else
        await applySourceTopic(task, target.name, target.source, tp.topic, records, target.changes);
      // Written as it is read, so a long changelog is never held whole: what the changelog
      // holds is committed, and the checkpoint is written only after the restore.
      if (target.changes.length >= restoreWriteBatch) {
        await persistence.get(target.name)?.write(target.changes);
        target.changes = [];
      }
    });
    // (3)
    for (const [topic, { name, changes }] of byTopic) {
      await persistence.get(name)?.write(changes);
      const progress = counts.get(`${topic}/${task.partition}`);
      const read = progress?.records ?? 0;
      if (progress !== undefined) reached.set(topic, progress.position.toString());
      task.stats.restored += read;
      logger.info(
        { store: name, changelog: topic, records: read, ms: Date.now() - began },
        'store restored',
      );
    }
  } catch (cause) {
    for (const db of persistence.values()) await db.close();
    if (isFatalStateError(cause)) throw cause;
    throw new TributaryError(
      'STATE_FAILED',
      `restoring the stores of task ${task.id} failed: ${(cause as Error).message}`,
      { cause },
    );
  }
  return { persistence, checkpoint: reached };
}
