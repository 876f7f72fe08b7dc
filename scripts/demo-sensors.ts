// `npm run demo:sensors`: the sensor pipeline end to end on this machine, against the real
// servers, checked against what the simulator published:
//
//   simulator --MQTT--> Mosquitto --> `tributary source sensors` --> Kafka
//     --> 2 x `tributary run topologies/sensors.ts` --> Cassandra, flagged and dead-letter topics
//
//   (1) bring the local stack up (what is not running already);
//   (2) create the readings topic; start the MQTT source and wait until it has subscribed (the
//       broker drops what nobody subscribed to); start two workers;
//   (3) run the simulator in historical mode: 100 sensors x 2 h 10 min of readings, one a
//       minute each, from yesterday 00:00 UTC, with bad payloads, spikes and duplicates, sent
//       as fast as the broker acknowledges them; keep every message it acknowledged;
//   (4) compute what those messages imply (scripts/verify): the hourly rows of the hours that
//       closed by each sensor's own time (the last, still open hour is not expected: the
//       topology has no idle timeout), one prediction per row, the bad payloads in the source's
//       and the application's dead-letter topics, the spikes in the flagged topic;
//   (5) wait until the expected rows are there and the workers have committed every record the
//       source forwarded, or that is so and nothing changed for 20 s, or 240 s; a process that
//       exits ends the demo;
//   (6) read the tables and topics back and print expected vs written, the dead letters by code
//       and reason, and a few rows;
//   (7) stop the processes, drop the run's keyspace (its own, `sensors_demo_<run>`), stop the
//       stack services this demo started. Exit 1, naming what is missing or wrong, when any
//       expected row, prediction, dead letter or flagged reading is missing or wrong, or one
//       nobody published appears.
//
// `npm run demo:sensors -- --keep` leaves the stack running and keeps the keyspace.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { types } from 'cassandra-driver';

import { stackEndpoints } from '../infra/stack/config.ts';
import { serviceContext, up } from '../infra/stack/stack.ts';
import { loadSettings } from '../src/app/index.ts';
import { CassandraClient } from '../src/connectors/cassandra/index.ts';
import { createKafkaClient } from '../src/kafka/index.ts';
import { deadLetterHeaders } from '../src/runtime/index.ts';
import { allRows, rowCount, windowRowOf } from './demo-kit/cassandra-rows.ts';
import { dropKeyspace, runDemo, stopStarted } from './demo-kit/finish.ts';
import { startTributary, stopAll, workerStarted } from './demo-kit/processes.ts';
import type { TributaryProcess } from './demo-kit/processes.ts';
import { readWholeTopic } from './demo-kit/read-topic.ts';
import type { TopicRecord } from './demo-kit/read-topic.ts';
import { groupConsumed, waitForOutput } from './demo-kit/wait-for-output.ts';
import { compareDeadLetters, compareRows, problems } from './verify/compare.ts';
import type { CountCheck, SeenDeadLetter, WindowRow } from './verify/compare.ts';
import { countLines, deadLetterLines, tableLines } from './verify/report.ts';
import {
  messageIdentity,
  readingIdentity,
  sensorExpectations,
} from './verify/sensor-expectations.ts';
import { sensorMetadata, simulateSensors } from '../tools/mqtt-sensors/index.ts';
import type { SimulatedMessage } from '../tools/mqtt-sensors/index.ts';

const keep = process.argv.includes('--keep');
const say = (line: string): void => void process.stdout.write(`demo: ${line}\n`);
const endpoints = stackEndpoints();
const dayMs = 86_400_000;
const partitions = 6;
const sensors = 100;
const settleMs = 20_000;

const runId = Date.now().toString(36);
const appId = `sensors-demo-${runId}`;
const prefix = `sensors_demo_${runId}`;
const readingsTopic = `${appId}-readings`;
const metadataTopic = `${appId}-metadata`;
const sourceDlq = `${appId}-source-dlq`;
const flaggedTopic = `${appId}-flagged`;
const keyspace = prefix;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-demo-sensors-'));
const env = {
  TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(','),
  TRIBUTARY_MQTT_URL: endpoints.mqttUrl,
  TRIBUTARY_CASSANDRA_CONTACT_POINTS: endpoints.cassandraContactPoint,
  TRIBUTARY_CASSANDRA_LOCAL_DC: endpoints.cassandraDataCenter,
  TRIBUTARY_APP_ID: appId,
  TRIBUTARY_METRICS_PORT: '0',
  SENSORS_READINGS_TOPIC: readingsTopic,
  SENSORS_METADATA_TOPIC: metadataTopic,
  SENSORS_FLAGGED_TOPIC: flaggedTopic,
  SENSORS_MINUTELY_TOPIC: `${appId}-minutely`,
  SENSORS_KEYSPACE: keyspace,
};
const settings = loadSettings({ ...process.env, ...env });
const kafka = createKafkaClient({ brokers: endpoints.kafkaBrokers, clientId: 'demo-sensors' });
const admin = kafka.topicAdmin();

