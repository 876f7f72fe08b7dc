// The sensor pipeline end to end against the real Mosquitto, Kafka and Cassandra: simulated
// sensors publish 2 h 10 min of readings over MQTT, `tributary source sensors` bridges them into
// Kafka, two `tributary run topologies/sensors.ts` workers clean, aggregate and score them, and
// the Cassandra tables must equal an oracle computed from the messages (the predictions: the
// model evaluated offline on the oracle's aggregates). The readings are joined with the compacted
// sensor-metadata topic: the first hour is sent, and processed (a marker per sensor observed on
// the flagged topic), then a third of the sensors are recalibrated, and once a marker shows the
// new offset the rest is sent. The oracle calibrates each reading with the metadata as it stood
// when the reading was sent, as the stream-table join does when it processes it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import cassandra from 'cassandra-driver';

import { loadModel } from '../../src/operators/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { sensorOracle } from '../../scripts/verify/sensor-oracle.ts';
import type { SensorReading } from '../../topologies/sensors.ts';
import { startCli } from './cli.ts';
import type { CliProcess } from './cli.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { createTopics, produceJson, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import {
  calibratedCelsius,
  recalibrated,
  sensorMessages,
  sensorMetadata,
  simulateSensors,
} from '../../tools/mqtt-sensors/index.ts';
import type { SensorMetadata } from '../../tools/mqtt-sensors/index.ts';

const partitions = 6;

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

