// The weather pipeline end to end against the real Kafka, schema registry and Cassandra:
// `npm run produce -- weather` (tools/cli.ts) writes Avro observations, two `tributary run topologies/weather.ts`
// workers aggregate them, and the Cassandra tables must equal an oracle computed from the input.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import cassandra from 'cassandra-driver';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { down, serviceContext } from '../../infra/stack/stack.ts';
import { weatherOracle } from '../../scripts/verify/weather-oracle.ts';
import type { ExpectedRow, WeatherOracle } from '../../scripts/verify/weather-oracle.ts';
import { httpGet, repoRoot, runTool, startCli, waitReady } from './cli.ts';
import type { CliProcess } from './cli.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { createTopics, readTopic } from './topics.ts';
import { weatherLocations, weatherObservations } from '../../tools/generators/index.ts';
import type { WeatherRecord } from '../../tools/generators/index.ts';

/**
 * Starts what of the stack is down (Cassandra here) in a child process: the readiness probe's
 * driver client can keep a socket open after a failed attempt, which would keep this test file's
 * process alive after its tests; the stack command exits when it is done.
 */
function stackUp(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'infra/stack/cli.ts', 'up'],
      { cwd: repoRoot, timeout: 240_000 },
      (error, _stdout, stderr) =>
        error === null ? resolve() : reject(new Error(`stack up failed: ${stderr}`)),
    );
  });
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
const partitions = 6;

interface Run {
  appId: string;
  input: string;
  keyspace: string;
  env: Record<string, string>;
  records: WeatherRecord[];
  hourly: WeatherOracle;
  daily: WeatherOracle;
}

/**
 * Generates the run's data with the same options the CLI gets, and its oracles. `order:
 * 'location'` publishes location after location, as a backfill from an archive is read; the
 * topology then runs with an idle timeout, so every location's last windows close too.
 */
function plan(
  prefix: string,
  locations: number,
  days: number,
  order: 'time' | 'location' = 'time',
): Run & { produceArgs: string[] } {
  const appId = uniqueName(prefix);
  const input = `${appId}-observations`;
  const keyspace = appId.replaceAll('-', '_');
  const startMs = Date.UTC(2026, 8, 1);
  const options = { outOfOrder: 0.02, malformed: 0.001, seed: 11, intervalMinutes: 15 };
  const records = [
    ...weatherObservations({
      locations: weatherLocations(locations),
      startMs,
      days,
      intervalMs: options.intervalMinutes * 60_000,
      outOfOrder: options.outOfOrder,
      maxDelayMs: 45 * 60_000,
      malformed: options.malformed,
      seed: options.seed,
      order,
    }),
  ];
  const idleClosesAll = order === 'location';
  const produceArgs = [
    'produce',
    'weather',
    '--topic',
    input,
    '--locations',
    String(locations),
    '--days',
    String(days),
    '--start',
    new Date(startMs).toISOString(),
    '--interval-minutes',
    String(options.intervalMinutes),
    '--out-of-order',
    String(options.outOfOrder),
    '--malformed',
    String(options.malformed),
    '--seed',
    String(options.seed),
    '--order',
    order,
  ];
  return {
    appId,
    input,
    keyspace,
    records,
    produceArgs,
    hourly: weatherOracle(records, partitions, hourMs, 30 * 60_000, { idleClosesAll }),
    daily: weatherOracle(records, partitions, dayMs, 2 * hourMs, { idleClosesAll }),
    env: {
      TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(','),
      TRIBUTARY_REGISTRY_URL: endpoints.registryUrl,
      TRIBUTARY_CASSANDRA_CONTACT_POINTS: endpoints.cassandraContactPoint,
      TRIBUTARY_CASSANDRA_LOCAL_DC: endpoints.cassandraDataCenter,
      TRIBUTARY_APP_ID: appId,
      TRIBUTARY_METRICS_PORT: '0',
      TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
      TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '20000',
      WEATHER_OBSERVATIONS_TOPIC: input,
      WEATHER_HOURLY_TOPIC: `${appId}-hourly`,
      WEATHER_DAILY_TOPIC: `${appId}-daily`,
      WEATHER_KEYSPACE: keyspace,
      ...(idleClosesAll
        ? { WEATHER_IDLE_TIMEOUT_MS: '5000', TRIBUTARY_GUARANTEE: 'exactly_once' }
        : {}),
    },
  };
}

