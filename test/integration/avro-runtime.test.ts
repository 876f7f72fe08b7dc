import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { startWorker } from '../../src/app/index.ts';
import { silentLogger } from '../../src/core/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { avro, schemaRegistry, string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';
import { endpoints, uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import { weatherSchemaFiles } from '../../src/connectors/open-meteo/index.ts';
import type { Observation, WeatherHourly } from '../../src/connectors/open-meteo/index.ts';

const hour = 3_600_000;
const v1Schema = JSON.parse(readFileSync(weatherSchemaFiles.observation, 'utf8')) as {
  fields: object[];
};
const v2Schema = {
  ...v1Schema,
  fields: [...v1Schema.fields, { name: 'cloud_cover', type: ['null', 'double'], default: null }],
};

const observationAt = (location: string, i: number): Observation => ({
  location,
  latitude: 60.39,
  longitude: 5.32,
  time: Date.UTC(2026, 10, 21) + i * hour,
  temperature_2m: i % 3 === 0 ? null : 4 + i / 10,
  relative_humidity_2m: 80,
  precipitation: 0.1 * i,
  wind_speed_10m: 10 + i,
});

/** One observation as a one-record aggregate of its hour. */
const asHour = (o: Observation): WeatherHourly => ({
  location: o.location,
  window_start: o.time,
  window_end: o.time + hour,
  count: 1,
  temperature_min: o.temperature_2m,
  temperature_max: o.temperature_2m,
  temperature_mean: o.temperature_2m,
  humidity_mean: o.relative_humidity_2m,
  precipitation_total: o.precipitation,
  wind_speed_max: o.wind_speed_10m,
});

describe('Avro serdes in a running worker (real broker and registry)', () => {
  it('registers at start, decodes records of two schema versions, and dead-letters unknown ids and corrupt bytes', async () => {
    const appId = uniqueName('it-avro-worker');
    const input = `${appId}-observations`;
    const output = `${appId}-hourly`;
    await createTopics([
      { topic: input, partitions: 2 },
      { topic: output, partitions: 2 },
    ]);
    const registry = schemaRegistry({ url: endpoints.registryUrl });

    // Producers of two schema versions write the input.
    const writerV1 = avro<Observation>({
      registry,
      schema: weatherSchemaFiles.observation,
      compatibility: 'BACKWARD',
    });
    const writerV2 = avro<Observation & { cloud_cover: number | null }>({
      registry,
      schema: v2Schema,
      compatibility: 'BACKWARD',
    });
    await writerV1.init?.(input);
    await writerV2.init?.(input);
    const good = Array.from({ length: 20 }, (_, i) => observationAt(`loc-${i % 4}`, i));
    const encoded = good.map((o, i) => {
      const bytes =
        i % 2 === 0
          ? writerV1.serialize(o, input)
          : writerV2.serialize({ ...o, cloud_cover: 40 + i }, input);
      assert.ok(bytes !== null);
      return { key: o.location, value: bytes };
    });
    const sample = encoded[0]?.value;
    assert.ok(sample !== undefined);
    const unknownId = Buffer.from(sample);
    unknownId.writeInt32BE(999999, 1);
    const bad = [
      { key: 'unknown-id', value: unknownId, code: 'SERDE_UNKNOWN_SCHEMA' },
      { key: 'corrupt', value: sample.subarray(0, 9), code: 'SERDE_DESERIALIZE_FAILED' },
      { key: 'json', value: Buffer.from('{"location":"x"}'), code: 'SERDE_DESERIALIZE_FAILED' },
    ];
    const producer = kafka.producer();
    await producer.connect();
    const messages = [...encoded.slice(0, 10), ...bad, ...encoded.slice(10)];
    for (const { key, value } of messages)
      await producer.send({ topic: input, acks: -1, messages: [{ key, value }] });
    await producer.disconnect();

    // The worker reads with the v1 schema and writes hourly aggregates.
    const t = topology(appId);
    t.stream(input, {
      key: string(),
      value: avro<Observation>({ registry, schema: weatherSchemaFiles.observation }),
    })
      .mapValues(asHour, { name: 'as-hour' })
      .to(output, {
        key: string(),
        value: avro<WeatherHourly>({ registry, schema: weatherSchemaFiles.hourly }),
      });
    const worker = await startWorker(t.build(), {
      brokers: endpoints.kafkaBrokers,
      logger: silentLogger,
      workerId: 'avro-test',
    });
    try {
      const out = await readTopic(output, (rs) => rs.length >= good.length);
      const reader = avro<WeatherHourly>({
        registry: schemaRegistry({ url: endpoints.registryUrl }),
        schema: weatherSchemaFiles.hourly,
      });
      await reader.prepareBatch?.(
        out.map((r) => r.value),
        output,
      );
      const hours = out.map((r) => reader.deserialize(r.value, output));
      const byTime = (a: WeatherHourly, b: WeatherHourly): number =>
        a.window_start - b.window_start;
      assert.deepStrictEqual(hours.sort(byTime), good.map(asHour).sort(byTime));
      const latest = await fetch(
        `${endpoints.registryUrl}/subjects/${output}-value/versions/latest`,
      );
      assert.equal(latest.status, 200, 'the sink registered its schema at start');

      const dead = await readTopic(`${appId}-dlq`, (rs) => rs.length >= bad.length);
      assert.equal(dead.length, bad.length);
      for (const expected of bad) {
        const found = dead.find((d) => d.key === expected.key);
        assert.ok(found, `${expected.key} is in the dead-letter topic`);
        assert.equal(found.headers[deadLetterHeaders.code], expected.code, expected.key);
        assert.equal(found.headers[deadLetterHeaders.reason], 'invalid', expected.key);
        assert.deepEqual(found.value, expected.value, `${expected.key}: the original bytes`);
      }
      assert.match(
        dead.find((d) => d.key === 'unknown-id')?.headers[deadLetterHeaders.message] ?? '',
        /schema id 999999, which the schema registry at .* does not know/,
      );
    } finally {
      await worker.stop();
    }
  });
});
