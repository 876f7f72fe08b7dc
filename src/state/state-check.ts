import type { CheckpointFile } from './checkpoint.ts';

/** A store of a task as the restore finds it on disk. */
export interface StoreOnDisk {
  name: string;
  changelogTopic: string;
  /** A RocksDB database is in its directory (RocksDbPersistence.holdsDatabase). */
  present: boolean;
}

/**
 * The offsets a changelog partition holds: `start` is its log-start offset (the first offset
 * still readable), `end` its high watermark (the offset of the next record written).
 */
export interface ChangelogRange {
  start: bigint;
  end: bigint;
}

/**
 * Why a task's local state cannot be trusted. Each one wipes all the task's stores and its
 * checkpoint, and the stores are restored from the start of their changelogs.
 */
export type WipeCause =
  | { kind: 'checkpoint-corrupt'; reason: string }
  | { kind: 'store-missing'; store: string }
  | { kind: 'checkpoint-past-end'; store: string; changelog: string; offset: bigint; end: bigint }
  | {
      kind: 'checkpoint-before-start';
      store: string;
      changelog: string;
      offset: bigint;
      start: bigint;
    }
  | { kind: 'store-unreadable'; store: string; reason: string };

export type WipeCauseKind = WipeCause['kind'];

/**
 * Checks a task's checkpoint against its stores on disk and its changelogs' offsets (`ranges`
 * by changelog topic, for the task's partition). No checkpoint is not a fault (a first start, or
 * under exactly-once a task that did not close cleanly): every store restores from the start
 * anyway. A store the checkpoint does not name (added to the topology since) restores from the
 * start on its own. Otherwise, for each store the checkpoint names:
 *
 *   (1) its RocksDB must be there: a checkpoint over an empty store would skip the changelog
 *       records before the checkpoint, losing state (open windows) without a word;
 *   (2) its offset must not be past the changelog's end: the changelog was deleted and made
 *       again, or truncated, or the file is not ours; its store holds changes Kafka does not.
 *       A checkpoint equal to the end is the usual case after a clean close. The end is the
 *       high watermark, not the read_committed end: a checkpoint is written after the commit
 *       that covers it, so it never passes the high watermark legitimately;
 *   (3) its offset must not be before the changelog's log-start offset: records the store has
 *       not seen were deleted, so reading on from the checkpoint cannot bring it up to date.
 *
 * The first fault found is returned (one is enough to wipe the task); undefined if none.
 */
export function checkpointFault(
  checkpoint: CheckpointFile,
  stores: readonly StoreOnDisk[],
  ranges: ReadonlyMap<string, ChangelogRange>,
): WipeCause | undefined {
  if (checkpoint.kind === 'corrupt')
    return { kind: 'checkpoint-corrupt', reason: checkpoint.reason };
  if (checkpoint.kind === 'absent') return undefined;
  for (const store of stores) {
    const text = checkpoint.offsets.get(store.changelogTopic);
    if (text === undefined) continue;
    // (1)
    if (!store.present) return { kind: 'store-missing', store: store.name };
    const range = ranges.get(store.changelogTopic);
    if (range === undefined) continue;
    const offset = BigInt(text);
    const changelog = store.changelogTopic;
    // (2)
    if (offset > range.end)
      return { kind: 'checkpoint-past-end', store: store.name, changelog, offset, end: range.end };
    // (3)
    if (offset < range.start) {
      return {
        kind: 'checkpoint-before-start',
        store: store.name,
        changelog,
        offset,
        start: range.start,
      };
    }
  }
  return undefined;
}

/** One line for the warning: what was found. */
export function describeWipeCause(cause: WipeCause): string {
  switch (cause.kind) {
    case 'checkpoint-corrupt':
      return `its checkpoint file is corrupt (${cause.reason})`;
    case 'store-missing':
      return `store ${cause.store} is missing while the checkpoint names it`;
    case 'checkpoint-past-end':
      return `the checkpoint of store ${cause.store} (offset ${cause.offset}) is past the end of changelog ${cause.changelog} (${cause.end})`;
    case 'checkpoint-before-start':
      return `the checkpoint of store ${cause.store} (offset ${cause.offset}) is before the start of changelog ${cause.changelog} (${cause.start})`;
    case 'store-unreadable':
      return `store ${cause.store} cannot be opened or read (${cause.reason})`;
  }
}
