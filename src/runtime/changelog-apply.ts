import type { StoreChange } from '../state/index.ts';
import type { Task } from './task.ts';

/** A changelog record as read back: a key, and a value (null: the entry was deleted). */
export interface ChangelogEntry {
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Restore's in-memory half: applies changelog records, read back in offset order, to one of a
 * task's stores through the store's own codec (the same decoding a restart after a crash does)
 * and counts them per store. Each applied change is appended to `into`, for the caller to write
 * to RocksDB. Shared by the worker's restore (restore.ts) and the test driver's restart, so an
 * aggregate that does not survive the changelog encoding fails in both alike.
 */
export function applyChangelog(
  task: Pick<Task, 'stores' | 'restored'>,
  store: string,
  records: readonly ChangelogEntry[],
  into?: StoreChange[],
): void {
  const memory = task.stores.get(store)?.memory;
  if (memory === undefined) return;
  task.restored.set(store, (task.restored.get(store) ?? 0) + records.length);
  for (const record of records) {
    if (record.key === null) continue;
    memory.apply(record.key, record.value);
    into?.push({ key: record.key, value: record.value });
  }
}
