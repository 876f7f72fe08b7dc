import { isDeepStrictEqual } from 'node:util';

import type { Headers } from '../../../src/core/index.ts';
import type { FetchedRecord, OutgoingRecord, TopicAdmin } from '../../../src/kafka/index.ts';
import { eventually } from '../helpers.ts';
import type { ContractClient } from './adapters.ts';

/** A record to produce: key and value as text (null stays null), stamped now unless told. */
export function outgoing(
  topic: string,
  key: string | null,
  value: string | null,
  extra: { partition?: number; timestamp?: number; headers?: Headers } = {},
): OutgoingRecord {
  return {
    topic,
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    timestamp: extra.timestamp ?? Date.now(),
    headers: extra.headers ?? {},
    ...(extra.partition === undefined ? {} : { partition: extra.partition }),
  };
}

/** `count` records `<prefix>-0`... with key `prefix`, to one partition. */
export function numbered(
  topic: string,
  partition: number,
  prefix: string,
  count: number,
): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) =>
    outgoing(topic, prefix, `${prefix}-${i}`, { partition }),
  );
}

export const text = (bytes: Buffer | null | undefined): string | null =>
  bytes === null || bytes === undefined ? null : bytes.toString('utf8');

export const valuesOf = (records: readonly FetchedRecord[]): (string | null)[] =>
  records.map((r) => text(r.value));

/**
 * Reads a whole topic through the adapter's TopicReader (read_committed, to the end offsets
 * taken at the start): the records of each partition in the order handed over.
 */
export async function readWholeTopic(
  client: ContractClient,
  topic: string,
): Promise<Map<number, FetchedRecord[]>> {
  const byPartition = new Map<number, FetchedRecord[]>();
  await client.topicReader().read(topic, async (partition, records) => {
    byPartition.set(partition, [...(byPartition.get(partition) ?? []), ...records]);
  });
  return byPartition;
}

/** The offsets of the records, as numbers (tests write few records). */
export const offsetsOf = (records: readonly FetchedRecord[]): number[] =>
  records.map((r) => Number(r.offset));

/**
 * Waits until the partitions of `topic` end at `ends` (TopicAdmin.endOffsets), transaction
 * markers included. A transaction's commit resolves once the coordinator decided, and its
 * markers are written just after: a read_committed read that starts before them ends before
 * the transaction's records.
 */
export async function endsReached(admin: TopicAdmin, topic: string, ends: number[]): Promise<void> {
  const expected = new Map(ends.map((end, partition) => [partition, BigInt(end)]));
  let last = new Map<number, bigint>();
  await eventually(
    () => `${topic} to end at ${ends.join(',')} (it ends at ${[...last.values()].join(',')})`,
    async () => {
      last = await admin.endOffsets(topic);
      return isDeepStrictEqual(last, expected) ? true : undefined;
    },
    10_000,
    50,
  );
}