/**
 * One short-lived driver client per statement: a client kept across the Cassandra restart
 * reconnects in the background and can hold a socket past shutdown(), which keeps this test
 * file's process from exiting.
 */
const cql = {
  async execute(
    query: string,
    params: unknown[] = [],
    options: cassandra.QueryOptions = {},
  ): Promise<cassandra.types.ResultSet> {
    const client = new cassandra.Client({
      contactPoints: [endpoints.cassandraContactPoint],
      localDataCenter: endpoints.cassandraDataCenter,
    });
    try {
      await client.connect();
      return await client.execute(query, params, options);
    } finally {
      await client.shutdown();
    }
  },
};

async function tableRows(keyspace: string, table: string): Promise<Map<string, ExpectedRow>> {
  const rows = new Map<string, ExpectedRow>();
  const result = await cql.execute(`SELECT * FROM ${keyspace}.${table}`, [], {
    fetchSize: 100_000,
  });
  for (const row of result.rows) {
    const start = (row.get('window_start') as Date).getTime();
    const location = row.get('location') as string;
    rows.set(`${location}@${start}`, {
      location,
      window_start: start,
      count: row.get('count') as number,
      temperature_min: row.get('temperature_min') as number | null,
      temperature_max: row.get('temperature_max') as number | null,
      temperature_mean: row.get('temperature_mean') as number | null,
      humidity_mean: row.get('humidity_mean') as number | null,
      precipitation_total: row.get('precipitation_total') as number | null,
      wind_speed_max: row.get('wind_speed_max') as number | null,
    });
  }
  return rows;
}

async function rowCount(keyspace: string, table: string): Promise<number> {
  try {
    return (await tableRows(keyspace, table)).size;
  } catch {
    return 0;
  }
}

function assertRowsEqual(
  actual: Map<string, ExpectedRow>,
  expected: Map<string, ExpectedRow>,
  table: string,
): void {
  assert.equal(
    actual.size,
    expected.size,
    `${table}: ${actual.size} rows, expected ${expected.size}`,
  );
  for (const [id, want] of expected) {
    const got: ExpectedRow | undefined = actual.get(id);
    assert.ok(got !== undefined, `${table}: no row ${id}`);
    for (const key of Object.keys(want) as (keyof ExpectedRow)[]) {
      const w: unknown = want[key];
      const g: unknown = got[key];
      if (typeof w === 'number' && typeof g === 'number')
        assert.ok(
          Math.abs(w - g) <= 1e-9 * Math.max(1, Math.abs(w)),
          `${table} ${id} ${key}: ${g} != ${w}`,
        );
      else assert.equal(g, w, `${table} ${id} ${key}`);
    }
  }
}

async function waitForRows(run: Run, timeoutMs: number): Promise<void> {
  await eventually(
    `Cassandra to hold ${run.hourly.rows.size} hourly and ${run.daily.rows.size} daily rows`,
    async () =>
      (await rowCount(run.keyspace, 'weather_hourly')) >= run.hourly.rows.size &&
      (await rowCount(run.keyspace, 'weather_daily')) >= run.daily.rows.size
        ? true
        : undefined,
    timeoutMs,
    1000,
  );
  // Nothing more arrives after that.
  await sleep(3000);
}

function startWorker(run: Run, id: string, stateDir: string): CliProcess {
  return startCli(['run', 'topologies/weather.ts'], {
    ...run.env,
    TRIBUTARY_WORKER_ID: id,
    TRIBUTARY_STATE_DIR: stateDir,
  });
}

