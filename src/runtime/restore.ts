import { TributaryError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { ChangelogReader } from '../kafka/index.ts';
import { readCheckpoint, storeDir, taskStateDir } from '../state/index.ts';
import type { StoreChange } from '../state/index.ts';
import { RocksDbPersistence } from '../state/rocksdb/index.ts';
import type { Task } from './task.ts';

/** Where a task's stores live on disk and how they are persisted. */
export interface StateLocation {
  stateDir: string;
  appId: string;
}

/** The open RocksDB of each store of a task, by store name. */
export type TaskPersistence = Map<string, RocksDbPersistence>;

export interface RestoredTask {
  persistence: TaskPersistence;
  /** Changelog offsets the stores now reflect (the start of the next checkpoint). */
  checkpoint: Map<string, string>;
}

/**
 * Restores a task's stores before its processors start:
 *
 *   (1) read the task's checkpoint (changelog offsets written after its last commit);
 *   (2) for a store named in it: open its RocksDB and load every entry into memory, then read
 *       the changelog from the checkpointed offset; for a store not named in it (no checkpoint,
 *       or a corrupt one): wipe its directory and read the changelog from the beginning;
 *   (3) apply what was read to memory and write it to RocksDB in one batch per store.
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
  const taskDir = taskStateDir(location.stateDir, location.appId, task.id);
  // (1)
  const checkpoint = await readCheckpoint(taskDir);
  const persistence: TaskPersistence = new Map();
  const requests = [];
  const byTopic = new Map<string, { name: string; changes: StoreChange[] }>();
  // (2)
  for (const { spec, memory } of task.stores.values()) {
    const dir = storeDir(location.stateDir, location.appId, task.id, spec.name);
    const from = checkpoint?.get(spec.changelogTopic);
    if (from === undefined) await RocksDbPersistence.wipe(dir);
    const db = await RocksDbPersistence.open(dir);
    persistence.set(spec.name, db);
    memory.clear();
    const loaded =
      from === undefined ? 0 : await db.loadAll((key, value) => memory.apply(key, value));
    requests.push({ topic: spec.changelogTopic, partition: task.partition, from: from ?? '0' });
    byTopic.set(spec.changelogTopic, { name: spec.name, changes: [] });
    logger.info({ store: spec.name, loaded, from: from ?? 'beginning' }, 'store opened');
  }
  const reached = new Map<string, string>();
  try {
    const counts = await reader.read(requests, async (tp, records) => {
      const target = byTopic.get(tp.topic);
      const memory = target === undefined ? undefined : task.stores.get(target.name)?.memory;
      if (target === undefined || memory === undefined) return;
      task.restored.set(target.name, (task.restored.get(target.name) ?? 0) + records.length);
      for (const record of records) {
        if (record.key === null) continue;
        memory.apply(record.key, record.value);
        target.changes.push({ key: record.key, value: record.value });
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
    throw new TributaryError(
      'STATE_FAILED',
      `restoring the stores of task ${task.id} failed: ${(cause as Error).message}`,
      { cause },
    );
  }
  return { persistence, checkpoint: reached };
}
