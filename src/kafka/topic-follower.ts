import { randomUUID } from 'node:crypto';

import type { Kafka } from 'kafkajs';

import { headersOf } from './consumer.ts';
import type { FetchedRecord, TopicPartition } from './types.ts';

/** Reads whole topics and keeps reading them (a global table). */
export interface TopicFollower {
  /**
   * Reads every partition of the topics from its start and goes on reading as they grow.
   * Resolves once each partition reached the end it had when the call began (the bootstrap);
   * rejects if that does not happen within `bootstrapLimitMs`.
   */
  follow(
    topics: string[],
    onRecords: (tp: TopicPartition, records: FetchedRecord[]) => Promise<void>,
    bootstrapLimitMs?: number,
  ): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A follower on its own consumer group (unique per worker, never committing: every start reads
 * the topics again from their start), read_committed, so aborted writes never reach the table.
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
  return {
    async follow(topics, onRecords, bootstrapLimitMs = 300_000) {
      const admin = kafka.admin();
      await admin.connect();
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
      let done: () => void = () => undefined;
      const bootstrapped = new Promise<void>((resolve) => {
        done = resolve;
      });
      const reached = (tp: string, next: bigint): void => {
        const end = ends.get(tp);
        if (end !== undefined && next >= end) ends.delete(tp);
        if (ends.size === 0) done();
      };
      if (ends.size === 0) done();
      await consumer.connect();
      running = true;
      // Positions move on for batches of only markers or aborted records too.
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const last = event.payload.lastOffset;
        if (last === null || last === undefined) return;
        reached(`${event.payload.topic}/${event.payload.partition}`, BigInt(last) + 1n);
      });
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (batch.messages.length === 0) return;
          const records: FetchedRecord[] = batch.messages.map((m) => ({
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
            headers: headersOf(m.headers),
            offset: m.offset,
          }));
          await onRecords({ topic: batch.topic, partition: batch.partition }, records);
          reached(`${batch.topic}/${batch.partition}`, BigInt(batch.lastOffset()) + 1n);
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `reading ${topics.join(', ')} to their end did not finish within ${bootstrapLimitMs} ms (${[...ends.keys()].join(', ')} behind)`,
              ),
            ),
          bootstrapLimitMs,
        );
        timer.unref();
      });
      try {
        await Promise.race([bootstrapped, limit]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      if (!running) return;
      running = false;
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