const ctx = serviceContext();
let started: string[] = [];
const processes: TributaryProcess[] = [];
let cassandra: CassandraClient | undefined;

const hourlyColumns = [
  'temperature_mean',
  'temperature_min',
  'temperature_max',
  'humidity_mean',
  'humidity_min',
  'humidity_max',
] as const;

const hourlyRow = windowRowOf('sensor_id', hourlyColumns);

/** Predictions per (sensor, hour): one row per model version. */
function predictionRows(rows: types.Row[]): WindowRow[] {
  const byWindow = new Map<string, WindowRow>();
  for (const row of rows) {
    const key = row.get('sensor_id') as string;
    const windowStart = (row.get('window_start') as Date).getTime();
    const id = `${key}@${windowStart}`;
    const seen = byWindow.get(id) ?? { key, windowStart, count: 0, values: {} };
    seen.count++;
    byWindow.set(id, seen);
  }
  return [...byWindow.values()];
}

/** A dead letter (or a flagged reading) as the comparison sees it. */
function deadLetterOf(r: TopicRecord): SeenDeadLetter {
  return {
    match: messageIdentity(
      r.headers['tributary.source.mqtt-topic'] ?? '?',
      r.value ?? Buffer.alloc(0),
    ),
    code: r.headers[deadLetterHeaders.code] ?? '(none)',
    reason: r.headers[deadLetterHeaders.reason] ?? '(none)',
    operator: r.headers[deadLetterHeaders.operator] ?? '',
  };
}

function flaggedOf(r: TopicRecord): SeenDeadLetter {
  let match = `unreadable ${r.partition}/${r.offset}`;
  try {
    const v = JSON.parse(r.value?.toString('utf8') ?? '') as {
      sensorId: string;
      timestamp: number;
    };
    match = readingIdentity(v.sensorId, v.timestamp);
  } catch {
    // An unreadable flagged record stays unexpected under its position.
  }
  return { match, code: 'FLAGGED', reason: 'out of range', operator: 'check-range' };
}

async function recordsIn(topic: string): Promise<number> {
  let n = 0n;
  for (const end of (await admin.endOffsets(topic)).values()) n += end;
  return Number(n);
}

