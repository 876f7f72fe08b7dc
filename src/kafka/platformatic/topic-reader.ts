import { FetchIsolationLevels } from '@platformatic/kafka';

import type { KafkaClientOptions } from '../client.ts';
import type { TopicReader } from '../types.ts';
import { readToEnds } from '../bounded-read.ts';
import { readSettings, withAdmin } from './changelog-reader.ts';
import { createFetcher } from './fetcher.ts';
import { partitionRanges } from './offsets.ts';

/**
 * The TopicReader: every partition of the topic from its log start to its last stable offset
 * when the read began (records appended meanwhile are not waited for), read_committed, through
 * the same bounded read as the ChangelogReader.
 */
export function createPlatformaticTopicReader(options: KafkaClientOptions): TopicReader {
  return {
    async read(topic, onRecords) {
      const ranges = await withAdmin(options, (admin) =>
        partitionRanges(admin, topic, FetchIsolationLevels.READ_COMMITTED),
      );
      const fetcher = createFetcher(options, readSettings);
      try {
        const progress = await readToEnds(
          fetcher,
          [...ranges].map(([partition, { start, end }]) => ({
            topic,
            partition,
            position: start,
            end,
          })),
          (tp, records) => onRecords(tp.partition, records),
        );
        let records = 0;
        for (const p of progress.values()) records += p.records;
        return { partitions: ranges.size, records };
      } finally {
        await fetcher.close();
      }
    },
  };
}
