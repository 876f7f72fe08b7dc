import type { Message, RecordMetadata } from 'kafkajs';

import { chosenPartitions } from './partitioner.ts';
import type { WrittenOffsets } from './types.ts';

/**
 * `topic/partition` -> the offset after our last record there, for every partition one
 * sendBatch wrote: kafkajs reports the base offset of what the request wrote to each partition,
 * and we count the records that went there: their explicit partition, or the one our
 * partitioner chose for them (a send may write a partition both ways).
 */
export function writtenOffsets(
  metadata: RecordMetadata[],
  topicMessages: { topic: string; messages: Message[] }[],
): WrittenOffsets {
  const counts = new Map<string, number>();
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const partition = message.partition ?? chosenPartitions.get(message);
      if (partition === undefined) continue;
      const key = `${topic}/${partition}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
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
