import { randomUUID } from 'node:crypto';

import type { Kafka } from 'kafkajs';

import { fetchedRecord } from './consumer.ts';
import { uncommittedAdmin } from './kafkajs.ts';
import type {
  ChangelogReader,
  FetchedRecord,
  RestoreProgress,
  RestoreRequest,
  TopicPartition,
} from './types.ts';

/**
 * A partition is read when the consumer's position reaches the end offset taken at the start.
 * Batches that hold only transaction markers or aborted records are never delivered to
 * eachBatch, but kafkajs reports them (END_BATCH_PROCESS with their last offset), so the
 * position passes them too. If nothing at all happens for this long the restore fails: a store
 * must never start from a partial changelog.
 */
const quietEndMs = 30_000;

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * Reads changelog partitions from given offsets to their end with a short-lived consumer
 * (kafkajs has no manual partition assignment, so it joins a group of its own, seeks, and
 * pauses the partitions it does not need). read_committed: aborted writes are never restored.
 * Returns, per `topic/partition`, how many records were read and the offset reached.
 */
export function createChangelogReader(kafka: Kafka, groupPrefix: string): ChangelogReader {
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
    async read(
      requests: RestoreRequest[],
      onRecords: (tp: TopicPartition, records: FetchedRecord[]) => Promise<void>,
    ) {
      const counts = new Map<string, RestoreProgress>();
      if (requests.length === 0) return counts;
      const key = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;
      const admin = kafka.admin();
      await admin.connect();
      const ends = new Map<string, bigint>();
      const topics = [...new Set(requests.map((r) => r.topic))];
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic))
          ends.set(`${topic}/${p.partition}`, BigInt(p.high));
      }
      const pending = new Map<
        string,
        { request: RestoreRequest; position: bigint; lastSeen: number }
      >();
      for (const request of requests) {
        const end = ends.get(key(request)) ?? 0n;
        if (request.to !== undefined && BigInt(request.to) < end)
          ends.set(key(request), BigInt(request.to));
        counts.set(key(request), { records: 0, position: BigInt(request.from) });
        if (BigInt(request.from) < (ends.get(key(request)) ?? 0n)) {
          pending.set(key(request), {
            request,
            position: BigInt(request.from),
            lastSeen: Date.now(),
          });
        }
      }
      if (pending.size === 0) {
        await admin.disconnect();
        return counts;
      }
      // Unique per read: restores run concurrently, and two in one group would split its partitions.
      const groupId = `${groupPrefix}-restore-${process.pid}-${randomUUID()}`;
      const consumer = kafka.consumer({
        groupId,
        maxWaitTimeInMs: 100,
        readUncommitted: false,
        sessionTimeout: 30_000,
      });
      let finish: () => void = () => undefined;
      let fail: (error: Error) => void = () => undefined;
      const finished = new Promise<void>((resolve, reject) => {
        finish = resolve;
        fail = reject;
      });
      const settle = (): void => {
        const now = Date.now();
        for (const [k, p] of pending) {
          const end = ends.get(k) ?? 0n;
          if (p.position >= end) pending.delete(k);
          else if (now - p.lastSeen > quietEndMs) {
            fail(
              new Error(
                `read of ${k} stalled at offset ${p.position} of ${end}: nothing arrived for ${quietEndMs} ms`,
              ),
            );
            return;
          }
        }
        if (pending.size === 0) finish();
      };
      const timer = setInterval(settle, 100);
      try {
        await consumer.connect();
        // Positions move on for every batch kafkajs handled, delivered or filtered out.
        consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
          const state = pending.get(`${event.payload.topic}/${event.payload.partition}`);
          const last = event.payload.lastOffset;
          if (state === undefined || last === null || last === undefined) return;
          const next = min(
            BigInt(last) + 1n,
            ends.get(`${event.payload.topic}/${event.payload.partition}`) ?? 0n,
          );
          if (next > state.position) state.position = next;
          const progress = counts.get(`${event.payload.topic}/${event.payload.partition}`);
          if (progress !== undefined) progress.position = state.position;
          state.lastSeen = Date.now();
          settle();
        });
        consumer.on(consumer.events.GROUP_JOIN, () => {
          for (const state of pending.values()) state.lastSeen = Date.now();
          for (const topic of topics) {
            const wanted = requests.filter((r) => r.topic === topic).map((r) => r.partition);
            const all = [...ends.keys()]
              .filter((k) => k.startsWith(`${topic}/`))
              .map((k) => Number(k.slice(topic.length + 1)));
            const others = all.filter((p) => !wanted.includes(p));
            if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
          }
          for (const { request } of pending.values())
            consumer.seek({
              topic: request.topic,
              partition: request.partition,
              offset: request.from,
            });
        });
        consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
        await consumer.subscribe({ topics, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          // A batch fetched before the seek ("stale") is used too: records are taken only from
          // the position on, and positions only move forward, so nothing is read twice or skipped.
          eachBatch: async ({ batch }) => {
            const k = `${batch.topic}/${batch.partition}`;
            const state = pending.get(k);
            if (state === undefined || batch.messages.length === 0) return;
            const end = ends.get(k) ?? 0n;
            const records: FetchedRecord[] = batch.messages
              .filter((m) => BigInt(m.offset) >= state.position && BigInt(m.offset) < end)
              .map(fetchedRecord);
            if (records.length > 0)
              await onRecords({ topic: batch.topic, partition: batch.partition }, records);
            const next = min(BigInt(batch.lastOffset()) + 1n, end);
            if (next > state.position) state.position = next;
            const progress = counts.get(k);
            if (progress !== undefined) {
              progress.records += records.length;
              progress.position = state.position;
            }
            state.lastSeen = Date.now();
            settle();
          },
        });
        await finished;
      } finally {
        clearInterval(timer);
        await consumer.disconnect();
        await admin.deleteGroups([groupId]).catch(() => undefined);
        await admin.disconnect();
      }
      return counts;
    },
  };
}
