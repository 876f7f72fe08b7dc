import { FetchIsolationLevels } from '@platformatic/kafka';

import { TributaryError } from '../../core/index.ts';
import type { KafkaClientOptions } from '../client.ts';
import { backoffMs, classifyKafkaError } from '../faults.ts';
import type { TopicFollower } from '../topic-follower.ts';
import type { FetchedRecord, TopicPartition } from '../types.ts';
import { waiter } from '../waiter.ts';
import { readSettings, withAdmin } from './changelog-reader.ts';
import { createFetcher, tpKey } from './fetcher.ts';
import type { FetchPosition } from './fetcher.ts';
import { partitionRanges } from './offsets.ts';

/** A promise and its settling functions (Promise.withResolvers, past this project's `lib`). */
function resolvers(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve: () => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** As the changelog reader: a bootstrap that makes no progress this long fails (broker gone). */
const defaultQuietMs = 30_000;

/** Every partition of the topics from its log start; and, for those holding records, the end of the bootstrap. */
async function startingPoints(
  options: KafkaClientOptions,
  topics: string[],
): Promise<{ positions: Map<string, FetchPosition>; ends: Map<string, bigint> }> {
  const positions = new Map<string, FetchPosition>();
  const ends = new Map<string, bigint>();
  await withAdmin(options, async (admin) => {
    for (const topic of topics)
      for (const [partition, { start, end }] of await partitionRanges(
        admin,
        topic,
        FetchIsolationLevels.READ_COMMITTED,
      )) {
        const key = tpKey({ topic, partition });
        positions.set(key, { topic, partition, offset: start });
        if (end > start) ends.set(key, end);
      }
  });
  return { positions, ends };
}

/**
 * The TopicFollower: group-less fetches of every partition of the topics, from their log start,
 * for as long as it runs (no consumer group to join, leave or delete, nothing committed). Its
 * position per partition only moves forward; a fetch (or a hand-over) that fails is retried with
 * backoff from the same positions, so the table never goes back to older values; a fault no
 * retry fixes stops it (and fails a bootstrap under way).
 */
export function createPlatformaticTopicFollower(options: KafkaClientOptions): TopicFollower {
  const fetcher = createFetcher(options, readSettings);
  const { wait, wakeAll } = waiter();
  let stopped = false;
  let loop: Promise<void> | undefined;
  let abandon: (error: Error) => void = () => undefined;
  return {
    async follow(topics, onRecords, followOptions = {}) {
      const quietMs = followOptions.quietMs ?? defaultQuietMs;
      const { positions, ends } = await startingPoints(options, topics);
      const bootstrap = resolvers();
      // Handled where awaited below; a stall or stop before that point must not go unhandled.
      bootstrap.promise.catch(() => undefined);
      abandon = bootstrap.reject;
      let lastProgress = Date.now();
      const moved = (key: string, next: bigint): void => {
        const position = positions.get(key);
        if (position === undefined || next <= position.offset) return;
        position.offset = next;
        lastProgress = Date.now();
        const end = ends.get(key);
        if (end !== undefined && next >= end) ends.delete(key);
        if (ends.size === 0) bootstrap.resolve();
      };
      if (ends.size === 0) bootstrap.resolve();
      const quiet = setInterval(() => {
        if (ends.size === 0 || Date.now() - lastProgress <= quietMs) return;
        bootstrap.reject(
          new TributaryError(
            'KAFKA_UNAVAILABLE',
            `global table topics ${topics.join(', ')}: reading to their end stalled, nothing arrived for ${quietMs} ms (${[...ends].map(([tp, end]) => `${tp} at ${positions.get(tp)?.offset ?? 0n} of ${end}`).join(', ')})`,
          ),
        );
      }, 500);
      quiet.unref();
      const deliver = async (key: string, records: FetchedRecord[], next: bigint) => {
        const position = positions.get(key);
        if (position === undefined) return;
        const tp: TopicPartition = { topic: position.topic, partition: position.partition };
        if (records.length > 0) await onRecords(tp, records);
        moved(key, next);
      };
      loop = (async () => {
        let failures = 0;
        while (!stopped) {
          try {
            const fetched = await fetcher.fetch([...positions.values()]);
            for (const [key, { records, next }] of fetched) await deliver(key, records, next);
            failures = 0;
          } catch (error) {
            if (stopped) return;
            // As the kafkajs adapter's follower: what no retry fixes stops it for good.
            const restarting = classifyKafkaError(error) !== 'fatal';
            followOptions.onFault?.({ error, restarting });
            if (!restarting) {
              bootstrap.reject(
                new TributaryError(
                  'KAFKA_UNAVAILABLE',
                  `global table topics ${topics.join(', ')}: the reader stopped`,
                  { cause: error, retriable: false },
                ),
              );
              return;
            }
            failures++;
            await wait(backoffMs(failures, Math.random()));
          }
        }
      })();
      try {
        await bootstrap.promise;
      } finally {
        clearInterval(quiet);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      abandon(
        new TributaryError('KAFKA_UNAVAILABLE', 'global table reader stopped while starting'),
      );
      wakeAll();
      await loop;
      await fetcher.close();
    },
  };
}
