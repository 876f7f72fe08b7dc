// `npm run demo`: the weather pipeline end to end on this machine, against the real servers.
//
//   (1) bring the local stack up (what is not running already);
//   (2) create the observations topic and register the weather schemas;
//   (3) start a local Open-Meteo style replay server and backfill days -14..-8 of 25 locations
//       from it through the HTTP source (hourly rows), then generate days -7..-1 of 20 of them
//       with the generator (every 15 minutes): event time goes forward in every partition, so
//       nothing of one source is late because of the other;
//   (4) run topologies/weather.ts on 2 workers (`tributary run`, separate processes);
//   (5) wait until the hourly and daily rows in Cassandra stop changing, print a few of them
//       and the workers' metrics addresses;
//   (6) stop the workers (SIGTERM), the replay server and the stack services this demo started.
//
// `npm run demo -- --keep` leaves the stack running (to look at Prometheus afterwards).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackEndpoints } from '../infra/stack/config.ts';
import { down, serviceContext, up } from '../infra/stack/stack.ts';
import {
  backfillWeather,
  createLogger,
  loadSettings,
  parseLocations,
  produceWeather,
  weatherLocations,
} from '../src/app/index.ts';
import { CassandraClient } from '../src/connectors/cassandra/index.ts';
import { startReplayServer } from '../src/connectors/http/index.ts';
import { createKafkaClient } from '../src/kafka/index.ts';

const keep = process.argv.includes('--keep');
const say = (line: string): void => void process.stdout.write(`demo: ${line}\n`);
const endpoints = stackEndpoints();
const dayMs = 86_400_000;
const root = new URL('..', import.meta.url).pathname;

const runId = Date.now().toString(36);
const appId = `weather-demo-${runId}`;
const topic = `${appId}-observations`;
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
  WEATHER_KEYSPACE: 'analytics',
};
const settings = loadSettings({ ...process.env, ...env });

interface Worker {
  child: ChildProcess;
  metrics: Promise<string>;
  exited: Promise<number | null>;
}

