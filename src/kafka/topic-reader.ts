import type { Kafka } from 'kafkajs';

import { createChangelogReader } from './changelog-reader.ts';
import type { FetchedRecord, TopicReader, TopicReadSummary } from './types.ts';

/**
 * Reads a whole topic once, for tools: every partition from its first offset to the end offset
 * it had when the read started (records appended meanwhile are not waited for, so a topic
 * written while it is read still ends). read_committed, like a restore: records of aborted or
 * still open transactions are never handed over. It is the changelog reader's bounded read,
 * started from each partition's low watermark.
 */
export function createTopicReader(kafka: Kafka): TopicReader {
  const reader = createChangelogReader(kafka);
  return {
    async read(
      topic: string,
      onRecords: (partition: number, records: FetchedRecord[]) => Promise<void>,
    ): Promise<TopicReadSummary> {
      const admin = kafka.admin();
      await admin.connect();
      let offsets: { partition: number; low: string; high: string }[];
      try {
        offsets = await admin.fetchTopicOffsets(topic);
      } finally {
        await admin.disconnect();
      }
      const progress = await reader.read(
        offsets.map((p) => ({ topic, partition: p.partition, from: p.low })),
        (tp, records) => onRecords(tp.partition, records),
      );
      let records = 0;
      for (const p of progress.values()) records += p.records;
      return { partitions: offsets.length, records };
    },
  };
}
