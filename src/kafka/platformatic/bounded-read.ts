import type { FetchedRecord, RestoreProgress, TopicPartition } from '../types.ts';
import type { Fetcher } from './fetcher.ts';
import { tpKey } from './fetcher.ts';

/** A partition to read from `position` up to `end` (exclusive). */
export interface BoundedPartition extends TopicPartition {
  position: bigint;
  end: bigint;
}

/** A read that makes no progress this long fails (the broker is gone): a store must never start from a partial changelog. */
export const quietEndMs = 30_000;

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * Reads each partition from its position to its end through `fetcher`, handing the committed
 * records below the end to `onRecords` (the batches of one partition in offset order, each
 * awaited before the next), and returns per `topic/partition` the records handed over and the
 * offset reached. Positions move on past markers and aborted records too, so a partition whose
 * last records are a marker still ends.
 */
export async function readToEnds(
  fetcher: Fetcher,
  partitions: BoundedPartition[],
  onRecords: (tp: TopicPartition, records: FetchedRecord[]) => Promise<void>,
): Promise<Map<string, RestoreProgress>> {
  const progress = new Map<string, RestoreProgress>();
  const pending = new Map<string, BoundedPartition & { lastSeen: number }>();
  for (const p of partitions) {
    progress.set(tpKey(p), { records: 0, position: p.position });
    if (p.position < p.end) pending.set(tpKey(p), { ...p, lastSeen: Date.now() });
  }
  while (pending.size > 0) {
    const fetched = await fetcher.fetch(
      [...pending.values()].map((p) => ({ ...p, offset: p.position })),
    );
    await Promise.all(
      [...fetched].map(async ([key, { records, next }]) => {
        const state = pending.get(key);
        if (state === undefined) return;
        const below = records.filter((r) => BigInt(r.offset) < state.end);
        if (below.length > 0)
          await onRecords({ topic: state.topic, partition: state.partition }, below);
        const reached = min(next, state.end);
        if (reached > state.position) {
          state.position = reached;
          state.lastSeen = Date.now();
        }
        progress.set(key, {
          records: (progress.get(key)?.records ?? 0) + below.length,
          position: state.position,
        });
        if (state.position >= state.end) pending.delete(key);
      }),
    );
    for (const [key, state] of pending)
      if (Date.now() - state.lastSeen > quietEndMs)
        throw new Error(
          `read of ${key} stalled at offset ${state.position} of ${state.end}: nothing arrived for ${quietEndMs} ms`,
        );
  }
  return progress;
}
