import { Admin, FetchIsolationLevels } from '@platformatic/kafka';

import type { KafkaClientOptions } from '../client.ts';
import type { ChangelogReader, RestoreRequest } from '../types.ts';
import { boundedPartitions, readToEnds } from '../bounded-read.ts';
import { createFetcher, tpKey } from './fetcher.ts';
import type { FetcherSettings } from './fetcher.ts';
import { partitionRanges } from './offsets.ts';
import { baseOptions } from './options.ts';

/**
 * Fetch sizes of reads, as the kafkajs adapter's reader: a read asks as fast as it can, up to
 * 4 MiB per partition and 16 MiB per fetch; the broker waits at most 100 ms for records.
 */
export const readSettings: FetcherSettings = {
  maxWaitMs: 100,
  partitionMaxBytes: 4 << 20,
  maxBytes: 16 << 20,
};

/** Runs `use` with an Admin of its own, closed after. */
export async function withAdmin<T>(
  options: KafkaClientOptions,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin(baseOptions(options));
  try {
    return await use(admin);
  } finally {
    await admin.close();
  }
}

/**
 * The log start and the last stable offset (where a read_committed read ends) of each partition
 * of the topics.
 */
async function committedRanges(
  admin: Admin,
  topics: string[],
): Promise<Map<string, { start: bigint; end: bigint }>> {
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  for (const topic of topics)
    for (const [partition, range] of await partitionRanges(
      admin,
      topic,
      FetchIsolationLevels.READ_COMMITTED,
    ))
      ranges.set(tpKey({ topic, partition }), range);
  return ranges;
}

/**
 * The ChangelogReader: group-less fetches from the partition leaders (fetcher.ts), each read
 * from its `from` (at least the log start) to the end offset the partition had when the read
 * began (the last stable offset: a read_committed read cannot pass an open transaction) or to
 * its `to`. Every read has a fetcher of its own: reads run concurrently, and one fetcher serves
 * one read loop.
 */
export function createPlatformaticChangelogReader(options: KafkaClientOptions): ChangelogReader {
  return {
    async offsetRanges(tps) {
      const ranges = new Map<string, { start: bigint; end: bigint }>();
      if (tps.length === 0) return ranges;
      await withAdmin(options, async (admin) => {
        for (const topic of new Set(tps.map((tp) => tp.topic)))
          for (const [partition, range] of await partitionRanges(admin, topic))
            ranges.set(tpKey({ topic, partition }), range);
      });
      return ranges;
    },
    async read(requests: RestoreRequest[], onRecords) {
      if (requests.length === 0) return new Map();
      const topics = [...new Set(requests.map((r) => r.topic))];
      const ranges = await withAdmin(options, (admin) => committedRanges(admin, topics));
      const partitions = boundedPartitions(requests, ranges);
      const fetcher = createFetcher(options, readSettings);
      try {
        return await readToEnds(fetcher, partitions, onRecords);
      } finally {
        await fetcher.close();
      }
    },
  };
}