describe('sensor pipeline end to end (real Mosquitto, Kafka and Cassandra)', () => {
  const cql = new cassandra.Client({
    contactPoints: [endpoints.cassandraContactPoint],
    localDataCenter: endpoints.cassandraDataCenter,
  });
  const cleanups: (() => void | Promise<void>)[] = [];
  before(async () => {
    await cql.connect();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await cql.shutdown();
  });

  it('100 sensors x 2 hours through MQTT: Cassandra aggregates and predictions equal the oracle and the model evaluated offline', async (t) => {
    const appId = uniqueName('it-sensors');
    const prefix = appId.replaceAll('-', '_');
    const readingsTopic = `${appId}-readings`;
    const metadataTopic = `${appId}-metadata`;
    const flaggedTopic = `${appId}-flagged`;
    const sourceDlq = `${appId}-source-dlq`;
    const keyspace = prefix;
    // The metadata topic compacted and co-partitioned with the readings (same count, same key).
    await createTopics([
      { topic: readingsTopic, partitions },
      { topic: metadataTopic, partitions, config: { 'cleanup.policy': 'compact' } },
    ]);
    const initial = sensorMetadata(100, 5);
    await produceJson(
      metadataTopic,
      initial.map((m) => ({ key: m.sensorId, value: m })),
    );
    const stateDir = mkdtempSync(join(tmpdir(), 'sensors-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    cleanups.push(async () => {
      await cql.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    });
    const env = {
      TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(','),
      TRIBUTARY_MQTT_URL: endpoints.mqttUrl,
      TRIBUTARY_CASSANDRA_CONTACT_POINTS: endpoints.cassandraContactPoint,
      TRIBUTARY_CASSANDRA_LOCAL_DC: endpoints.cassandraDataCenter,
      TRIBUTARY_APP_ID: appId,
      TRIBUTARY_METRICS_PORT: '0',
      TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
      SENSORS_READINGS_TOPIC: readingsTopic,
      SENSORS_METADATA_TOPIC: metadataTopic,
      SENSORS_FLAGGED_TOPIC: flaggedTopic,
      SENSORS_MINUTELY_TOPIC: `${appId}-minutely`,
      SENSORS_KEYSPACE: keyspace,
    };
    const processes: CliProcess[] = [];
    cleanups.push(() => {
      for (const p of processes) p.child.kill('SIGKILL');
    });
    const bridge = startCli(
      ['source', 'sensors', '--filter', `${prefix}/+/data`, '--topic', readingsTopic].concat([
        '--dead-letter-topic',
        sourceDlq,
        '--client-id',
        `${appId}-source`,
      ]),
      env,
    );
    processes.push(bridge);
    await eventually(
      'the MQTT source to subscribe',
      async () => (bridge.log.some((l) => l['msg'] === 'MQTT source started') ? true : undefined),
      30_000,
    );
    for (const id of ['s1', 's2'])
      processes.push(
        startCli(['run', 'topologies/sensors.ts'], {
          ...env,
          TRIBUTARY_WORKER_ID: id,
          TRIBUTARY_STATE_DIR: join(stateDir, id),
        }),
      );

    // 1. The first hour of readings, calibrated with the initial metadata.
    const start = Date.UTC(2026, 8, 10);
    const base = { sensors: 100, seed: 5, topicPrefix: prefix };
    const first = { ...base, history: { start, intervalMs: 60_000 }, durationSeconds: 3600 };
    const second = {
      ...base,
      seed: 6,
      history: { start: start + 3_600_000, intervalMs: 60_000 },
      durationSeconds: 3600 + 10 * 60,
    };
    const atSourceKinds = new Set(['not-json', 'not-utf8', 'not-object']);
    const byKind: Record<string, number> = {};
    let sent = 0;
    // What the readings topic holds: the bridged messages and the markers.
    let inTopic = 0;
    const calibrated: SensorReading[] = [];
    let metadata = new Map(initial.map((m) => [m.sensorId, m]));
    const markerTime = start + 3_600_000 - 1;
    // A marker: an impossible reading (flagged, so in no aggregate) whose flagged copy carries
    // the calibration it was joined with.
    const marker = (sensorId: string, n: number): { key: string; value: SensorReading } => ({
      key: sensorId,
      value: { sensorId, timestamp: markerTime - n, temperature: 1000 + n, humidity: 50 },
    });
    const markersOf = (records: ReadRecord[], n: number): Map<string, number> =>
      new Map(
        records.flatMap((r) => {
          const v = JSON.parse(r.value?.toString() ?? '{}') as SensorReading;
          return v.timestamp === markerTime - n && r.key !== null
            ? [[r.key, v.temperature] as const]
            : [];
        }),
      );
    const send = async (options: typeof first, n: number): Promise<void> => {
      const report = await simulateSensors({ url: endpoints.mqttUrl, ...options });
      assert.equal(report.unacknowledged, 0, 'the broker acknowledged every message');
      const messages = [...sensorMessages(options)];
      assert.equal(report.sent, messages.length);
      sent += report.sent;
      for (const [kind, count] of Object.entries(report.byKind as Record<string, number>))
        byKind[kind] = (byKind[kind] ?? 0) + count;
      for (const m of messages)
        if (m.reading !== undefined) {
          const meta = metadata.get(m.sensorId) as SensorMetadata;
          calibrated.push({
            ...m.reading,
            temperature: calibratedCelsius(m.reading.temperature, meta),
          });
        }
      // 2. Everything bridged into Kafka, then a marker per sensor behind it in its partition:
      // once every marker is flagged, every reading before it has been joined.
      inTopic += messages.filter((m) => !atSourceKinds.has(m.kind)).length;
      await readTopic(readingsTopic, (rs) => rs.length >= inTopic, 120_000);
      await produceJson(
        readingsTopic,
        initial.map((m) => marker(m.sensorId, n)),
      );
      inTopic += initial.length;
      await readTopic(flaggedTopic, (rs) => markersOf(rs, n).size >= initial.length, 180_000);
    };
    await send(first, 0);

    // 3. A recalibration of every third sensor; markers until each shows the new offset.
    const changes = recalibrated(initial);
    await produceJson(
      metadataTopic,
      changes.map((m) => ({ key: m.sensorId, value: m })),
    );
    metadata = new Map([...metadata, ...changes.map((m) => [m.sensorId, m] as const)]);
    for (let n = 1; ; n++) {
      await produceJson(
        readingsTopic,
        changes.map((m) => marker(m.sensorId, n)),
      );
      inTopic += changes.length;
      const seen = markersOf(
        await readTopic(flaggedTopic, (rs) => markersOf(rs, n).size >= changes.length, 180_000),
        n,
      );
      if (changes.every((m) => close(seen.get(m.sensorId) ?? NaN, calibratedCelsius(1000 + n, m))))
        break;
      assert.ok(n < 30, 'the recalibration reaches the join');
    }

    // 4. The rest, calibrated with the new metadata.
    await send(second, 100);
    const expected = sensorOracle(calibrated).rows;
    assert.equal(expected.size, 200, '100 sensors x 2 closed hours');

    const rowsOf = async (table: string) =>
      (await cql.execute(`SELECT * FROM ${keyspace}.${table}`, [], { fetchSize: 10_000 })).rows;
    await eventually(
      'Cassandra to hold 200 hourly aggregates and 200 predictions',
      async () => {
        try {
          return (await rowsOf('sensor_hourly')).length >= 200 &&
            (await rowsOf('sensor_predictions')).length >= 200
            ? true
            : undefined;
        } catch {
          return undefined;
        }
      },
      180_000,
      1000,
    );
    const hourly = await rowsOf('sensor_hourly');
    assert.equal(hourly.length, expected.size);
    for (const row of hourly) {
      const id = `${row.get('sensor_id') as string}@${(row.get('window_start') as Date).getTime()}`;
      const want = expected.get(id);
      assert.ok(want !== undefined, `unexpected row ${id}`);
      assert.equal(
        row.get('location'),
        metadata.get(row.get('sensor_id') as string)?.location,
        `${id} location`,
      );
      for (const [column, value] of Object.entries(want))
        assert.ok(
          close(row.get(column) as number, value),
          `${id} ${column}: ${row.get(column)} != ${value}`,
        );
    }

    const model = loadModel(new URL('../../models/sensor-model.json', import.meta.url));
    const predictions = await rowsOf('sensor_predictions');
    assert.equal(predictions.length, expected.size);
    for (const row of predictions) {
      const id = `${row.get('sensor_id') as string}@${(row.get('window_start') as Date).getTime()}`;
      const agg = expected.get(id);
      assert.ok(agg !== undefined, `unexpected prediction ${id}`);
      const offline = model.score({
        temperature_mean: agg.temperature_mean,
        temperature_min: agg.temperature_min,
        temperature_max: agg.temperature_max,
        humidity_mean: agg.humidity_mean,
        count: agg.count,
      });
      assert.ok(
        close(row.get('value') as number, offline.value),
        `${id}: ${row.get('value')} != ${offline.value}`,
      );
      assert.equal(row.get('label'), offline.label ?? false, `${id} label`);
      assert.equal(row.get('model_version'), model.version);
    }

    // Bad payloads: not JSON (and friends) rejected by the source, wrong fields by the topology's serde.
    const atSource =
      (byKind['not-json'] ?? 0) + (byKind['not-utf8'] ?? 0) + (byKind['not-object'] ?? 0);
    const atTopology = (byKind['missing-field'] ?? 0) + (byKind['wrong-type'] ?? 0);
    const sourceDead = await readTopic(sourceDlq, (rs) => rs.length >= atSource, 60_000);
    assert.equal(sourceDead.length, atSource);
    const appDead = await readTopic(`${appId}-dlq`, (rs) => rs.length >= atTopology, 60_000);
    assert.ok(appDead.every((d) => d.headers[deadLetterHeaders.code]?.startsWith('SERDE_')));
    assert.ok(
      appDead.every((d) => (d.headers[deadLetterHeaders.message] ?? '').length > 0),
      'each with its reason',
    );
    const spikes = byKind['spike'] ?? 0;
    const flagged = await readTopic(flaggedTopic, (rs) => rs.length >= spikes, 60_000);
    t.diagnostic(
      `${sent} messages (${JSON.stringify(byKind)}); ${hourly.length} hourly rows, ${predictions.length} predictions; dead letters: ${sourceDead.length} at the source, ${appDead.length} in the topology; ${flagged.length} flagged`,
    );
    for (const p of processes) p.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(processes.map((p) => p.exited)), [0, 0, 0]);
  });
});
