import { randomUUID } from 'node:crypto';

import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import type { RecordsBatch } from '@platformatic/kafka';

import { TributaryError } from '../../core/index.ts';
import type { Headers } from '../../core/index.ts';
import type { KafkaClientOptions } from '../client.ts';
import { tpKey } from '../bounded-read.ts';
import type { FetchedPartition, FetchPosition, PartitionFetcher } from '../bounded-read.ts';
import type { FetchedRecord } from '../types.ts';
import { committedBatches } from './aborted-filter.ts';
import { fromLibraryBatch, useOwnFetchDecoder } from './fetch-response.ts';
import type { FetchedBatchRecord, FetchedRecordBatch } from './fetch-response.ts';
import { guardMetadata } from './api-lookup.ts';
import { baseOptions } from './options.ts';

export type { FetchedPartition, FetchPosition } from '../bounded-read.ts';
export { tpKey };

/** A PartitionFetcher of its own connection (close it after the read). */
export interface Fetcher extends PartitionFetcher {
  close(): Promise<void>;
}

export interface FetcherSettings {
  /** How long the broker may wait for records before answering without any. */
  maxWaitMs: number;
  partitionMaxBytes: number;
  /** Bytes of one fetch, all partitions together (the library's default: 50 MiB). */
  maxBytes?: number;
}

// Record batch attribute bit 3: the broker stamped the records (LogAppendTime).
const logAppendTimeBit = 0x08;

/** Headers as ours: names as text, the last value of a name given more than once. */
function headersOf(entries: FetchedBatchRecord['headers']): Headers {
  const headers: Headers = {};
  for (let i = 0; i < entries.length; i++) {
    const [name, value] = entries[i] as [Buffer, Buffer | null];
    headers[name.toString('utf8')] = value ?? undefined;
  }
  return headers;
}

/** Offsets below this add up exactly as numbers (a batch spans less than 2^31 offsets). */
const exactOffsets = BigInt(Number.MAX_SAFE_INTEGER - 2 ** 31);

/** The committed records of a fetched partition from `from` on, and the offset after its batches. */
function fetchedPartition(
  from: bigint,
  fetched: FetchedRecordBatch[] | RecordsBatch[],
  aborted: Parameters<typeof committedBatches>[1],
): FetchedPartition {
  // Below Fetch v17 the library decoded the response (fetch-response.ts): its batches converted.
  const batches = fetched.map((b) =>
    typeof b.firstTimestamp === 'bigint'
      ? fromLibraryBatch(b as RecordsBatch)
      : (b as FetchedRecordBatch),
  );
  const last = batches.at(-1);
  const next = last === undefined ? from : last.firstOffset + BigInt(last.lastOffsetDelta) + 1n;
  const records: FetchedRecord[] = [];
  for (const batch of committedBatches(batches, aborted)) {
    const stamped = (batch.attributes & logAppendTimeBit) !== 0;
    // A fetch from inside a batch returns the whole batch: the records before `from` are left out.
    const skipBelow = from > batch.firstOffset ? Number(from - batch.firstOffset) : 0;
    const exact = batch.firstOffset < exactOffsets;
    const firstOffset = Number(batch.firstOffset);
    for (const record of batch.records) {
      if (record.offsetDelta < skipBelow) continue;
      records.push({
        key: record.key,
        value: record.value,
        timestamp: stamped ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
        headers: headersOf(record.headers),
        offset: exact
          ? String(firstOffset + record.offsetDelta)
          : String(batch.firstOffset + BigInt(record.offsetDelta)),
      });
    }
  }
  return { records, next: next > from ? next : from };
}

/**
 * Group-less reads with @platformatic/kafka's low-level `fetch()`: Fetch requests to the
 * partition leaders, offsets chosen by the caller, no consumer group (its Consumer needs a group
 * id, which is never joined). read_committed, with our filter of aborted transactions
 * (aborted-filter.ts) applied to what the library hands back. One fetch per leader at a time:
 * the library keeps one fetch session (KIP-227) per broker and client, so a fetcher serves one
 * read loop.
 */
export function createFetcher(options: KafkaClientOptions, settings: FetcherSettings): Fetcher {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...baseOptions(options),
    groupId: `tributary-fetcher-${randomUUID()}`,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxWaitTime: settings.maxWaitMs,
  });
  useOwnFetchDecoder(consumer);
  guardMetadata(consumer);
  /** One leader's fetch: the partitions of several topics. */
  const fetchFrom = async (
    node: number,
    positions: { topicId: string; topic: string; position: FetchPosition }[],
  ): Promise<[string, FetchedPartition][]> => {
    const byTopic = new Map<string, FetchPosition[]>();
    for (const { topicId, position } of positions) {
      const list = byTopic.get(topicId);
      if (list === undefined) byTopic.set(topicId, [position]);
      else list.push(position);
    }
    const response = await consumer.fetch({
      node,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      maxWaitTime: settings.maxWaitMs,
      ...(settings.maxBytes === undefined ? {} : { maxBytes: settings.maxBytes }),
      topics: [...byTopic].map(([topicId, list]) => ({
        topicId,
        partitions: list.map((p) => ({
          partition: p.partition,
          fetchOffset: p.offset,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
          partitionMaxBytes: settings.partitionMaxBytes,
        })),
      })),
    });
    const names = new Map(positions.map((p) => [p.topicId, p.topic]));
    const asked = new Map(positions.map((p) => [tpKey(p.position), p.position.offset]));
    const fetched: [string, FetchedPartition][] = [];
    for (const t of response.responses) {
      const topic = names.get(t.topicId);
      if (topic === undefined) continue;
      for (const p of t.partitions) {
        const key = tpKey({ topic, partition: p.partitionIndex });
        const from = asked.get(key);
        if (from === undefined) continue;
        const answer = fetchedPartition(
          from,
          (p.records ?? []) as FetchedRecordBatch[] | RecordsBatch[],
          p.abortedTransactions,
        );
        answer.stableEnd = p.lastStableOffset;
        fetched.push([key, answer]);
      }
    }
    return fetched;
  };
  return {
    async fetch(positions) {
      if (positions.length === 0) return new Map();
      const topics = [...new Set(positions.map((p) => p.topic))];
      const metadata = await consumer.metadata({ topics });
      const byLeader = new Map<
        number,
        { topicId: string; topic: string; position: FetchPosition }[]
      >();
      for (const position of positions) {
        const info = metadata.topics.get(position.topic);
        const leader = info?.partitions[position.partition]?.leader;
        // No leader, or one the metadata does not list (its broker restarting): the metadata
        // is read again and the fetch retried (KAFKA_UNAVAILABLE is retriable).
        if (
          info === undefined ||
          leader === undefined ||
          leader < 0 ||
          !metadata.brokers.has(leader)
        ) {
          await consumer.metadata({ topics, forceUpdate: true }).catch(() => undefined);
          throw new TributaryError(
            'KAFKA_UNAVAILABLE',
            `${tpKey(position)}: ${leader === undefined || leader < 0 ? 'no leader' : `leader ${leader} not listed`} in the metadata`,
          );
        }
        const entry = { topicId: info.id, topic: position.topic, position };
        const list = byLeader.get(leader);
        if (list === undefined) byLeader.set(leader, [entry]);
        else list.push(entry);
      }
      const answers = await Promise.all([...byLeader].map(([node, list]) => fetchFrom(node, list)));
      return new Map(answers.flat());
    },
    close: () => consumer.close(),
  };
}
