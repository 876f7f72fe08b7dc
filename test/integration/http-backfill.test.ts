import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  createOpenMeteoClient,
  kafkaPublisher,
  openProgressStore,
  runBackfill,
} from '../../src/connectors/open-meteo/index.ts';
import type {
  BackfillOptions,
  Observation,
  Publish,
} from '../../src/connectors/open-meteo/index.ts';
import type { RecordProducer } from '../../src/kafka/index.ts';
import { fiveLocations, manyLocations, timeOrderedKeys } from '../fixtures/open-meteo/fakes.ts';
import { uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { modelledWeather, startReplayServer } from '../../tools/open-meteo-replay/index.ts';
import type { ReplayServer } from '../../tools/open-meteo-replay/index.ts';

const json = (o: Observation): Buffer => Buffer.from(JSON.stringify(o), 'utf8');
const timeOf = (r: ReadRecord): number =>
  (JSON.parse(r.value?.toString('utf8') ?? '{}') as Observation).time;

/**
 * Each partition's records in offset order, as `location@hour`, checked against the oracle: the
 * partition's locations hour by hour (ids in order), so event time never goes back in it.
 */
function assertTimeOrderedPartitions(read: ReadRecord[], from: number, until: number): void {
  const partitions = new Map<number, ReadRecord[]>();
  for (const r of read) {
    const records = partitions.get(r.partition) ?? [];
    records.push(r);
    partitions.set(r.partition, records);
  }
  for (const [partition, records] of partitions) {
    records.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    const ids = [...new Set(records.map((r) => r.key ?? ''))];
    const times = records.map(timeOf);
    assert.ok(
      times.every((t, i) => i === 0 || t >= (times[i - 1] as number)),
      `partition ${partition}: event time goes back`,
    );
    assert.deepEqual(
      records.map((r) => `${r.key}@${new Date(timeOf(r)).toISOString()}`),
      timeOrderedKeys(ids, from, until),
      `partition ${partition} (${ids.join(', ')})`,
    );
  }
}

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

    // Run 1: after the first chunk (5 locations x 2 days) the server fails every request (until
    // cleared), so the second chunk fails and nothing later starts.
    const first = await run(async (records) => {
      await toKafka(records);
      if (++published === 1) server.faults.failNext(Infinity);
    });
    assert.equal(first.completed, 5);
    assert.ok(first.failed.length > 0);
    assert.ok(first.failed.every((f) => /HTTP 503/.test(f.error) && f.startDate === '2026-11-03'));
    assert.equal(first.completed + first.failed.length + first.notStarted, 20);

    // Run 2: the server is back; stopped after one more chunk.
    server.faults.clear();
    const stop = new AbortController();
    const second = await run(
      async (records) => {
        await toKafka(records);
        stop.abort();
      },
      { signal: stop.signal },
    );
    assert.deepEqual(
      [second.stopped, second.skipped, second.completed, second.notStarted],
      [true, 5, 5, 10],
    );

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
    // Three runs, one stream: each partition in event-time order.
    assertTimeOrderedPartitions(read, Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 8));

    assert.ok(lines.length >= 3);
    assert.ok(lines.every((l) => /^backfill \d+\/\d+ chunks/.test(l)));
    console.log(lines.join('').trimEnd());
  });
  it('fills a 3-partition topic from 12 locations x 10 days in 3-day chunks, each partition in event-time order', async () => {
    const many = uniqueName('it-weather-backfill-order');
    await createTopics([{ topic: many, partitions: 3 }]);
    const locations = manyLocations(12);
    const report = await runBackfill({
      from: '2026-11-01',
      to: '2026-11-10',
      locations,
      client: createOpenMeteoClient({ baseUrl: server.url, timeoutMs: 5000 }),
      publish: kafkaPublisher(producer, many, json),
      progress: await openProgressStore(join(dir, 'order-progress.json')),
      chunkDays: 3,
      concurrency: 4,
      output: null,
    });
    assert.deepEqual(
      [report.chunks, report.completed, report.failed.length, report.records],
      [48, 48, 0, 2880],
    );

    const read = await readTopic(many, (records) => records.length >= 2880);
    assert.equal(read.length, 2880);
    assert.equal(await recordCount(many), 2880);
    assert.equal(new Set(read.map((r) => `${r.key}@${timeOf(r)}`)).size, 2880);
    // A location lives in one partition, and the partitions share the 12 between them.
    const partitionOf = new Map<string, Set<number>>();
    for (const r of read)
      partitionOf.set(r.key ?? '', (partitionOf.get(r.key ?? '') ?? new Set()).add(r.partition));
    assert.equal(partitionOf.size, 12);
    assert.ok([...partitionOf.values()].every((p) => p.size === 1));
    const perPartition = new Map<number, number>();
    for (const p of partitionOf.values()) {
      const [partition = -1] = p;
      perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
    }
    assert.ok(Math.max(...perPartition.values()) >= 2, 'a partition carries several locations');
    console.log(
      `locations per partition: ${[...perPartition].map(([p, n]) => `${p}=${n}`).join(' ')}`,
    );
    assertTimeOrderedPartitions(read, Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 11));
  });
});