describe('weather pipeline end to end (real Kafka, schema registry and Cassandra)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('30 days x 20 locations: Cassandra equals the oracle, through a worker killed and restarted mid-run', async (t) => {
    const run = plan('it-weather', 20, 30);
    await createTopics([{ topic: run.input, partitions }]);
    const stateDirs = [
      mkdtempSync(join(tmpdir(), 'weather-a-')),
      mkdtempSync(join(tmpdir(), 'weather-b-')),
    ];
    cleanups.push(() => {
      for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    });
    cleanups.push(async () => {
      await cql.execute(`DROP KEYSPACE IF EXISTS ${run.keyspace}`).catch(() => undefined);
    });
    const produced = await runTool(run.produceArgs, run.env, 120_000);
    assert.equal(produced.code, 0, produced.stderr);
    assert.equal(produced.stdout, `produced ${run.records.length} records to ${run.input}\n`);

    const workers = [
      startWorker(run, 'wa', stateDirs[0] as string),
      startWorker(run, 'wb', stateDirs[1] as string),
    ];
    cleanups.push(() => {
      for (const w of workers) w.child.kill('SIGKILL');
    });
    // Mid-run: once some hourly rows are in, kill -9 one worker and start it again.
    await eventually(
      'the first hourly rows',
      async () => ((await rowCount(run.keyspace, 'weather_hourly')) > 500 ? true : undefined),
      120_000,
      500,
    );
    const victim = workers[0] as CliProcess;
    victim.child.kill('SIGKILL');
    await victim.exited;
    workers[0] = startWorker(run, 'wa', stateDirs[0] as string);

    await waitForRows(run, 240_000);
    const hourly = await tableRows(run.keyspace, 'weather_hourly');
    const daily = await tableRows(run.keyspace, 'weather_daily');
    assertRowsEqual(hourly, run.hourly.rows, 'weather_hourly');
    assertRowsEqual(daily, run.daily.rows, 'weather_daily');

    // The bad records are in the dead-letter topic with their reason.
    const malformed = run.records.filter((r) => 'malformed' in r).length;
    const dead = await readTopic(
      `${run.appId}-dlq`,
      (rs) => rs.length >= malformed + run.hourly.late,
      60_000,
    );
    const codes = new Set(dead.map((d) => d.headers[deadLetterHeaders.code]));
    assert.ok(
      codes.has('SERDE_UNKNOWN_SCHEMA') || codes.has('SERDE_DESERIALIZE_FAILED'),
      [...codes].join(', '),
    );
    t.diagnostic(
      `${run.records.length} records (${malformed} malformed), ${hourly.size} hourly and ${daily.size} daily rows, ${run.hourly.late} late for hours, ${dead.length} dead letters`,
    );

    for (const w of workers) w.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
  });

  it('an entity-ordered backfill (location after location) of 12 locations x 10 days into 6 partitions, exactly-once: every hourly and daily row its input implies', async (t) => {
    const run = plan('it-weather-entity', 12, 10, 'location');
    await createTopics([{ topic: run.input, partitions }]);
    const stateDirs = [
      mkdtempSync(join(tmpdir(), 'weather-ea-')),
      mkdtempSync(join(tmpdir(), 'weather-eb-')),
    ];
    cleanups.push(() => {
      for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    });
    cleanups.push(async () => {
      await cql.execute(`DROP KEYSPACE IF EXISTS ${run.keyspace}`).catch(() => undefined);
    });
    // Each location in its own time order, but a partition's stream time runs days ahead of
    // every location after its first: per-partition time would drop most of them as late.
    const perPartition = weatherOracle(run.records, partitions, hourMs, 30 * 60_000, {
      time: 'partition',
      idleClosesAll: true,
    });
    assert.ok(perPartition.late > run.records.length / 3, `${perPartition.late} late by partition`);
    const produced = await runTool(run.produceArgs, run.env, 120_000);
    assert.equal(produced.code, 0, produced.stderr);
    const workers = [
      startWorker(run, 'ea', stateDirs[0] as string),
      startWorker(run, 'eb', stateDirs[1] as string),
    ];
    cleanups.push(() => {
      for (const w of workers) w.child.kill('SIGKILL');
    });
    await waitForRows(run, 240_000);
    const hourly = await tableRows(run.keyspace, 'weather_hourly');
    const daily = await tableRows(run.keyspace, 'weather_daily');
    assertRowsEqual(hourly, run.hourly.rows, 'weather_hourly');
    assertRowsEqual(daily, run.daily.rows, 'weather_daily');
    assert.equal(run.hourly.rows.size, 12 * 10 * 24);
    assert.equal(run.daily.rows.size, 12 * 10);
    // Dead letters: the malformed records and the records late by their own location's time.
    const malformed = run.records.filter((r) => 'malformed' in r).length;
    const expectedDead = malformed + run.hourly.late + run.daily.late;
    const dead = await readTopic(`${run.appId}-dlq`, (rs) => rs.length >= expectedDead, 60_000);
    await sleep(2000);
    const all = await readTopic(`${run.appId}-dlq`, (rs) => rs.length >= expectedDead, 10_000);
    assert.equal(all.length, expectedDead, 'dead letters: malformed + late by key time only');
    t.diagnostic(
      `${run.records.length} records location by location: ${hourly.size} hourly and ${daily.size} daily rows; ${dead.length} dead letters (${malformed} malformed, ${run.hourly.late + run.daily.late} late by key time); by partition time ${perPartition.late} would have been late for hours`,
    );
    for (const w of workers) w.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
  });

  it('Cassandra stopped for 30 s mid-run: the pipeline waits, counts the errors, and loses no row', async (t) => {
    const run = plan('it-weather-outage', 8, 20);
    await createTopics([{ topic: run.input, partitions }]);
    const stateDir = mkdtempSync(join(tmpdir(), 'weather-o-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    cleanups.push(async () => {
      await cql.execute(`DROP KEYSPACE IF EXISTS ${run.keyspace}`).catch(() => undefined);
    });
    const worker = startWorker(run, 'wo', stateDir);
    cleanups.push(() => void worker.child.kill('SIGKILL'));
    const port = await eventually(
      'the worker to log its metrics address',
      async () => {
        const started = worker.log.find((l) => l['msg'] === 'worker started');
        return (started?.['metrics'] as { port: number } | undefined)?.port;
      },
      120_000,
    );
    await waitReady(port);

    // Cassandra goes down before the observations arrive: every sink write fails.
    const ctx = serviceContext();
    await down(ctx, ['cassandra']);
    let restarted = false;
    cleanups.push(async () => {
      if (!restarted) await stackUp();
    });
    const produced = await runTool(run.produceArgs, run.env, 120_000);
    assert.equal(produced.code, 0, produced.stderr);
    await sleep(30_000);
    const metrics = (await httpGet(`http://127.0.0.1:${port}/metrics`)).body;
    const errors = [
      ...metrics.matchAll(
        /^tributary_sink_write_errors_total\{[^}]*sink="cassandra:[^"]+"[^}]*\} (\d+)/gm,
      ),
    ].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(errors > 0, 'the sink error counter shows the outage');
    assert.equal(
      (await httpGet(`http://127.0.0.1:${port}/healthz`)).status,
      200,
      'the worker is alive',
    );
    const lag = [...metrics.matchAll(/^tributary_consumer_lag\{[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );

    await stackUp();
    restarted = true;
    await waitForRows(run, 240_000);
    assertRowsEqual(
      await tableRows(run.keyspace, 'weather_hourly'),
      run.hourly.rows,
      'weather_hourly',
    );
    assertRowsEqual(
      await tableRows(run.keyspace, 'weather_daily'),
      run.daily.rows,
      'weather_daily',
    );
    t.diagnostic(`outage: ${errors} failed sink writes, consumer lag ${lag} during it`);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });
});
