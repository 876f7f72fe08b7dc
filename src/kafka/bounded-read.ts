import { setTimeout as sleep } from 'node:timers/promises';

import { backoffMs, classifyKafkaError } from './faults.ts';
import type { FetchedRecord, RestoreProgress, RestoreRequest, TopicPartition } from './types.ts';

// Reads of partitions to an end without a consumer group (manual assignment): restores, tools'
// whole-topic reads. The loop is the same for every client adapter; each gives it a
// PartitionFetcher (kafkajs: changelog-reader.ts; @platformatic/kafka: platformatic/fetcher.ts).

export const tpKey = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

/** A partition to fetch, from `offset`. */
export interface FetchPosition extends TopicPartition {
  offset: bigint;
}

/** What one fetch returned for a partition: its committed records from the offset asked, and where the next fetch starts. */
export interface FetchedPartition {
  records: FetchedRecord[];
  /** The offset after the last batch returned (records, markers or aborted records); the offset asked if none. */
  next: bigint;
  /**
   * The partition's last stable offset in the answer (where a read_committed read can get to),
   * where the fetcher reports it.
   */
  stableEnd?: bigint;
}

/** One read_committed Fetch per partition leader, of all the positions on it at once. */
export interface PartitionFetcher {
  /** Returns the partitions that answered, by `topic/partition`. */
  fetch(positions: FetchPosition[]): Promise<Map<string, FetchedPartition>>;
  /** Called before a failed fetch is retried (the kafkajs adapter refreshes its metadata). */
  recover?(): Promise<void>;
}

/** A partition to read from `position` up to `end` (exclusive). */
export interface BoundedPartition extends TopicPartition {
  position: bigint;
  end: bigint;
}

/**
 * If no partition of a read moves on for this long (every fetch failing, or answering nothing)
 * the read fails: a store must never start from a partial changelog.
 */
export const quietEndMs = 30_000;

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/**
 * The partitions of `requests` to read: from the
 * request's offset (at least the log start: records deleted by retention are read from the log
 * start, as a consumer reset to the earliest offset would) to the partition's end (`ranges`: the
 * last stable offset when the read began) or the request's `to` if lower.
 */
export function boundedPartitions(
  requests: RestoreRequest[],
  ranges: Map<string, { start: bigint; end: bigint }>,
): BoundedPartition[] {
  return requests.map((request) => {
    const range = ranges.get(tpKey(request)) ?? { start: 0n, end: 0n };
    const end = request.to === undefined ? range.end : min(BigInt(request.to), range.end);
    return {
      topic: request.topic,
      partition: request.partition,
      position: max(BigInt(request.from), range.start),
      end,
    };
  });
}

function stalled(pending: Map<string, BoundedPartition>, cause?: unknown): Error {
  const where = [...pending.entries()]
    .map(([key, p]) => `${key} at offset ${p.position} of ${p.end}`)
    .join(', ');
  const why = cause === undefined ? `nothing arrived for ${quietEndMs} ms` : String(cause);
  return new Error(`read of ${where} stalled: ${why}`, { cause });
}

/**
 * Reads each partition from its position to its end through `fetcher`, handing the committed
 * records below the end to `onRecords` (one batch at a time, in offset order per partition), and returns per
 * `topic/partition` the records handed over and the offset reached. Positions move past markers and aborted records too, so a partition whose
 * last records are a marker still ends. The next fetch is sent before the records of the last
 * one are handed over, so the broker reads while the store applies. A fault that passes (a
 * broker restarting, a leader moving) is retried with backoff; one that does not, or no
 * progress for `quietEndMs`, fails the read.
 */
export async function readToEnds(
  fetcher: PartitionFetcher,
  partitions: BoundedPartition[],
  onRecords: (tp: TopicPartition, records: FetchedRecord[]) => Promise<void>,
): Promise<Map<string, RestoreProgress>> {
  const progress = new Map<string, RestoreProgress>();
  const pending = new Map<string, BoundedPartition>();
  for (const p of partitions) {
    progress.set(tpKey(p), { records: 0, position: p.position });
    if (p.position < p.end) pending.set(tpKey(p), { ...p });
  }
  let lastProgress = Date.now();
  let attempt = 0;
  const next = (): Promise<Map<string, FetchedPartition>> => {
    const round = fetcher.fetch([...pending.values()].map((p) => ({ ...p, offset: p.position })));
    round.catch(() => undefined); // awaited below; not unhandled if a hand-over fails first
    return round;
  };
  let inFlight = pending.size > 0 ? next() : undefined;
  while (inFlight !== undefined) {
    let fetched: Map<string, FetchedPartition>;
    try {
      fetched = await inFlight;
      attempt = 0;
    } catch (error) {
      if (classifyKafkaError(error) !== 'retriable' || Date.now() - lastProgress > quietEndMs)
        throw stalled(pending, error);
      await sleep(backoffMs(++attempt, Math.random()));
      await fetcher.recover?.().catch(() => undefined);
      inFlight = next();
      continue;
    }
    const handOver: [BoundedPartition, FetchedRecord[]][] = [];
    for (const [key, answer] of fetched) {
      const state = pending.get(key);
      if (state === undefined) continue;
      const records = answer.records.filter((r) => BigInt(r.offset) < state.end);
      const reached = min(answer.next, state.end);
      if (reached > state.position) {
        state.position = reached;
        lastProgress = Date.now();
      }
      handOver.push([state, records]);
      if (state.position >= state.end) pending.delete(key);
    }
    inFlight = pending.size > 0 ? next() : undefined;
    for (const [state, records] of handOver) {
      if (records.length > 0)
        await onRecords({ topic: state.topic, partition: state.partition }, records);
      const p = progress.get(tpKey(state));
      if (p === undefined) continue;
      p.records += records.length;
      p.position = state.position;
    }
    if (pending.size > 0 && Date.now() - lastProgress > quietEndMs) throw stalled(pending);
  }
  return progress;
}
