import { TributaryError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { ChangelogReader } from '../kafka/index.ts';
import { deleteCheckpoint, readCheckpointFile, storeDir, taskStateDir } from '../state/index.ts';
import type { ChangelogRange, WipeCause } from '../state/index.ts';
import { checkpointFault, describeWipeCause } from '../state/index.ts';
import { CachedStore } from '../state/index.ts';
import { RocksDbPersistence } from '../state/rocksdb/index.ts';
import type { Task } from './task.ts';

/** Where a task's stores live on disk and how they are persisted. */
export interface StateLocation {
  stateDir: string;
  appId: string;
}

/** The open RocksDB of each store of a task, by store name. */
export type TaskPersistence = Map<string, RocksDbPersistence>;

/** A task's stores, open and loaded, and where each one's changelog is read from. */
export interface OpenedStores {
  persistence: TaskPersistence;
  /** Per changelog topic: the offset to read from (the checkpoint's, or the log start). */
  from: Map<string, string>;
  /** Why the task's local state was wiped, if it was. */
  wiped?: WipeCause;
}

/** One store to open: where it lives and what holds it in memory. */
export interface StoreEntry {
  name: string;
  changelogTopic: string;
  dir: string;
  apply: (key: Buffer, value: Buffer) => void;
  clear: () => void;
  /** A store whose live copy is RocksDB: it is not loaded into memory, it reads from there. */
  cached: CachedStore<unknown> | undefined;
  /** Load what RocksDB holds into memory at open (false: a cached store, or a standby's). */
  load: boolean;
  /** Open RocksDB for point reads (a cached store's options: rocksdb-persistence.ts). */
  pointReads: boolean;
}

/**
 * Opens a task's stores for its restore, trusting local state only when it is consistent:
 *
 *   (1) read the checkpoint; if there is one, check it against the stores on disk and the
 *       changelogs' offsets (state-check.ts);
 *   (2) if it holds, open every store and load what the checkpoint covers into memory (not a
 *       cached store: it reads from RocksDB as batches come); a store that cannot be opened or
 *       read (corrupt or missing files) is a fault too;
 *   (3) on a fault: close what is open, delete every store directory of the task and its
 *       checkpoint, log one warning naming the cause, and open the stores empty: the changelog
 *       is then read from its start. A full or unwritable disk is not a fault of the state but
 *       of the machine: it is thrown (STATE_DISK_FULL, STATE_DIR_UNWRITABLE) and ends the worker.
 */
export async function openTaskStores(
  task: Pick<Task, 'id' | 'partition' | 'stores' | 'stats'>,
  location: StateLocation,
  reader: ChangelogReader,
  logger: Logger,
): Promise<OpenedStores> {
  const stores: StoreEntry[] = [...task.stores.values()].map(({ spec, memory }) => {
    const cached = memory instanceof CachedStore ? memory : undefined;
    return {
      name: spec.name,
      changelogTopic: spec.changelogTopic,
      dir: storeDir(location.stateDir, location.appId, task.id, spec.name),
      apply: (key, value) => memory.apply(key, value),
      clear: () => memory.clear(),
      cached,
      load: cached === undefined,
      pointReads: cached !== undefined,
    };
  });
  return openStores(task, stores, location, reader, logger);
}

/** openTaskStores over stores described by the caller (a standby's have no memory). */
export async function openStores(
  task: Pick<Task, 'id' | 'partition' | 'stats'>,
  stores: StoreEntry[],
  location: StateLocation,
  reader: ChangelogReader,
  logger: Logger,
): Promise<OpenedStores> {
  const taskDir = taskStateDir(location.stateDir, location.appId, task.id);
  // (1)
  const file = await readCheckpointFile(taskDir);
  let ranges = new Map<string, ChangelogRange>();
  let fault: WipeCause | undefined;
  if (file.kind !== 'absent') {
    const tps = stores.map((s) => ({ topic: s.changelogTopic, partition: task.partition }));
    const byPartition = await reader.offsetRanges(tps);
    ranges = new Map(stores.flatMap((s) => rangeOf(byPartition, s.changelogTopic, task.partition)));
    const onDisk = await Promise.all(
      stores.map(async (s) => ({
        name: s.name,
        changelogTopic: s.changelogTopic,
        present: await RocksDbPersistence.holdsDatabase(s.dir),
      })),
    );
    fault = checkpointFault(file, onDisk, ranges);
  }
  const checkpoint = file.kind === 'found' && fault === undefined ? file.offsets : undefined;
  // (2)
  const persistence: TaskPersistence = new Map();
  const from = new Map<string, string>();
  if (fault === undefined) {
    try {
      fault = await openAll(stores, checkpoint, persistence, from, logger);
    } catch (error) {
      // Not a fault of the files (a held lock, a full disk): release what is open, so that a
      // retry does not find this process holding the stores' locks.
      for (const db of persistence.values()) await db.close().catch(() => undefined);
      throw error;
    }
  }
  if (fault === undefined) return { persistence, from };
  // (3)
  for (const db of persistence.values()) await db.close().catch(() => undefined);
  persistence.clear();
  from.clear();
  for (const store of stores) await RocksDbPersistence.wipe(store.dir);
  await deleteCheckpoint(taskDir);
  task.stats.wiped++;
  logger.warn(
    { cause: fault.kind },
    `local state of task ${task.id} wiped, restoring it from the changelog: ${describeWipeCause(fault)}`,
  );
  for (const store of stores) {
    store.clear();
    const db = await RocksDbPersistence.open(store.dir, store.pointReads);
    store.cached?.attach(db, false);
    persistence.set(store.name, db);
    from.set(store.changelogTopic, (ranges.get(store.changelogTopic)?.start ?? 0n).toString());
  }
  return { persistence, from, wiped: fault };
}

/**
 * Opens each store; a store named in the checkpoint is loaded into memory and read on from its
 * offset, any other is wiped first and read from the start. Returns the first store that cannot
 * be opened or read (those opened stay in `persistence` for the caller to close).
 */
async function openAll(
  stores: StoreEntry[],
  checkpoint: Map<string, string> | undefined,
  persistence: TaskPersistence,
  from: Map<string, string>,
  logger: Logger,
): Promise<WipeCause | undefined> {
  for (const store of stores) {
    const offset = checkpoint?.get(store.changelogTopic);
    if (offset === undefined) await RocksDbPersistence.wipe(store.dir);
    store.clear();
    let loaded = 0;
    try {
      const db = await RocksDbPersistence.open(store.dir, store.pointReads);
      persistence.set(store.name, db);
      // A cached store reads what it needs from RocksDB as batches come.
      if (store.cached !== undefined) store.cached.attach(db, offset !== undefined);
      else if (offset !== undefined && store.load) loaded = await db.loadAll(store.apply);
    } catch (error) {
      if (error instanceof TributaryError && error.code === 'STATE_CORRUPT') {
        const reason = error.cause instanceof Error ? error.cause.message : error.message;
        return { kind: 'store-unreadable', store: store.name, reason };
      }
      throw error;
    }
    from.set(store.changelogTopic, offset ?? '0');
    logger.info({ store: store.name, loaded, from: offset ?? 'beginning' }, 'store opened');
  }
  return undefined;
}

function rangeOf(
  byPartition: Map<string, ChangelogRange>,
  topic: string,
  partition: number,
): [string, ChangelogRange][] {
  const range = byPartition.get(`${topic}/${partition}`);
  return range === undefined ? [] : [[topic, range]];
}
