import type { MemoryStore, StoreChange } from '../state/index.ts';
import type { AnySerde } from '../topology/plan.ts';
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

/** A table's serdes' per-batch work (the Avro serde fetches the writer schemas it lacks). */
export async function prepareRecords(
  serdes: { key: AnySerde; value: AnySerde },
  topic: string,
  records: readonly ChangelogEntry[],
): Promise<void> {
  await serdes.key.prepareBatch?.(
    records.map((r) => r.key),
    topic,
  );
  await serdes.value.prepareBatch?.(
    records.map((r) => r.value),
    topic,
  );
}

/**
 * Restore of a table whose store's changelog is the topic the table reads (StoreSpec.source):
 * its records are decoded with the table's serdes, and the key encoded again, so the store holds
 * what processing would have put there. A record that does not decode was dead-lettered when
 * processed, so it is skipped here too. Returns how many were skipped.
 */
export async function applySourceTopic(
  task: Pick<Task, 'stores' | 'restored'>,
  store: string,
  source: { key: AnySerde; value: AnySerde },
  topic: string,
  records: readonly ChangelogEntry[],
  into?: StoreChange[],
): Promise<number> {
  const memory = task.stores.get(store)?.memory as MemoryStore<unknown> | undefined;
  if (memory === undefined) return 0;
  task.restored.set(store, (task.restored.get(store) ?? 0) + records.length);
  await prepareRecords(source, topic, records);
  let skipped = 0;
  for (const record of records) {
    let key: Buffer | null;
    let value: unknown;
    try {
      key = source.key.serialize(source.key.deserialize(record.key, topic), topic);
      value = source.value.deserialize(record.value, topic);
    } catch {
      skipped++;
      continue;
    }
    if (key === null) continue;
    const change = memory.applyValue(key, value === undefined ? null : value);
    into?.push(change);
  }
  return skipped;
}
