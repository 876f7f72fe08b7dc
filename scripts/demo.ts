// `npm run demo`: the weather pipeline end to end on this machine, against the real servers,
// checked against what its input implies.
//
//   (1) bring the local stack up (what is not running already);
//   (2) create the observations topic and register the weather schemas;
//   (3) start a local Open-Meteo style replay server and backfill days -14..-8 of 25 locations
//       from it through the HTTP source (hourly rows), then generate days -7..-1 of 20 of them
//       with the generator (every 15 minutes; a few records garbage and a few observations held
//       back on purpose, which the generator reports);
//   (4) read the observations topic back and compute what it implies (scripts/verify): every
//       (location, hour) and (location, day) with an observation, its count, and the dead
//       letters (the garbage, and the held-back observations past their window's grace by their
//       location's own time);
//   (5) run topologies/weather.ts on 2 workers (`tributary run`, separate processes) with
//       WEATHER_IDLE_TIMEOUT_MS=10000: each location's last windows close 10 s after its last
//       observation (nothing later would pass them), so every expected row gets written; the
//       rows go to a keyspace of this run's own, so earlier runs' rows cannot stand in for them;
//   (6) wait until the expected rows are there and the workers have committed their input, or
//       the input is consumed and nothing changed for the idle timeout plus 20 s, or 240 s;
//       a worker that exits ends the demo;
//   (7) read the rows and the dead-letter topic back, print expected vs written per table and
//       the dead letters by code and reason, and a few rows;
//   (8) stop the workers (SIGTERM), the replay server and the stack services this demo started;
//       drop the run's keyspace. Exit 1, naming what is missing or wrong, when any expected row
//       is missing or wrong, or a dead letter nobody made on purpose appears.
//
// `npm run demo -- --keep` leaves the stack running and keeps the keyspace (to look at
// Prometheus and the tables afterwards).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stackEndpoints } from '../infra/stack/config.ts';
import { serviceContext, up } from '../infra/stack/stack.ts';
import { backfillWeather, createLogger, loadSettings, parseLocations } from '../src/app/index.ts';
import { CassandraClient } from '../src/connectors/cassandra/index.ts';
import { createKafkaClient } from '../src/kafka/index.ts';
import { deadLetterHeaders } from '../src/runtime/index.ts';
import { allRows, rowCount, windowRowOf } from './demo-kit/cassandra-rows.ts';
import { dropKeyspace, runDemo, stopStarted } from './demo-kit/finish.ts';
import { metricsAddress, startTributary, stopAll, workerStarted } from './demo-kit/processes.ts';
import type { TributaryProcess } from './demo-kit/processes.ts';
import { readWholeTopic } from './demo-kit/read-topic.ts';
import { groupConsumed, waitForOutput } from './demo-kit/wait-for-output.ts';
import { readObservations } from './demo-kit/weather-input.ts';
import { compareDeadLetters, compareRows, problems } from './verify/compare.ts';
import type { TableComparison } from './verify/compare.ts';
import { countLines, deadLetterLines, tableLines } from './verify/report.ts';
import { positionOf, weatherExpectations } from './verify/weather-expectations.ts';
import { produceWeather, weatherLocations } from '../tools/generators/index.ts';
import { startReplayServer } from '../tools/open-meteo-replay/index.ts';

const keep = process.argv.includes('--keep');
const say = (line: string): void => void process.stdout.write(`demo: ${line}\n`);
const endpoints = stackEndpoints();
const dayMs = 86_400_000;
const idleTimeoutMs = 10_000;
const partitions = 6;

const runId = Date.now().toString(36);
const appId = `weather-demo-${runId}`;
const topic = `${appId}-observations`;
const keyspace = `weather_demo_${runId}`;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-demo-'));
const env = {
  TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(','),
  TRIBUTARY_REGISTRY_URL: endpoints.registryUrl,
  TRIBUTARY_CASSANDRA_CONTACT_POINTS: endpoints.cassandraContactPoint,
  TRIBUTARY_CASSANDRA_LOCAL_DC: endpoints.cassandraDataCenter,
  TRIBUTARY_APP_ID: appId,
  TRIBUTARY_METRICS_PORT: '0',
  TRIBUTARY_LOG_LEVEL: 'warn',
  WEATHER_OBSERVATIONS_TOPIC: topic,
  WEATHER_HOURLY_TOPIC: `${appId}-hourly`,
  WEATHER_DAILY_TOPIC: `${appId}-daily`,
  WEATHER_KEYSPACE: keyspace,
  WEATHER_IDLE_TIMEOUT_MS: String(idleTimeoutMs),
};
const settings = loadSettings({ ...process.env, ...env });
const kafka = createKafkaClient({ brokers: endpoints.kafkaBrokers, clientId: 'demo' });

