// The sensor pipeline end to end against the real Mosquitto, Kafka and Cassandra: simulated
// sensors publish 2 h 10 min of readings over MQTT, `tributary source sensors` bridges them into
// Kafka, two `tributary run topologies/sensors.ts` workers clean, aggregate and score them, and
// the Cassandra tables must equal an oracle computed from the messages (the predictions: the
// model evaluated offline on the oracle's aggregates). The readings are joined with the sensors'
// metadata (a compacted topic): the first 70 minutes go through with the initial calibration,
// then every third sensor is recalibrated, and once the workers have processed that, the rest:
// the oracle calibrates each reading as the metadata stood when it was published, and each
// hourly row carries its sensor's location.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import cassandra from 'cassandra-driver';

import { loadModel } from '../../src/operators/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { sensorOracle } from '../../scripts/verify/sensor-oracle.ts';
import { startCli } from './cli.ts';
import type { CliProcess } from './cli.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { createTopics, kafka, produceJson, readTopic } from './topics.ts';
import {
  calibratedCelsius,
  recalibrated,
  sensorMessages,
  sensorMetadata,
  simulateSensors,
} from '../../tools/mqtt-sensors/index.ts';
import type { SensorMetadata, SimulatedMessage } from '../../tools/mqtt-sensors/index.ts';

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
    const sourceDlq = `${appId}-source-dlq`;
    const keyspace = prefix;
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
      SENSORS_FLAGGED_TOPIC: `${appId}-flagged`,
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

    const start = Date.UTC(2026, 8, 10);
    const phase = (from: number, minutes: number) => ({
      sensors: 100,
      seed: 5,
      topicPrefix: prefix,
      history: { start: start + from * 60_000, intervalMs: 60_000 },
      durationSeconds: minutes * 60,
    });
    const phases = [phase(0, 70), phase(70, 60)];
    const byKind: Record<string, number> = {};
    let sent = 0;
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    /** Until the group has committed every record of a topic: all of it is processed. */
    const processed = async (topic: string, records?: number): Promise<void> => {
      await eventually(
        `the workers to process all of ${topic}`,
        async () => {
          const ends = await admin.fetchTopicOffsets(topic);
          const total = ends.reduce((sum, p) => sum + Number(p.high), 0);
          if (records !== undefined && total < records) return undefined;
          const [committed] = await admin.fetchOffsets({ groupId: appId, topics: [topic] });
          const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]));
          return ends.every((p) => Number(p.high) === 0 || at.get(p.partition) === Number(p.high))
            ? true
            : undefined;
        },
        180_000,
        500,
      );
    };
    const calibrated: SimulatedMessage['reading'][] = [];
    let metadata = new Map<string, SensorMetadata>(initial.map((m) => [m.sensorId, m]));
    for (const [i, options] of phases.entries()) {
      if (i === 1) {
        // Every third sensor recalibrated, processed before the next readings are published.
        const changes = recalibrated(initial);
        await produceJson(
          metadataTopic,
          changes.map((m) => ({ key: m.sensorId, value: m })),
        );
        for (const m of changes) metadata = new Map(metadata).set(m.sensorId, m);
        await processed(metadataTopic);
      }
      const report = await simulateSensors({ url: endpoints.mqttUrl, ...options });
      assert.equal(report.unacknowledged, 0, 'the broker acknowledged every message');
      const messages = [...sensorMessages(options)];
      assert.equal(report.sent, messages.length);
      sent += report.sent;
      for (const [kind, n] of Object.entries(report.byKind as Record<string, number>))
        byKind[kind] = (byKind[kind] ?? 0) + n;
      for (const m of messages) {
        if (m.reading === undefined) continue;
        const meta = metadata.get(m.reading.sensorId);
        assert.ok(meta !== undefined);
        calibrated.push({
          ...m.reading,
          temperature: calibratedCelsius(m.reading.temperature, meta),
        });
      }
      // What the bridge forwards: all but what it rejects (not JSON, not UTF-8, not an object).
      const rejected =
        (byKind['not-json'] ?? 0) + (byKind['not-utf8'] ?? 0) + (byKind['not-object'] ?? 0);
      if (i === 0) await processed(readingsTopic, sent - rejected);
    }
    const readings = calibrated.flatMap((r) => (r === undefined ? [] : [r]));
    const expected = sensorOracle(readings).rows;
    assert.equal(expected.size, 200, '100 sensors x 2 closed hours');

    // On a timeout below, what the workers said that was not routine.
    t.after(() => {
      for (const p of processes)
        for (const l of p.log
          .filter((l) => Number(l['level']) >= 40 && l['code'] !== 'SERDE_VALIDATION_FAILED')
          .slice(-5))
          t.diagnostic(JSON.stringify(l).slice(0, 500));
    });
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
    ).catch(async (error: unknown) => {
      const have = new Set(
        (await rowsOf('sensor_hourly')).map(
          (row) =>
            `${row.get('sensor_id') as string}@${(row.get('window_start') as Date).getTime()}`,
        ),
      );
      t.diagnostic(`missing: ${[...expected.keys()].filter((k) => !have.has(k)).join(' ')}`);
      const flags = new Map<string, number>();
      const total = (await admin.fetchTopicOffsets(`${appId}-flagged`)).reduce(
        (n, p) => n + Number(p.high),
        0,
      );
      for (const r of await readTopic(`${appId}-flagged`, (rs) => rs.length >= total, 30_000)) {
        const flag =
          String((JSON.parse(r.value?.toString() ?? '{}') as { flag?: string }).flag).split(
            ' ',
          )[0] ?? '';
        flags.set(flag, (flags.get(flag) ?? 0) + 1);
      }
      t.diagnostic(`flags: ${JSON.stringify([...flags])}`);
      const codes = new Map<string, number>();
      const dlqTotal = (await admin.fetchTopicOffsets(`${appId}-dlq`)).reduce(
        (n, p) => n + Number(p.high),
        0,
      );
      for (const r of await readTopic(`${appId}-dlq`, (rs) => rs.length >= dlqTotal, 30_000)) {
        const code = r.headers[deadLetterHeaders.code] ?? '';
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      t.diagnostic(`dlq: ${JSON.stringify([...codes])}`);
      for (const p of processes)
        t.diagnostic(
          p.log
            .filter((l) => l['store'] === 'sensor-metadata' || String(l['msg']).includes('wiped'))
            .map(
              (l) =>
                `${String(l['worker'])} ${String(l['task'])} ${String(l['msg'])} loaded=${String(l['loaded'])} from=${String(l['from'])} records=${String(l['records'])}`,
            )
            .join(' | ')
            .slice(0, 3000),
        );
      throw error;
    });
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
    const flagged = await readTopic(`${appId}-flagged`, (rs) => rs.length >= spikes, 60_000);
    t.diagnostic(
      `${sent} messages (${JSON.stringify(byKind)}); ${hourly.length} hourly rows, ${predictions.length} predictions; dead letters: ${sourceDead.length} at the source, ${appDead.length} in the topology; ${flagged.length} flagged`,
    );
    for (const p of processes) p.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(processes.map((p) => p.exited)), [0, 0, 0]);
  });
});
