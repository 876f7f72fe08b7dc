import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  createOpenMeteoClient,
  createPollSource,
  kafkaPublisher,
  openProgressStore,
} from '../../src/connectors/open-meteo/index.ts';
import type { Observation, PollSource } from '../../src/connectors/open-meteo/index.ts';
import type { RecordProducer } from '../../src/kafka/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import { fiveLocations } from '../fixtures/open-meteo/fakes.ts';
import { eventually, uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import { modelledWeather, startReplayServer } from '../../tools/open-meteo-replay/index.ts';
import type { ReplayServer } from '../../tools/open-meteo-replay/index.ts';

const hour = 3_600_000;
const json = (o: Observation): Buffer => Buffer.from(JSON.stringify(o), 'utf8');

/** Records in the topic: the sum of its partitions' end offsets (no transactions, so no markers). */
async function recordCount(topic: string): Promise<number> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  try {
    return [...(await admin.endOffsets(topic)).values()].reduce((n, o) => n + Number(o), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('HTTP poll source -> Kafka (replay server, real broker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'it-http-poll-'));
  const topic = uniqueName('it-weather-poll');
  let server: ReplayServer;
  let producer: RecordProducer;

  before(async () => {
    server = await startReplayServer();
    await createTopics([{ topic, partitions: 3 }]);
    producer = kafka.recordProducer();
    await producer.connect();
  });

  after(async () => {
    await producer.disconnect();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes each (location, hour) once over 3 rounds, through a 503 burst and a restart', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 20, 10, 20));
    const progressPath = join(dir, 'poll-progress.json');
    const client = createOpenMeteoClient({ baseUrl: server.url, timeoutMs: 5000 });
    const source = async (): Promise<PollSource> =>
      createPollSource({
        locations: fiveLocations,
        intervalMs: 60_000,
        client,
        publish: kafkaPublisher(producer, topic, json),
        progress: await openProgressStore(progressPath, clock),
        clock,
        retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 200, jitter: 0.5 },
      });

    // Round 1, 10:20: yesterday and today up to 09:00, 34 hours per location.
    const first = await source();
    assert.equal((await first.pollOnce()).published, 5 * 34);

    // Round 2, 11:20, through three 503s: one new hour each, retried, published once.
    server.faults.failNext(3);
    clock.advance(hour);
    const second = await first.pollOnce();
    assert.deepEqual([second.published, second.failed], [5, []]);
    assert.equal(first.stats().retries, 3);
    assert.equal(server.requests.filter((r) => r.status === 503).length, 3);
    await first.stop();

    // Restart: a new source on the same progress file. Round 3, 14:20, started by start().
    clock.advance(3 * hour);
    const restarted = await source();
    server.faults.malformNext(1, 'length-mismatch');
    restarted.start();
    await eventually('the restarted source to finish a round', async () =>
      restarted.stats().rounds >= 1 ? true : undefined,
    );
    await restarted.stop();
    assert.equal(restarted.stats().published, 5 * 3);
    assert.equal(restarted.stats().invalidResponses, 1);

    const expected = 5 * (34 + 1 + 3);
    const read = await readTopic(topic, (records) => records.length >= expected);
    assert.equal(read.length, expected);
    assert.equal(await recordCount(topic), expected); // nothing beyond what was read

    const seen = new Map<string, number>();
    const partitionOf = new Map<string, number>();
    for (const record of read) {
      const value = JSON.parse(record.value?.toString('utf8') ?? 'null') as Observation;
      const location = fiveLocations.find((l) => l.id === value.location);
      assert.ok(location !== undefined);
      assert.equal(record.key, location.id);
      assert.deepEqual(value, {
        location: location.id,
        latitude: location.latitude,
        longitude: location.longitude,
        time: value.time,
        ...modelledWeather(location.latitude, location.longitude, value.time),
      });
      const id = `${value.location}@${value.time}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      // A location's hours share one partition (keyed).
      assert.equal(partitionOf.get(location.id) ?? record.partition, record.partition);
      partitionOf.set(location.id, record.partition);
    }
    assert.equal(seen.size, expected);
    for (const location of fiveLocations) {
      // In the order read, which is the partition's order: each location's hours ascending.
      const times = read
        .filter((r) => r.key === location.id)
        .map((r) => (JSON.parse(r.value?.toString('utf8') ?? '{}') as Observation).time);
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      assert.equal(times[0], Date.UTC(2026, 10, 19, 0));
      assert.equal(times[times.length - 1], Date.UTC(2026, 10, 20, 13));
      assert.equal(times.length, 38);
    }
  });
});
