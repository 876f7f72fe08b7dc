import { Admin, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';

import type { KafkaClientOptions } from '../client.ts';
import type { ChangelogReader, RestoreRequest } from '../types.ts';
import { readToEnds } from './bounded-read.ts';
import { createFetcher, tpKey } from './fetcher.ts';
import type { FetcherSettings } from './fetcher.ts';
import { listPartitionOffsets, partitionRanges } from './offsets.ts';
import { baseOptions } from './options.ts';

/** Reads return as soon as a partition has records; an idle partition is asked again after 100 ms. */
export const readSettings: FetcherSettings = { maxWaitMs: 100, partitionMaxBytes: 1024 * 1024 };

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

/** The last stable offset of each partition of the topics: where a read_committed read ends. */
async function stableEnds(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    const listed = await listPartitionOffsets(
      admin,
      topic,
      ListOffsetTimestamps.LATEST,
      FetchIsolationLevels.READ_COMMITTED,
    );
    for (const [partition, end] of listed) ends.set(tpKey({ topic, partition }), end);
  }
  return ends;
}

/**
 * The ChangelogReader: group-less fetches from the partition leaders (fetcher.ts), each read
 * from its `from` to the end offset the partition had when the read began (the last stable
 * offset: a read_committed read cannot pass an open transaction) or to its `to`. Every read has
 * a fetcher of its own: reads run concurrently, and one fetcher serves one read loop.
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
      const ends = await withAdmin(options, (admin) => stableEnds(admin, topics));
      const partitions = requests.map((r) => {
        const end = ends.get(tpKey(r)) ?? 0n;
        const bound = r.to === undefined ? end : BigInt(r.to);
        return { ...r, position: BigInt(r.from), end: bound < end ? bound : end };
      });
      const fetcher = createFetcher(options, readSettings);
      try {
        return await readToEnds(fetcher, partitions, onRecords);
      } finally {
        await fetcher.close();
      }
    },
  };
}
