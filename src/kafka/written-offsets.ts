import type { RecordMetadata } from 'kafkajs';

import type { OutgoingRecord, WrittenOffsets } from './types.ts';

/**
 * `topic/partition` -> the offset after our last record there, for the records sent to an
 * explicit partition (changelogs): kafkajs reports the base offset of what one request wrote to
 * each partition, and we know how many records we addressed to it.
 */
export function writtenOffsets(
  metadata: RecordMetadata[],
  records: OutgoingRecord[],
): WrittenOffsets {
  const counts = new Map<string, number>();
  for (const record of records) {
    if (record.partition === undefined) continue;
    const key = `${record.topic}/${record.partition}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const offsets: WrittenOffsets = new Map();
  for (const m of metadata) {
    const key = `${m.topicName}/${m.partition}`;
    const count = counts.get(key);
    if (count === undefined || m.baseOffset === undefined) continue;
    offsets.set(key, BigInt(m.baseOffset) + BigInt(count));
  }
  return offsets;
}
