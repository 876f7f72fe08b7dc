import { FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import type { Admin, Base, FetchIsolationLevelValue } from '@platformatic/kafka';

import type { TopicPartitionOffset } from '../types.ts';

/** One topic of an OffsetCommit or TxnOffsetCommit request (the same shape in both). */
export interface CommitRequestTopic {
  name: string;
  partitions: {
    partitionIndex: number;
    committedOffset: bigint;
    committedLeaderEpoch: number;
    committedMetadata: null;
  }[];
}

/** Offsets to commit grouped by topic, as the commit requests take them (no leader epoch). */
export function commitRequestTopics(offsets: TopicPartitionOffset[]): CommitRequestTopic[] {
  const topics = new Map<string, CommitRequestTopic>();
  for (const o of offsets) {
    const topic = topics.get(o.topic) ?? { name: o.topic, partitions: [] };
    topic.partitions.push({
      partitionIndex: o.partition,
      committedOffset: BigInt(o.offset),
      committedLeaderEpoch: -1,
      committedMetadata: null,
    });
    topics.set(o.topic, topic);
  }
  return [...topics.values()];
}

/** The partition count of each topic asked for that exists (fresh metadata, not the cache). */
export async function partitionCountsOf(
  client: Base,
  topics: string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (topics.length === 0) return counts;
  const metadata = await client.metadata({ topics, forceUpdate: true });
  for (const topic of topics) {
    const info = metadata.topics.get(topic);
    if (info !== undefined) counts.set(topic, info.partitionsCount);
  }
  return counts;
}

/**
 * ListOffsets of every partition of `topic` at `timestamp` (a time, or LATEST / EARLIEST).
 * read_uncommitted by default: LATEST is then the high watermark, past the records of open
 * transactions; read_committed gives the last stable offset, where a read_committed read ends.
 * A time with no record at or after it answers -1.
 */
export async function listPartitionOffsets(
  admin: Admin,
  topic: string,
  timestamp: bigint,
  isolationLevel: FetchIsolationLevelValue = FetchIsolationLevels.READ_UNCOMMITTED,
): Promise<Map<number, bigint>> {
  const count = (await partitionCountsOf(admin, [topic])).get(topic) ?? 0;
  const offsets = new Map<number, bigint>();
  if (count === 0) return offsets;
  const [listed] = await admin.listOffsets({
    isolationLevel,
    topics: [
      {
        name: topic,
        partitions: Array.from({ length: count }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp,
        })),
      },
    ],
  });
  for (const p of listed?.partitions ?? []) offsets.set(p.partitionIndex, p.offset);
  return offsets;
}

/**
 * Per partition of `topic`: the log start and the end, the high watermark (read_uncommitted) or
 * the last stable offset (read_committed).
 */
export async function partitionRanges(
  admin: Admin,
  topic: string,
  isolationLevel: FetchIsolationLevelValue = FetchIsolationLevels.READ_UNCOMMITTED,
): Promise<Map<number, { start: bigint; end: bigint }>> {
  const [starts, ends] = await Promise.all([
    listPartitionOffsets(admin, topic, ListOffsetTimestamps.EARLIEST),
    listPartitionOffsets(admin, topic, ListOffsetTimestamps.LATEST, isolationLevel),
  ]);
  return new Map(
    [...ends].map(([partition, end]) => [partition, { start: starts.get(partition) ?? 0n, end }]),
  );
}
