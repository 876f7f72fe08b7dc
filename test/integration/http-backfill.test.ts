import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  createOpenMeteoClient,
  kafkaPublisher,
  modelledWeather,
  openProgressStore,
  runBackfill,
  startReplayServer,
} from '../../src/connectors/http/index.ts';
import type {
  BackfillOptions,
  Observation,
  Publish,
  ReplayServer,
} from '../../src/connectors/http/index.ts';
import type { RecordProducer } from '../../src/kafka/index.ts';
import { fiveLocations } from '../fixtures/open-meteo/fakes.ts';
import { uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';

const json = (o: Observation): Buffer => Buffer.from(JSON.stringify(o), 'utf8');

async function recordCount(topic: string): Promise<number> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  try {
    return [...(await admin.endOffsets(topic)).values()].reduce((n, o) => n + Number(o), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('HTTP backfill -> Kafka (replay server, real broker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'it-http-backfill-'));
  const topic = uniqueName('it-weather-backfill');
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

  it('resumed after a server outage and a stop, publishes 7 days x 5 locations once each: 840 records', async () => {
    const progressPath = join(dir, 'backfill-progress.json');
    const toKafka = kafkaPublisher(producer, topic, json);
    const lines: string[] = [];
    let published = 0;
    const run = async (publish: Publish, extra: Partial<BackfillOptions> = {}) =>
      runBackfill({
        from: '2026-11-01',
        to: '2026-11-07',
        locations: fiveLocations,
        client: createOpenMeteoClient({ baseUrl: server.url, timeoutMs: 5000 }),
        publish,
        progress: await openProgressStore(progressPath),
        chunkDays: 2,
        retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, jitter: 0.5 },
        output: { write: (text: string) => lines.push(text) },
        logEveryChunks: 4,
        ...extra,
      });

    // Run 1: after 6 chunks the server fails every request (until cleared).
    const first = await run(async (records) => {
      await toKafka(records);
      if (++published === 6) server.faults.failNext(Infinity);
    });
    assert.ok(first.completed >= 6 && first.completed < 20, `completed ${first.completed}`);
    assert.ok(first.failed.length > 0);
    assert.ok(first.failed.every((f) => /HTTP 503/.test(f.error)));
    assert.equal(first.completed + first.failed.length + first.notStarted, 20);

    // Run 2: the server is back; stopped after 3 more chunks.
    server.faults.clear();
    const stop = new AbortController();
    let inRun2 = 0;
    const second = await run(
      async (records) => {
        await toKafka(records);
        if (++inRun2 === 3) stop.abort();
      },
      { signal: stop.signal },
    );
    assert.equal(second.stopped, true);
    assert.equal(second.skipped, first.completed);
    assert.ok(second.completed >= 3 && second.completed < 20 - first.completed);

    // Run 3: to the end.
    const third = await run(toKafka);
    assert.deepEqual(
      [third.skipped, third.completed + third.skipped, third.failed.length, third.stopped],
      [first.completed + second.completed, 20, 0, false],
    );
    assert.equal(first.records + second.records + third.records, 840);

    // Each chunk was fetched successfully exactly once over the three runs.
    const answered = server.requests.filter((r) => r.endpoint === 'archive' && r.status === 200);
    assert.equal(answered.length, 20);
    assert.equal(new Set(answered.map((r) => r.url)).size, 20);

    const read = await readTopic(topic, (records) => records.length >= 840);
    assert.equal(read.length, 840);
    assert.equal(await recordCount(topic), 840);
    const seen = new Set<string>();
    for (const record of read) {
      const value = JSON.parse(record.value?.toString('utf8') ?? 'null') as Observation;
      const location = fiveLocations.find((l) => l.id === record.key);
      assert.ok(location !== undefined);
      assert.deepEqual(value, {
        location: location.id,
        latitude: location.latitude,
        longitude: location.longitude,
        time: value.time,
        ...modelledWeather(location.latitude, location.longitude, value.time),
      });
      assert.ok(value.time >= Date.UTC(2026, 10, 1) && value.time < Date.UTC(2026, 10, 8));
      seen.add(`${location.id}@${value.time}`);
    }
    assert.equal(seen.size, 840);
    for (const location of fiveLocations) {
      const times = read
        .filter((r) => r.key === location.id)
        .map((r) => (JSON.parse(r.value?.toString('utf8') ?? '{}') as Observation).time);
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
        `${location.id} in time order`,
      );
    }

    assert.ok(lines.length >= 3);
    assert.ok(lines.every((l) => /^backfill \d+\/\d+ chunks/.test(l)));
    console.log(lines.join('').trimEnd());
  });
});