function startWorker(id: string): Worker {
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=64', join(root, 'bin/tributary.js'), 'run', 'topologies/weather.ts'],
    {
      cwd: root,
      env: {
        ...process.env,
        ...env,
        TRIBUTARY_LOG_LEVEL: 'info',
        TRIBUTARY_WORKER_ID: id,
        TRIBUTARY_STATE_DIR: join(workDir, id),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const metrics = new Promise<string>((resolve) => {
    if (child.stdout === null) return;
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as {
          msg?: string;
          level?: number;
          metrics?: { host: string; port: number };
        };
        if (entry.msg === 'worker started' && entry.metrics !== undefined)
          resolve(`http://${entry.metrics.host}:${entry.metrics.port}/metrics`);
        if ((entry.level ?? 0) >= 50) process.stderr.write(`worker ${id}: ${line}\n`);
      } catch {
        process.stderr.write(`worker ${id}: ${line}\n`);
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A worker that stops before it started (its reason is on stderr above) ends the demo.
  const failed = exited.then((code): string => {
    throw new Error(`worker ${id} exited ${code} before it started`);
  });
  return { child, metrics: Promise.race([metrics, failed]), exited };
}

const ctx = serviceContext();
let started: string[] = [];
const workers: Worker[] = [];
let replay: Awaited<ReturnType<typeof startReplayServer>> | undefined;
let cassandra: CassandraClient | undefined;

async function main(): Promise<void> {
  // (1)
  say('starting the local stack (the first run downloads the servers)');
  const result = await up(ctx, (line) => say(line));
  started = result.started;

  // (2)
  const admin = createKafkaClient({
    brokers: endpoints.kafkaBrokers,
    clientId: 'demo',
  }).topicAdmin();
  await admin.connect();
  // Observations of two weeks ago: no time retention, or the broker deletes them before they are read.
  await admin.createTopics([{ topic, partitions: 6, config: { 'retention.ms': '-1' } }]);
  await admin.disconnect();
  say(`topic ${topic} created (6 partitions)`);

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
    partitions: 6,
  });
  say(
    `generator: ${generated} observations of 20 locations every 15 minutes, days -7..-1 (a few out of order, a few malformed)`,
  );

  // (4)
  workers.push(startWorker('demo-1'), startWorker('demo-2'));
  const addresses = await Promise.all(workers.map((w) => w.metrics));
  say(`2 workers running topologies/weather.ts; metrics at ${addresses.join(' and ')}`);
  const targets = join(endpoints.prometheusTargetsDir, `${appId}.json`);
  writeFileSync(
    targets,
    JSON.stringify([{ targets: addresses.map((a) => new URL(a).host), labels: { demo: appId } }]),
  );
  say(
    `Prometheus scrapes them: ${endpoints.prometheusUrl}/graph?g0.expr=${encodeURIComponent(`sum by (operator) (rate(tributary_records_in_total{app="${appId}"}[1m]))`)}`,
  );

  // (5)
  cassandra = new CassandraClient(settings.cassandra);
  await cassandra.acquire();
  const count = async (table: string): Promise<number> => {
    try {
      const rows = await cassandra?.execute(
        `SELECT count(*) AS n FROM analytics.${table} WHERE window_start >= ? ALLOW FILTERING`,
        [new Date(today - 14 * dayMs)],
      );
      return Number(rows?.first()?.get('n') ?? 0);
    } catch {
      return 0;
    }
  };
  let last = '';
  let stableSince = Date.now();
  const deadline = Date.now() + 240_000;
  for (;;) {
    const now = `${await count('weather_hourly')}/${await count('weather_daily')}`;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
    if (!now.startsWith('0/') && Date.now() - stableSince > 8000) break;
    if (Date.now() > deadline)
      throw new Error(`no stable result after 240 s (rows hourly/daily: ${now})`);
    const stopped = workers.findIndex((w) => w.child.exitCode !== null);
    if (stopped >= 0)
      throw new Error(
        `worker demo-${stopped + 1} exited ${workers[stopped]?.child.exitCode} (rows hourly/daily so far: ${now})`,
      );
    await sleep(1000);
  }
  say(`Cassandra: ${last.replace('/', ' hourly and ')} daily rows for the last 14 days`);
  const print = async (table: string, location: string, limit: number): Promise<void> => {
    const rows = await cassandra?.execute(
      `SELECT location, window_start, count, temperature_min, temperature_max, temperature_mean, humidity_mean, precipitation_total, wind_speed_max FROM analytics.${table} WHERE location = ? LIMIT ${limit}`,
      [location],
    );
    say(`analytics.${table}, ${location}:`);
    for (const row of rows?.rows ?? []) {
      const f = (v: unknown): string => (typeof v === 'number' ? v.toFixed(2) : String(v));
      process.stdout.write(
        `  ${(row.get('window_start') as Date).toISOString()}  n=${row.get('count')}  t=${f(row.get('temperature_min'))}..${f(row.get('temperature_max'))} (mean ${f(row.get('temperature_mean'))})  rh=${f(row.get('humidity_mean'))}%  rain=${f(row.get('precipitation_total'))} mm  wind<=${f(row.get('wind_speed_max'))} km/h\n`,
      );
    }
  };
  await print('weather_hourly', 'berlin', 5);
  await print('weather_daily', 'berlin', 3);
  await print('weather_daily', 'loc-007', 3);
  rmSync(targets, { force: true });
}

async function cleanUp(): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  const codes = await Promise.all(workers.map((w) => w.exited));
  if (workers.length > 0) say(`workers stopped (exit codes ${codes.join(', ')})`);
  await replay?.close();
  await cassandra?.release();
  rmSync(workDir, { recursive: true, force: true });
  if (!keep && started.length > 0) {
    await down(ctx, started as Parameters<typeof down>[1]);
    say(`stopped what the demo started: ${started.join(', ')}`);
  } else if (started.length > 0) {
    say('the stack keeps running (--keep); npm run stack -- down stops it');
  }
}

try {
  await main();
  await cleanUp();
  say('done');
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await cleanUp().catch(() => undefined);
  process.exitCode = 1;
}
