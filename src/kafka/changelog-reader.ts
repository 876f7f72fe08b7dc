import { setTimeout as sleep } from 'node:timers/promises';

import type { Kafka } from 'kafkajs';

import { fetchedRecord } from './consumer.ts';
import { backoffMs, classifyKafkaError } from './faults.ts';
import { filterAbortedMessages, isolation, privateCluster, uncommittedAdmin } from './kafkajs.ts';
import type { FetchedPartitionData, KafkaCluster } from './kafkajs.ts';
import type {
  ChangelogReader,
  FetchedRecord,
  RestoreProgress,
  RestoreRequest,
  TopicPartition,
} from './types.ts';

/**
 * If no partition of a read moves on for this long (every fetch failing, or answering nothing)
 * the read fails: a store must never start from a partial changelog.
 */
const quietEndMs = 30_000;

/**
 * Fetch sizes. A restore reads as fast as it can: a partition may return up to 4 MiB per fetch
 * (kafkajs's consumer: 1 MiB), a fetch up to 16 MiB; the broker waits at most 100 ms for data
 * (a read only asks for offsets below the end, which are there).
 */
const fetchSizes = { waitMs: 100, partitionMaxBytes: 4 << 20, maxBytes: 16 << 20 };

const key = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

/** One partition of a read: where it is and where it ends (exclusive). */
interface Pending {
  tp: TopicPartition;
  position: bigint;
  end: bigint;
}

/**
 * What a fetched partition gives a read at `position` that ends at `end`: the records to hand
 * over (committed, not control records, from `position` to `end`) and the next position. The
 * position moves past every record batch returned, aborted, control or compacted ones included,
 * as the Java consumer's does (a batch's last offset survives compaction in its header).
 */
export function fetchedRange(
  data: FetchedPartitionData,
  position: bigint,
  end: bigint,
): { records: FetchedRecord[]; next: bigint } {
  const last = data.messages[data.messages.length - 1];
  if (last === undefined) return { records: [], next: position };
  const context = last.batchContext;
  const after = BigInt(context.firstOffset) + BigInt(context.lastOffsetDelta) + 1n;
  const records: FetchedRecord[] = [];
  for (const m of filterAbortedMessages(data)) {
    if (m.isControlRecord === true) continue;
    const offset = BigInt(m.offset);
    if (offset >= position && offset < end) records.push(fetchedRecord(m));
  }
  const next = after > position ? after : position;
  return { records, next: next < end ? next : end };
}

/** One Fetch per leader of the pending partitions, at their positions: the data per `topic/partition`. */
async function fetchRound(
  cluster: KafkaCluster,
  pending: Map<string, Pending>,
): Promise<Map<string, FetchedPartitionData>> {
  const byLeader = new Map<string, Map<string, number[]>>();
  const byTopic = new Map<string, number[]>();
  for (const { tp } of pending.values())
    byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  for (const [topic, partitions] of byTopic) {
    for (const [nodeId, led] of Object.entries(
      cluster.findLeaderForPartitions(topic, partitions),
    )) {
      const topics = byLeader.get(nodeId) ?? new Map<string, number[]>();
      topics.set(topic, led);
      byLeader.set(nodeId, topics);
    }
  }
  const fetched = new Map<string, FetchedPartitionData>();
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
            fetchOffset: String(pending.get(key({ topic, partition }))?.position ?? 0n),
            maxBytes: fetchSizes.partitionMaxBytes,
          })),
        })),
      });
      for (const { topicName, partitions } of responses)
        for (const data of partitions)
          fetched.set(key({ topic: topicName, partition: data.partition }), data);
    }),
  );
  return fetched;
}

/**
 * Reads the pending partitions to their ends, handing each fetched partition's records to
 * `onRecords` (awaited, in offset order per partition). The next fetch is sent before the
 * records of the last one are handed over, so the broker reads while the store applies. A fault
 * that passes (a broker restarting, a leader moving) is retried with backoff after refreshing
 * the metadata; one that does not, or no progress for `quietEndMs`, fails the read.
 */
