import type { Admin, Kafka } from 'kafkajs';

import { boundedPartitions, readToEnds, tpKey } from './bounded-read.ts';
import type { FetchedPartition, PartitionFetcher } from './bounded-read.ts';
import { fetchedRecord } from './consumer.ts';
import { filterAbortedMessages, isolation, privateCluster, uncommittedAdmin } from './kafkajs.ts';
import type { FetchedPartitionData, KafkaCluster } from './kafkajs.ts';
import type { ChangelogReader, FetchedRecord } from './types.ts';

/**
 * Fetch sizes. A restore reads as fast as it can: a partition may return up to 4 MiB per fetch
 * (kafkajs's consumer: 1 MiB), a fetch up to 16 MiB; the broker waits at most 100 ms for data
 * (a read only asks for offsets below the end, which are there).
 */
const fetchSizes = { waitMs: 100, partitionMaxBytes: 4 << 20, maxBytes: 16 << 20 };

/**
 * What a fetched partition gives a read at `position` (that ends at `end`, if given): the
 * records to hand over (committed, not control records, from `position` on, below `end`) and
 * the next position. The position moves past every record batch returned, aborted, control or
 * compacted ones included, as the Java consumer's does (a batch's last offset survives
 * compaction in its header).
 */
export function fetchedRange(
  data: FetchedPartitionData,
  position: bigint,
  end?: bigint,
): { records: FetchedRecord[]; next: bigint } {
  const last = data.messages[data.messages.length - 1];
  if (last === undefined) return { records: [], next: position };
  const context = last.batchContext;
  const after = BigInt(context.firstOffset) + BigInt(context.lastOffsetDelta) + 1n;
  const records: FetchedRecord[] = [];
  for (const m of filterAbortedMessages(data)) {
    if (m.isControlRecord === true) continue;
    const offset = BigInt(m.offset);
    if (offset >= position && (end === undefined || offset < end)) records.push(fetchedRecord(m));
  }
  const next = after > position ? after : position;
  return { records, next: end !== undefined && next > end ? end : next };
}

/**
 * Group-less fetches through kafkajs's cluster (kafkajs has no manual assignment of its own):
 * one Fetch per leader of the positions, read_committed, filtered by our aborted rule; a
 * failed fetch refreshes the metadata before it is retried (a leader moved, a broker restarted).
 */
function clusterFetcher(cluster: KafkaCluster): PartitionFetcher {
  return {
    async fetch(positions) {
      const byLeader = new Map<string, Map<string, number[]>>();
      const byTopic = new Map<string, number[]>();
      for (const p of positions)
        byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      for (const [topic, partitions] of byTopic) {
        const leaders = cluster.findLeaderForPartitions(topic, partitions);
        for (const [nodeId, led] of Object.entries(leaders)) {
          const topics = byLeader.get(nodeId) ?? new Map<string, number[]>();
          topics.set(topic, led);
          byLeader.set(nodeId, topics);
        }
      }
      const offsets = new Map(positions.map((p) => [tpKey(p), p.offset]));
      const fetched = new Map<string, FetchedPartition>();
      await Promise.all(
        [...byLeader].map(async ([nodeId, topics]) => {
          const broker = await cluster.findBroker({ nodeId });
          const { responses } = await broker.fetch({
            isolationLevel: isolation.readCommitted,
            maxWaitTime: fetchSizes.waitMs,
            minBytes: 1,
            maxBytes: fetchSizes.maxBytes,
            topics: [...topics].map(([topic, partitions]) => ({
              topic,
              partitions: partitions.map((partition) => ({
                partition,
                fetchOffset: String(offsets.get(tpKey({ topic, partition })) ?? 0n),
                maxBytes: fetchSizes.partitionMaxBytes,
              })),
            })),
          });
          for (const { topicName, partitions } of responses)
            for (const data of partitions) {
              const k = tpKey({ topic: topicName, partition: data.partition });
              fetched.set(k, fetchedRange(data, offsets.get(k) ?? 0n));
            }
        }),
      );
      return fetched;
    },
    recover: () => cluster.refreshMetadata(),
  };
}

/**
 * Reads changelog partitions from given offsets to their end without a consumer group (manual
 * assignment, bounded-read.ts): Fetch requests to each partition's leader, read_committed and
 * filtered by our aborted-transaction rule (kafkajs.ts), so aborted writes are never restored.
 * The end of a partition is its last stable offset when the read starts (or the request's
 * `to`); a position below the log start (records deleted by retention) reads from the log
 * start, as a consumer reset to the earliest offset would. Returns, per `topic/partition`, how
 * many records were read and the offset reached.
 */
export function createChangelogReader(kafka: Kafka): ChangelogReader {
  return {
    async offsetRanges(tps) {
      // read_uncommitted, so `high` is the high watermark (kafkajs's own admin gives the last
      // stable offset, below a transaction whose markers are not written yet).
      return topicRanges(uncommittedAdmin(kafka), [...new Set(tps.map((tp) => tp.topic))]);
    },
    async read(requests, onRecords) {
      if (requests.length === 0) return new Map();
      const topics = [...new Set(requests.map((r) => r.topic))];
      // read_committed: the last stable offset, where a read_committed read ends.
      const ranges = await topicRanges(kafka.admin(), topics);
      const partitions = boundedPartitions(requests, ranges);
      if (partitions.every((p) => p.position >= p.end))
        return new Map(partitions.map((p) => [tpKey(p), { records: 0, position: p.position }]));
      const { cluster } = privateCluster(kafka, isolation.readCommitted);
      await cluster.connect();
      try {
        await cluster.addMultipleTargetTopics(topics);
        return await readToEnds(clusterFetcher(cluster), partitions, onRecords);
      } finally {
        await cluster.disconnect();
      }
    },
  };
}

/** Per `topic/partition` of the topics: the low and high offsets `admin` lists (then disconnected). */
async function topicRanges(
  admin: Admin,
  topics: string[],
): Promise<Map<string, { start: bigint; end: bigint }>> {
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  if (topics.length === 0) return ranges;
  await admin.connect();
  try {
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic))
        ranges.set(tpKey({ topic, partition: p.partition }), {
          start: BigInt(p.low),
          end: BigInt(p.high),
        });
  } finally {
    await admin.disconnect();
  }
  return ranges;
}