const ctx = serviceContext();
let started: string[] = [];
const workers: TributaryProcess[] = [];
let replay: Awaited<ReturnType<typeof startReplayServer>> | undefined;
let cassandra: CassandraClient | undefined;
let keyspaceCreated = false;
const admin = kafka.topicAdmin();

const weatherColumns = [
  'temperature_min',
  'temperature_max',
  'temperature_mean',
  'humidity_mean',
  'precipitation_total',
  'wind_speed_max',
] as const;

const windowRow = windowRowOf('location', weatherColumns);

/** Returns the problems found (none: the demo passed). */
async function main(): Promise<string[]> {
  // (1)
  say('starting the local stack (the first run downloads the servers)');
  const result = await up(ctx, (line) => say(line));
  started = result.started;

  // (2)
  await admin.connect();
  // Observations of two weeks ago: no time retention, or the broker deletes them before they are read.
  await admin.createTopics([{ topic, partitions, config: { 'retention.ms': '-1' } }]);
  say(`topic ${topic} created (${partitions} partitions)`);

  // (3)
  const today = Math.floor(Date.now() / dayMs) * dayMs;
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  replay = await startReplayServer();
  say(`Open-Meteo style replay server at ${replay.url}`);
  const locations = [
    ...parseLocations(
      'berlin=52.52,13.41;oslo=59.91,10.75;lisbon=38.72,-9.14;vienna=48.21,16.37;madrid=40.42,-3.70',
    ),
    ...weatherLocations(20),
  ];
  const backfill = await backfillWeather(settings, {
    baseUrl: replay.url,
    locations,
    topic,
    progressFile: join(workDir, 'backfill-progress.json'),
    from: day(today - 14 * dayMs),
    to: day(today - 8 * dayMs),
    logger: createLogger({ app: 'demo', worker: 'http-source', level: 'warn' }),
    progressOutput: false,
  });
  say(
    `HTTP source: backfilled ${backfill.records} hourly observations of ${locations.length} locations (days -14..-8) in ${backfill.completed} chunks`,
  );
  const outOfOrder = new Set<string>();
  const generated = await produceWeather(settings, {
    topic,
    locations: 20,
    startMs: today - 7 * dayMs,
    days: 7,
    intervalMs: 15 * 60_000,
    outOfOrder: 0.02,
    malformed: 0.001,
    seed: 1,
    rate: 0,
    partitions,
    onRecord: (r) => {
      if ('observation' in r && r.outOfOrder === true) outOfOrder.add(`${r.key}@${r.timestamp}`);
    },
  });
  say(
    `generator: ${generated.sent} records of 20 locations every 15 minutes, days -7..-1: ${generated.observations} observations (${generated.outOfOrder} held back on purpose) and ${generated.malformed} garbage records`,
  );

  // (4)
  const input = await readObservations(kafka, settings, topic);
  const expected = weatherExpectations(
    input,
    { malformed: generated.malformed, outOfOrder },
    backfill.records + generated.sent,
    partitions,
  );
  say(
    `expected from the ${input.length} records read back: ${expected.tables.map((t) => `${t.rows.length} ${t.table} rows (${t.late} observations past the grace)`).join(', ')}; ${expected.deadLetters.length} dead letters (${expected.undecodable} garbage, the rest late)`,
  );

  // (5)
  for (const id of ['demo-1', 'demo-2'])
    workers.push(
      startTributary(
        `worker ${id}`,
        ['run', 'topologies/weather.ts'],
        {
          ...env,
          TRIBUTARY_LOG_LEVEL: 'info',
          TRIBUTARY_WORKER_ID: id,
          TRIBUTARY_STATE_DIR: join(workDir, id),
        },
        workerStarted,
      ),
    );
  keyspaceCreated = true;
  const addresses = (await Promise.all(workers.map((w) => w.ready))).map(metricsAddress);
  say(`2 workers running topologies/weather.ts; metrics at ${addresses.join(' and ')}`);
  const targets = join(endpoints.prometheusTargetsDir, `${appId}.json`);
  writeFileSync(
    targets,
    JSON.stringify([{ targets: addresses.map((a) => new URL(a).host), labels: { demo: appId } }]),
  );
  say(
    `Prometheus scrapes them: ${endpoints.prometheusUrl}/graph?g0.expr=${encodeURIComponent(`sum by (operator) (rate(tributary_records_in_total{app="${appId}"}[1m]))`)}`,
  );

  // (6)
  cassandra = new CassandraClient(settings.cassandra);
  await cassandra.acquire();
  const client = cassandra;
  const readTables = async (): Promise<TableComparison[]> =>
    Promise.all(
      expected.tables.map(async (t) =>
        compareRows(
          t.table,
          t.rows,
          (await allRows(client, `SELECT * FROM ${keyspace}.${t.table}`)).map(windowRow),
        ),
      ),
    );
  const outcome = await waitForOutput({
    progress: async () =>
      (
        await Promise.all(
          expected.tables.map(async (t) => rowCount(client, `${keyspace}.${t.table}`)),
        )
      ).join('/'),
    complete: async (counts) => {
      const n = counts.split('/').map(Number);
      if (expected.tables.some((t, i) => (n[i] ?? 0) < t.rows.length)) return false;
      return (await readTables()).every((t) => t.missing.length === 0);
    },
    consumed: () => groupConsumed(admin, appId, topic),
    settleMs: idleTimeoutMs + 20_000,
    timeoutMs: 240_000,
    processes: workers,
  });
  const how = {
    complete: 'every expected row is there',
    settled: `the input is consumed and nothing changed for ${(idleTimeoutMs + 20_000) / 1000} s`,
    timeout: 'gave up waiting',
  };
  say(`${how[outcome.how]} after ${outcome.seconds.toFixed(0)} s (rows: ${outcome.progress})`);

  // (7)
  const tables = await readTables();
  const letters = (await readWholeTopic(kafka, `${appId}-dlq`)).map((r) => ({
    match: positionOf({
      partition: Number(r.headers[deadLetterHeaders.partition]),
      offset: r.headers[deadLetterHeaders.offset] ?? '?',
    }),
    code: r.headers[deadLetterHeaders.code] ?? '(none)',
    reason: r.headers[deadLetterHeaders.reason] ?? '(none)',
    operator: r.headers[deadLetterHeaders.operator] ?? '',
  }));
  const deadLetters = compareDeadLetters(`${appId}-dlq`, expected.deadLetters, letters);
  say('the input, against what the sources reported:');
  for (const line of countLines(expected.counts)) process.stdout.write(`${line}\n`);
  say(`expected vs written (keyspace ${keyspace}):`);
  for (const line of tableLines(tables)) process.stdout.write(`  ${line}\n`);
  say('dead letters by code and reason:');
  for (const line of deadLetterLines(deadLetters)) process.stdout.write(`  ${line}\n`);

  const print = async (table: string, location: string, limit: number): Promise<void> => {
    const rows = await client.execute(
      `SELECT location, window_start, count, temperature_min, temperature_max, temperature_mean, humidity_mean, precipitation_total, wind_speed_max FROM ${keyspace}.${table} WHERE location = ? LIMIT ${limit}`,
      [location],
    );
    say(`${keyspace}.${table}, ${location}:`);
    for (const row of rows.rows) {
      const f = (v: unknown): string => (typeof v === 'number' ? v.toFixed(2) : String(v));
      process.stdout.write(
        `  ${(row.get('window_start') as Date).toISOString()}  n=${row.get('count')}  t=${f(row.get('temperature_min'))}..${f(row.get('temperature_max'))} (mean ${f(row.get('temperature_mean'))})  rh=${f(row.get('humidity_mean'))}%  rain=${f(row.get('precipitation_total'))} mm  wind<=${f(row.get('wind_speed_max'))} km/h\n`,
      );
    }
  };
  await print('weather_hourly', 'berlin', 5).catch(() => undefined);
  await print('weather_daily', 'berlin', 3).catch(() => undefined);
  await print('weather_daily', 'loc-007', 3).catch(() => undefined);
  rmSync(targets, { force: true });
  return problems(tables, [deadLetters], expected.counts);
}

// (8)
async function cleanUp(): Promise<void> {
  const codes = await stopAll(workers);
  if (workers.length > 0) say(`workers stopped (exit codes ${codes.join(', ')})`);
  await replay?.close();
  await admin.disconnect();
  await dropKeyspace(settings, cassandra, keyspace, keyspaceCreated && !keep);
  if (keyspaceCreated && keep) say(`the rows stay in keyspace ${keyspace} (--keep)`);
  rmSync(workDir, { recursive: true, force: true });
  await stopStarted(ctx, started, keep, say);
}

await runDemo(
  main,
  cleanUp,
  'done: every row the input implies is written and equal, and no dead letter is unexpected',
  say,
);
