import { randomUUID } from 'node:crypto';

import type { Kafka } from 'kafkajs';

import { TributaryError } from '../core/index.ts';
import { fetchedRecord } from './consumer.ts';
import { backoffMs, crashAction } from './faults.ts';
import type { FetchedRecord, TopicPartition } from './types.ts';

/** The follower's consumer crashed; it goes on (`restarting`) or has stopped for good. */
export interface FollowerFault {
  error: unknown;
  restarting: boolean;
}

export interface FollowOptions {
  /** The bootstrap fails when no partition still behind moves on for this long. */
  quietMs?: number;
  /** Told of each crash of the consumer (kafkajs or the follower restarts it, or it stopped). */
  onFault?: (fault: FollowerFault) => void;
}

/** Reads whole topics and keeps reading them (a global table). */
export interface TopicFollower {
  /**
   * Reads every partition of the topics from its start and goes on reading as they grow.
   * Resolves once each partition reached the end it had when the call began (the bootstrap);
   * rejects (KAFKA_UNAVAILABLE) if that read stalls for `quietMs`, or if the consumer stops.
   */
  follow(
    topics: string[],
    onRecords: (tp: TopicPartition, records: FetchedRecord[]) => Promise<void>,
    options?: FollowOptions,
  ): Promise<void>;
  /** Disconnects; idempotent. A bootstrap still under way rejects. */
  stop(): Promise<void>;
}

/** As the changelog reader: a read that makes no progress this long fails (broker gone). */
const defaultQuietMs = 30_000;

/**
 * A follower on its own consumer group (unique per worker, never committing: every start reads
 * the topics again from their start), read_committed, so aborted writes never reach the table.
 * It keeps its own position per partition: when kafkajs restarts the consumer after a crash (a
 * broker down for a while), the new group member would start from the beginning again, since
 * nothing is committed; it seeks to the position instead, so a lookup never sees the table go
 * back to older values.
 */
export function createTopicFollower(kafka: Kafka, groupPrefix: string): TopicFollower {
  const groupId = `${groupPrefix}-global-${process.pid}-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    readUncommitted: false,
    sessionTimeout: 30_000,
  });
  let running = false;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let abandon: (error: Error) => void = () => undefined;
  const removers: (() => void)[] = [];
  return {
    async follow(topics, onRecords, options = {}) {
      const quietMs = options.quietMs ?? defaultQuietMs;
      const admin = kafka.admin();
      await admin.connect();
      // Bootstrap ends (high watermarks: past the last marker), for partitions that hold records.
      const ends = new Map<string, bigint>();
      try {
        for (const topic of topics) {
          for (const p of await admin.fetchTopicOffsets(topic)) {
            if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
          }
        }
      } finally {
        await admin.disconnect();
      }
      /** The next offset to apply, per `topic/partition`; only moves forward. */
      const positions = new Map<string, bigint>();
      let lastProgress = Date.now();
      let done: () => void = () => undefined;
      let fail: (error: Error) => void = () => undefined;
      let bootstrapping = true;
      const bootstrapped = new Promise<void>((resolve, reject) => {
        done = resolve;
        fail = reject;
      });
      // Handled where awaited below; a stall or stop before that point must not go unhandled.
      bootstrapped.catch(() => undefined);
      abandon = (error) => fail(error);
      const moved = (tp: string, next: bigint): void => {
        if (next > (positions.get(tp) ?? -1n)) positions.set(tp, next);
        lastProgress = Date.now();
        const end = ends.get(tp);
        if (end !== undefined && next >= end) ends.delete(tp);
        if (ends.size === 0) done();
      };
      if (ends.size === 0) done();
      const quiet = setInterval(() => {
        if (ends.size === 0 || Date.now() - lastProgress <= quietMs) return;
        fail(
          new TributaryError(
            'KAFKA_UNAVAILABLE',
            `global table topics ${topics.join(', ')}: reading to their end stalled, nothing arrived for ${quietMs} ms (${[...ends].map(([tp, end]) => `${tp} at ${positions.get(tp) ?? 0n} of ${end}`).join(', ')})`,
          ),
        );
      }, 500);
      quiet.unref();
      const run = (): Promise<void> =>
        consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const tp = `${batch.topic}/${batch.partition}`;
            const from = positions.get(tp) ?? 0n;
            // A batch fetched before the seek of a restart holds records applied already.
            const records: FetchedRecord[] = batch.messages
              .filter((m) => BigInt(m.offset) >= from)
              .map(fetchedRecord);
            if (records.length > 0)
              await onRecords({ topic: batch.topic, partition: batch.partition }, records);
            if (batch.messages.length > 0) moved(tp, BigInt(batch.lastOffset()) + 1n);
          },
        });
      let crashes = 0;
      /** kafkajs will not restart this crash (a cause it deems final): run again after a backoff. */
      const restart = (delayMs: number): void => {
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          if (stopped) return;
          void (async () => {
            try {
              await consumer.connect();
              await run();
            } catch (error) {
              if (stopped) return;
              crashes++;
              options.onFault?.({ error, restarting: true });
              restart(backoffMs(crashes, Math.random()));
            }
          })();
        }, delayMs);
      };
      removers.push(
        // Positions move on for batches of only markers or aborted records too.
        consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
          const last = event.payload.lastOffset;
          if (last === null || last === undefined) return;
          moved(`${event.payload.topic}/${event.payload.partition}`, BigInt(last) + 1n);
        }),
        // (1) a rejoin after a restart resumes where the table is, not at the topics' start
        consumer.on(consumer.events.GROUP_JOIN, () => {
          crashes = 0;
          lastProgress = Date.now();
          for (const [tp, offset] of positions) {
            const cut = tp.lastIndexOf('/');
            consumer.seek({
              topic: tp.slice(0, cut),
              partition: Number(tp.slice(cut + 1)),
              offset: offset.toString(),
            });
          }
        }),
        consumer.on(consumer.events.CRASH, (event) => {
          if (stopped) return;
          const { error, restart: kafkajsRestarts } = event.payload;
          const action = crashAction(error, kafkajsRestarts);
          options.onFault?.({ error, restarting: action !== 'fail' });
          if (action === 'fail') {
            if (bootstrapping)
              fail(
                new TributaryError(
                  'KAFKA_UNAVAILABLE',
                  `global table topics ${topics.join(', ')}: the reader stopped`,
                  { cause: error, retriable: false },
                ),
              );
            return;
          }
          if (action === 'own') {
            crashes++;
            restart(backoffMs(crashes, Math.random()));
          }
        }),
      );
      await consumer.connect();
      running = true;
      await consumer.subscribe({ topics, fromBeginning: true });
      await run();
      try {
        await bootstrapped;
      } finally {
        bootstrapping = false;
        clearInterval(quiet);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      abandon(
        new TributaryError('KAFKA_UNAVAILABLE', 'global table reader stopped while starting'),
      );
      for (const remove of removers.splice(0)) remove();
      if (!running) return;
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