/** Returns the problems found (none: the demo passed). */
async function main(): Promise<string[]> {
  // (1)
  say('starting the local stack (the first run downloads the servers)');
  started = (await up(ctx, (line) => say(line))).started;

  // (2)
  await admin.connect();
  // Readings of yesterday: no time retention, or the broker deletes them before they are read.
  await admin.createTopics([
    { topic: readingsTopic, partitions, config: { 'retention.ms': '-1' } },
    // The sensors' metadata, joined as a table: compacted, co-partitioned with the readings.
    { topic: metadataTopic, partitions, config: { 'cleanup.policy': 'compact' } },
  ]);
  const metadata = sensorMetadata(sensors, 7);
  const producer = kafka.recordProducer();
  await producer.connect();
  await producer.send(
    metadata.map((m) => ({
      topic: metadataTopic,
      key: Buffer.from(m.sensorId),
      value: Buffer.from(JSON.stringify(m)),
      timestamp: Date.now(),
      headers: {},
    })),
  );
  await producer.disconnect();
  say(`${metadata.length} sensors' metadata (calibration, location) published to ${metadataTopic}`);
  const source = startTributary(
    'MQTT source',
    [
      'source',
      'sensors',
      '--filter',
      `${prefix}/+/data`,
      '--topic',
      readingsTopic,
      '--dead-letter-topic',
      sourceDlq,
      '--client-id',
      `${appId}-source`,
    ],
    env,
    (entry) => entry['msg'] === 'MQTT source started',
  );
  processes.push(source);
  await source.ready;
  for (const id of ['s1', 's2'])
    processes.push(
      startTributary(
        `worker ${id}`,
        ['run', 'topologies/sensors.ts'],
        { ...env, TRIBUTARY_WORKER_ID: id, TRIBUTARY_STATE_DIR: join(workDir, id) },
        workerStarted,
      ),
    );
  await Promise.all(processes.map((p) => p.ready));
  say(
    `MQTT source (${prefix}/+/data -> ${readingsTopic}) and 2 workers of topologies/sensors.ts running`,
  );

  // (3)
  const acknowledged: SimulatedMessage[] = [];
  let unmatched = 0;
  const start = Math.floor(Date.now() / dayMs) * dayMs - dayMs;
  const report = await simulateSensors({
    url: endpoints.mqttUrl,
    sensors,
    seed: 7,
    topicPrefix: prefix,
    history: { start, intervalMs: 60_000 },
    durationSeconds: 2 * 3600 + 10 * 60,
    onAcknowledged: (message, ack) => {
      acknowledged.push(message);
      if (!ack.matched) unmatched++;
    },
  });
  const kinds = Object.entries(report.byKind)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  say(
    `simulator: ${report.sent} messages of ${sensors} sensors in ${report.seconds.toFixed(1)} s (${kinds})`,
  );

  // (4)
  const expected = sensorExpectations(acknowledged, new Map(metadata.map((m) => [m.sensorId, m])));
  say(
    `expected: ${expected.hourly.length} hourly rows and as many predictions (${expected.oracle.open.length} hours still open, not expected), ${expected.sourceDeadLetters.length} dead letters at the source, ${expected.appDeadLetters.length} in the application, ${expected.flagged.length} flagged readings`,
  );

  // (5)
  cassandra = new CassandraClient(settings.cassandra);
  await cassandra.acquire();
  const client = cassandra;
  const hourlyTable = `${keyspace}.sensor_hourly`;
  const predictionsTable = `${keyspace}.sensor_predictions`;
  const compareHourly = async () =>
    compareRows(
      'sensor_hourly',
      expected.hourly,
      (await allRows(client, `SELECT * FROM ${hourlyTable}`)).map(hourlyRow),
    );
  const comparePredictions = async () =>
    compareRows(
      'sensor_predictions',
      expected.predictions,
      predictionRows(
        await allRows(client, `SELECT sensor_id, window_start FROM ${predictionsTable}`),
      ),
    );
  const outcome = await waitForOutput({
    progress: async () =>
      `${await rowCount(client, hourlyTable)}/${await rowCount(client, predictionsTable)}`,
    complete: async (counts) => {
      const [hourly = 0, predictions = 0] = counts.split('/').map(Number);
      if (hourly < expected.hourly.length || predictions < expected.predictions.length)
        return false;
      return (
        (await compareHourly()).missing.length === 0 &&
        (await comparePredictions()).missing.length === 0
      );
    },
    // Everything the source was to forward is in Kafka, and the workers committed it.
    consumed: async () =>
      (await recordsIn(readingsTopic)) >= expected.forwarded &&
      groupConsumed(admin, appId, readingsTopic),
    settleMs,
    timeoutMs: 240_000,
    processes,
  });
  const how = {
    complete: 'every expected row is there',
    settled: `the input is consumed and nothing changed for ${settleMs / 1000} s`,
    timeout: 'gave up waiting',
  };
  say(
    `${how[outcome.how]} after ${outcome.seconds.toFixed(0)} s (rows hourly/predictions: ${outcome.progress})`,
  );

  // (6)
  const tables = [await compareHourly(), await comparePredictions()];
  const letters = [
    compareDeadLetters(
      sourceDlq,
      expected.sourceDeadLetters,
      (await readWholeTopic(kafka, sourceDlq)).map(deadLetterOf),
    ),
    compareDeadLetters(
      `${appId}-dlq`,
      expected.appDeadLetters,
      (await readWholeTopic(kafka, `${appId}-dlq`)).map(deadLetterOf),
    ),
    compareDeadLetters(
      flaggedTopic,
      expected.flagged,
      (await readWholeTopic(kafka, flaggedTopic)).map(flaggedOf),
    ),
  ];
  const counts: CountCheck[] = [
    { what: 'messages the broker did not acknowledge', expected: 0, actual: report.unacknowledged },
    { what: 'messages acknowledged with no subscriber', expected: 0, actual: unmatched },
    {
      what: 'records the source forwarded to the readings topic',
      expected: expected.forwarded,
      actual: await recordsIn(readingsTopic),
    },
  ];
  say('the input, against what the simulator published:');
  for (const line of countLines(counts)) process.stdout.write(`${line}\n`);
  say(`expected vs written (keyspace ${keyspace}):`);
  for (const line of tableLines(tables)) process.stdout.write(`  ${line}\n`);
  say('dead letters by code and reason, and the flagged readings:');
  for (const d of letters)
    for (const line of deadLetterLines(d)) process.stdout.write(`  ${line}\n`);
  const sample = await client.execute(
    `SELECT sensor_id, window_start, count, temperature_mean, temperature_min, temperature_max, humidity_mean FROM ${hourlyTable} WHERE sensor_id = ? LIMIT 3`,
    ['sensor-000'],
  );
  say(`${hourlyTable}, sensor-000:`);
  for (const row of sample.rows)
    process.stdout.write(
      `  ${(row.get('window_start') as Date).toISOString()}  n=${row.get('count')}  t=${(row.get('temperature_min') as number).toFixed(2)}..${(row.get('temperature_max') as number).toFixed(2)} (mean ${(row.get('temperature_mean') as number).toFixed(2)})  rh=${(row.get('humidity_mean') as number).toFixed(1)}%\n`,
    );
  return problems(tables, letters, counts);
}

// (7)
async function cleanUp(): Promise<void> {
  const codes = await stopAll(processes);
  if (processes.length > 0) say(`source and workers stopped (exit codes ${codes.join(', ')})`);
  await admin.disconnect();
  await dropKeyspace(settings, cassandra, keyspace, processes.length > 1 && !keep);
  if (processes.length > 1 && keep) say(`the rows stay in keyspace ${keyspace} (--keep)`);
  rmSync(workDir, { recursive: true, force: true });
  await stopStarted(ctx, started, keep, say);
}

await runDemo(
  main,
  cleanUp,
  'done: every row the input implies is written and equal, every bad payload and spike is where it belongs, nothing else',
  say,
);
