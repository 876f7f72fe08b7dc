import type { Message, RecordMetadata } from 'kafkajs';

import { chosenPartitions } from './partitioner.ts';
import type { WrittenOffsets } from './types.ts';

/** Counts one record of `topic`/`partition` in `counts` (nothing if the partition is unknown). */
function countOne(counts: Map<string, number>, topic: string, partition: number | undefined): void {
  if (partition === undefined) return;
  const key = `${topic}/${partition}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Counts records per `topic/partition`. */
export function countPerPartition(
  records: Iterable<{ topic: string; partition?: number | undefined }>,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { topic, partition } of records) countOne(counts, topic, partition);
  return counts;
}

/**
 * `topic/partition` -> the offset after our last record there: the base offset the broker
 * reported for what one request wrote to a partition, plus the records the request sent there
 * (`counts`). A partition the broker did not report, or we sent nothing to, is absent.
 */
export function offsetsAfter(
  bases: Iterable<{ topic: string; partition: number; baseOffset: bigint | string | undefined }>,
  counts: Map<string, number>,
): WrittenOffsets {
  const offsets: WrittenOffsets = new Map();
  for (const { topic, partition, baseOffset } of bases) {
    const key = `${topic}/${partition}`;
    const count = counts.get(key);
    if (count === undefined || baseOffset === undefined) continue;
    offsets.set(key, BigInt(baseOffset) + BigInt(count));
  }
  return offsets;
}

/**
 * `topic/partition` -> the offset after our last record there, for every partition one kafkajs
 * sendBatch wrote: kafkajs reports the base offset of what the request wrote to each partition,
 * and we count the records that went there: their explicit partition, or the one our
 * partitioner chose for them (a send may write a partition both ways).
 */
export function writtenOffsets(
  metadata: RecordMetadata[],
  topicMessages: { topic: string; messages: Message[] }[],
): WrittenOffsets {
  // Counted in place: no object per record on the send path.
  const counts = new Map<string, number>();
  for (const { topic, messages } of topicMessages)
    for (const message of messages)
      countOne(counts, topic, message.partition ?? chosenPartitions.get(message));
  return offsetsAfter(
    metadata.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: m.baseOffset })),
    counts,
  );
}