async function readToEnds(
  cluster: KafkaCluster,
  pending: Map<string, Pending>,
  counts: Map<string, RestoreProgress>,
  onRecords: (tp: TopicPartition, records: FetchedRecord[]) => Promise<void>,
): Promise<void> {
  let lastProgress = Date.now();
  let attempt = 0;
  const next = (): Promise<Map<string, FetchedPartitionData>> => {
    const round = fetchRound(cluster, pending);
    round.catch(() => undefined); // awaited below; not unhandled if a hand-over fails first
    return round;
  };
  let inFlight = next();
  while (pending.size > 0) {
    let fetched: Map<string, FetchedPartitionData>;
    try {
      fetched = await inFlight;
      attempt = 0;
    } catch (error) {
      if (classifyKafkaError(error) !== 'retriable' || Date.now() - lastProgress > quietEndMs)
        throw stalled(pending, error);
      await sleep(backoffMs(++attempt, Math.random()));
      await cluster.refreshMetadata().catch(() => undefined);
      inFlight = next();
      continue;
    }
    const handOver: [Pending, FetchedRecord[]][] = [];
    for (const [k, data] of fetched) {
      const state = pending.get(k);
      if (state === undefined) continue;
      const { records, next: position } = fetchedRange(data, state.position, state.end);
      if (position > state.position) lastProgress = Date.now();
      state.position = position;
      handOver.push([state, records]);
      if (position >= state.end) pending.delete(k);
    }
    if (pending.size > 0) inFlight = next();
    for (const [state, records] of handOver) {
      if (records.length > 0) await onRecords(state.tp, records);
      const progress = counts.get(key(state.tp));
      if (progress === undefined) continue;
      progress.records += records.length;
      progress.position = state.position;
    }
    if (Date.now() - lastProgress > quietEndMs) throw stalled(pending);
  }
}

function stalled(pending: Map<string, Pending>, cause?: unknown): Error {
  const where = [...pending.entries()]
    .map(([k, p]) => `${k} at offset ${p.position} of ${p.end}`)
    .join(', ');
  const why = cause === undefined ? `nothing arrived for ${quietEndMs} ms` : String(cause);
  return new Error(`read of ${where} stalled: ${why}`, { cause });
}

/**
 * Reads changelog partitions from given offsets to their end without a consumer group (manual
 * assignment): Fetch requests to each partition's leader, read_committed and filtered by our
 * aborted-transaction rule (kafkajs.ts), so aborted writes are never restored. The end of a
 * partition is its last stable offset when the read starts (or the request's `to`); a position
 * below the log start (records deleted by retention) reads from the log start, as a consumer
 * reset to the earliest offset would. Returns, per `topic/partition`, how many records were
 * read and the offset reached.
 */
export function createChangelogReader(kafka: Kafka): ChangelogReader {
  return {
    async offsetRanges(tps) {
      const ranges = new Map<string, { start: bigint; end: bigint }>();
      if (tps.length === 0) return ranges;
      // read_uncommitted, so `high` is the high watermark (kafkajs's own admin gives the last
      // stable offset, below a transaction whose markers are not written yet).
      const admin = uncommittedAdmin(kafka);
      await admin.connect();
      try {
        for (const topic of new Set(tps.map((tp) => tp.topic))) {
          for (const p of await admin.fetchTopicOffsets(topic))
            ranges.set(`${topic}/${p.partition}`, { start: BigInt(p.low), end: BigInt(p.high) });
        }
      } finally {
        await admin.disconnect();
      }
      return ranges;
    },
    async read(requests, onRecords) {
      const counts = new Map<string, RestoreProgress>();
      if (requests.length === 0) return counts;
      const topics = [...new Set(requests.map((r) => r.topic))];
      const pending = await pendingReads(kafka, topics, requests, counts);
      if (pending.size === 0) return counts;
      const { cluster } = privateCluster(kafka, isolation.readCommitted);
      await cluster.connect();
      try {
        await cluster.addMultipleTargetTopics(topics);
        await readToEnds(cluster, pending, counts, onRecords);
      } finally {
        await cluster.disconnect();
      }
      return counts;
    },
  };
}

/**
 * The partitions of `requests` with something to read, from their start (at least the log
 * start) to their end (the last stable offset now, or the request's `to` if lower); `counts`
 * gets every request's starting progress.
 */
async function pendingReads(
  kafka: Kafka,
  topics: string[],
  requests: RestoreRequest[],
  counts: Map<string, RestoreProgress>,
): Promise<Map<string, Pending>> {
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic))
        ranges.set(`${topic}/${p.partition}`, { start: BigInt(p.low), end: BigInt(p.high) });
    }
  } finally {
    await admin.disconnect();
  }
  const pending = new Map<string, Pending>();
  for (const request of requests) {
    const k = key(request);
    const range = ranges.get(k) ?? { start: 0n, end: 0n };
    const to = request.to === undefined ? range.end : BigInt(request.to);
    const end = to < range.end ? to : range.end;
    const from = BigInt(request.from);
    const position = from > range.start ? from : range.start;
    counts.set(k, { records: 0, position });
    const tp = { topic: request.topic, partition: request.partition };
    if (position < end) pending.set(k, { tp, position, end });
  }
  return pending;
}
