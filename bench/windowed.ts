// Windowed aggregation benchmark. Needs the local stack (npm run stack -- up).
//
//   npm run bench:windowed [-- --records N] [--only restore] [--rounds N] [--baseline DIR]
//   (BENCH_PROFILE_DIR=DIR: a CPU profile of each measured process in DIR)
//                          [--baseline-client kafkajs|platformatic]
//
// (1) 1,000,000 pre-loaded readings of 10,000 sensors on 12 partitions, an hourly tumbling
//     summary per sensor, one worker, under at_least_once and under exactly_once with commit
//     intervals of 100 ms and 1,000 ms: records per second (assignment to the last committed
//     input offset) and peak RSS, each run in a process of its own;
// (2) the time to restore a 1,000,000-key store from its changelog into an empty directory:
//     worker start to assigned (joined, restored), as the median and spread of `--rounds`
//     rounds (default 3), with the CPU seconds of each. `--baseline DIR` runs the restore of
//     another checkout of Tributary (for example the commit before a change, made with `git
//     worktree add`) in the same rounds, interleaved, on the same changelog: a before/after
//     ratio from one run. `--baseline-client NAME` makes the baseline this checkout's worker on
//     another Kafka client library (the measured side uses TRIBUTARY_KAFKA_CLIENT, default
//     @platformatic/kafka).
// Writes bench/results/windowed.json; with `--only restore`, only (2), to
// bench/results/<date>-restore.json; `--out FILE` writes FILE instead (a second run of the day
// would overwrite the first's file).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackEndpoints } from '../infra/stack/config.ts';
import { startWorker } from '../src/app/index.ts';
import { silentLogger } from '../src/core/index.ts';
import { createKafkaClient, defaultKafkaLibrary, kafkaLibraries } from '../src/kafka/index.ts';
import { json, string } from '../src/serde/index.ts';
import { hours, minutes, summary, topology, tumbling } from '../src/topology/index.ts';
import type { Windowed } from '../src/topology/index.ts';
import type { Summary } from '../src/topology/index.ts';
import { spread } from './compare/stats.ts';
import { committedTotal, machine, preloadWithKcat } from './kafka-load.ts';

interface Reading {
  sensor: string;
  time: number;
  celsius: number;
}

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const total = Number(arg('records', '1000000'));
const partitions = 12;
const sensors = 10_000;
const { kafkaBrokers } = stackEndpoints();
const client = createKafkaClient({ brokers: kafkaBrokers, clientId: 'tributary-bench' });
const start = Date.UTC(2026, 10, 1);

const preload = (topic: string, count: number, line: (i: number) => string): Promise<void> =>
  preloadWithKcat(kafkaBrokers, topic, count, line);

async function committed(groupId: string, topic: string): Promise<number> {
  const admin = client.admin();
  await admin.connect();
  try {
    return await committedTotal(admin, groupId, topic);
  } finally {
    await admin.disconnect();
  }
}

/** One measured run, in this (child) process. */
async function child(): Promise<void> {
  const mode = arg('mode', 'throughput');
  const input = arg('input', '');
  const appId = arg('app', '');
  const stateDir = arg('state', '');
  const records = Number(arg('count', String(total)));
  const t = topology(appId);
  if (mode === 'throughput') {
    t.stream(
      input,
      { key: string(), value: json<Reading>() },
      { name: 'readings', timestamp: (r) => r.time },
    )
      .groupByKey()
      .windowedBy(tumbling(hours(1), { grace: minutes(10) }))
      .aggregate(
        summary((r: Reading) => r.celsius),
        { store: 'hourly', name: 'hourly' },
      )
      .to(`${appId}-out`, { key: string(), value: json<Windowed<string, Summary>>() });
  } else {
    t.stream(input, { key: string(), value: string() }, { name: 'keys' })
      .groupByKey()
      .count({ store: 'counts' })
      .to(`${appId}-out`, { key: string(), value: json<number>() });
  }
  const guarantee =
    arg('guarantee', 'at_least_once') === 'exactly_once' ? 'exactly_once' : 'at_least_once';
  const began = Date.now();
  const library = process.env['TRIBUTARY_KAFKA_CLIENT'] ?? defaultKafkaLibrary;
  const kafkaClient = kafkaLibraries.find((l) => l === library);
  if (kafkaClient === undefined)
    throw new Error(`bench: unknown TRIBUTARY_KAFKA_CLIENT ${library}`);
  const worker = await startWorker(t.build(), {
    brokers: kafkaBrokers,
    kafkaClient,
    workerId: 'bench',
    ...(process.env['BENCH_LOG'] === undefined ? { logger: silentLogger } : { logLevel: 'debug' }),
    guarantee,
    commitIntervalMs: Number(arg('interval', '100')),
    stateDir,
  });
  await worker.runtime.assigned;
  const assignedAt = Date.now();
  let done = 0;
  const progress = (what: string): void => {
    if (process.env['BENCH_LOG'] !== undefined) console.error(`bench: ${what}`);
  };
  let failed: Error | undefined;
  void worker.runtime.failure.then((error) => (failed = error));
  if (arg('wait', 'yes') === 'yes') {
    while (done < records) {
      if (failed !== undefined) throw failed;
      await sleep(250);
      done = await committed(appId, input);
      if (Date.now() - assignedAt > 15 * 60_000)
        throw new Error(`only ${done} of ${records} committed after 15 minutes`);
    }
  }
  const finishedAt = Date.now();
  progress(`done: ${done}`);
  const stats = worker.runtime.stats().totals;
  await worker.stop();
  progress('stopped');
  console.log(
    JSON.stringify({
      seconds: (finishedAt - assignedAt) / 1000,
      startToAssignedSeconds: (assignedAt - began) / 1000,
      recordsPerSecond: Math.round(records / ((finishedAt - assignedAt) / 1000)),
      processed: stats.processed,
      produced: stats.produced,
      late: stats.late,
      restored: stats.restored,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      cpuSeconds: (() => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1e6;
      })(),
    }),
  );
  process.exit(0);
}

/** What a restore is compared with: another checkout, or this one on another client library. */
interface Baseline {
  checkout?: string;
  client?: string;
}

/**
 * Runs one measured configuration in a process of its own and returns its figures; a baseline
 * runs another checkout's copy of this benchmark, or this one on another client library.
 */
async function runChild(args: string[], baseline?: Baseline): Promise<Record<string, number>> {
  const script =
    baseline?.checkout === undefined
      ? new URL(import.meta.url).pathname
      : join(baseline.checkout, 'bench/windowed.ts');
  const child = spawn(
    process.execPath,
    // The child measures as many records as the parent loaded.
    [
      // BENCH_PROFILE_DIR: a CPU profile of each measured process, written there.
      ...(process.env['BENCH_PROFILE_DIR'] === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`]),
      '--import',
      'tsx',
      script,
      '--child',
      '--records',
      String(total),
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...(baseline?.client === undefined ? {} : { TRIBUTARY_KAFKA_CLIENT: baseline.client }),
      },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (process.env['BENCH_LOG'] !== undefined) process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0)
    throw new Error(`bench run ${args.join(' ')} failed (exit ${code}):\n${stderr.slice(-4000)}`);
  const last = stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(last) as Record<string, number>;
}

/** The throughput runs of (1), each in a process of its own. */
async function throughputRuns(
  run: string,
  input: string,
): Promise<Record<string, Record<string, number | string>>> {
  const runs: Record<string, Record<string, number | string>> = {};
  const configs: [string, string[]][] = [
    ['at_least_once', ['--guarantee', 'at_least_once']],
    ['exactly_once, commit interval 100 ms', ['--guarantee', 'exactly_once', '--interval', '100']],
    [
      'exactly_once, commit interval 1000 ms',
      ['--guarantee', 'exactly_once', '--interval', '1000'],
    ],
  ];
  for (const [name, extra] of configs) {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    const app = `${run}-${Object.keys(runs).length}`;
    runs[name] = await runChild([
      '--mode',
      'throughput',
      '--input',
      input,
      '--app',
      app,
      '--state',
      dir,
      ...extra,
    ]);
    rmSync(dir, { recursive: true, force: true });
    console.log(name, JSON.stringify(runs[name]));
  }
  return runs;
}

/** One restore into an empty state directory, by this checkout or the baseline. */
async function restoreOnce(
  keysInput: string,
  restoreApp: string,
  baseline?: Baseline,
): Promise<Record<string, number>> {
  const empty = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const args = ['--mode', 'restore', '--input', keysInput, '--app', restoreApp, '--state', empty];
  const restore = await runChild([...args, '--count', '0', '--wait', 'no'], baseline);
  rmSync(empty, { recursive: true, force: true });
  if (restore['restored'] !== total)
    throw new Error(`restored ${restore['restored']} of ${total} changelog records`);
  return restore;
}

/**
 * (2): builds a count store of `total` keys, then restores it `rounds` times into an empty
 * directory; with a baseline checkout, each round also restores with it, the two in alternating
 * order.
 */
async function restoreRounds(run: string, keysInput: string, rounds: number, baseline?: Baseline) {
  const restoreApp = `${run}-restore`;
  const built = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const args = ['--mode', 'restore', '--input', keysInput, '--app', restoreApp, '--state', built];
  const build = await runChild(args);
  rmSync(built, { recursive: true, force: true });
  const sides = baseline === undefined ? ['this'] : ['this', 'baseline'];
  const results: { round: number; side: string; figures: Record<string, number> }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    for (const side of order) {
      const figures = await restoreOnce(
        keysInput,
        restoreApp,
        side === 'this' ? undefined : baseline,
      );
      console.log(`restore round ${round} ${side}`, JSON.stringify(figures));
      results.push({ round, side, figures });
    }
  }
  const of = (side: string, figure: string) =>
    spread(results.filter((r) => r.side === side).map((r) => r.figures[figure]));
  const summary = Object.fromEntries(
    sides.map((side) => [
      side,
      {
        secondsToAssigned: of(side, 'startToAssignedSeconds'),
        cpuSeconds: of(side, 'cpuSeconds'),
        peakRssMiB: of(side, 'peakRssMiB'),
      },
    ]),
  );
  const ratio =
    baseline === undefined
      ? undefined
      : spread(
          Array.from({ length: rounds }, (_, i) => {
            const at = (side: string) =>
              results.find((r) => r.round === i + 1 && r.side === side)?.figures[
                'startToAssignedSeconds'
              ];
            const [b, t] = [at('baseline'), at('this')];
            return b === undefined || t === undefined ? undefined : b / t;
          }),
        );
  return {
    what: `a count store of ${total} keys over ${partitions} partitions, restored from its changelog into an empty state directory; seconds from the worker's start to assigned (joined the group, every task restored)`,
    buildRecordsPerSecond: build['recordsPerSecond'],
    restoredRecords: total,
    ...(baseline === undefined ? {} : { baseline }),
    summary,
    ...(ratio === undefined ? {} : { speedupOverBaseline: ratio }),
    rounds: results,
  };
}

async function main(): Promise<void> {
  const run = `bench-windowed-${Date.now().toString(36)}`;
  const input = `${run}-in`;
  const keysInput = `${run}-keys`;
  const onlyRestore = arg('only', '') === 'restore';
  const checkout = arg('baseline', '') || undefined;
  const baselineClient = arg('baseline-client', '') || undefined;
  const baseline: Baseline | undefined =
    checkout === undefined && baselineClient === undefined
      ? undefined
      : {
          ...(checkout === undefined ? {} : { checkout }),
          ...(baselineClient === undefined ? {} : { client: baselineClient }),
        };
  const rounds = Number(arg('rounds', '3'));
  const topics = onlyRestore ? [keysInput] : [input, keysInput];
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: topics.map((topic) => ({ topic, numPartitions: partitions })),
  });
  await admin.disconnect();
  if (!onlyRestore) {
    // One reading per sensor every 3 minutes of event time: 100 per sensor, 5 hours, ~6 windows each.
    await preload(input, total, (i) => {
      const sensor = `sensor-${i % sensors}`;
      const reading: Reading = {
        sensor,
        time: start + Math.floor(i / sensors) * 180_000,
        celsius: ((i * 7) % 60) - 20,
      };
      return `${sensor}\t${JSON.stringify(reading)}`;
    });
  }
  await preload(keysInput, total, (i) => `key-${i}\tx`);
  const throughput = onlyRestore ? undefined : await throughputRuns(run, input);
  const restore = await restoreRounds(run, keysInput, rounds, baseline);

  const result = {
    benchmark: onlyRestore
      ? 'restore of a count store from its changelog'
      : 'hourly tumbling summary (count, sum, min, max, mean) per sensor, final emission',
    date: new Date().toISOString(),
    machine: machine(),
    setup: {
      records: total,
      sensors,
      partitions,
      workers: 1,
      grace: '10 min',
      eventTime: 'one reading per sensor every 3 minutes, 5 hours',
    },
    ...(throughput === undefined ? {} : { throughput }),
    restore,
  };
  const out = arg('out', '');
  const file =
    out !== ''
      ? resolve(out)
      : new URL(
          onlyRestore
            ? `./results/${result.date.slice(0, 10)}-restore.json`
            : './results/windowed.json',
          import.meta.url,
        );
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const cleanup = client.admin();
  await cleanup.connect();
  await cleanup.deleteTopics({ topics }).catch(() => undefined);
  await cleanup.disconnect();
  console.log(JSON.stringify(result.restore.summary, null, 2));
  if (restore.speedupOverBaseline !== undefined)
    console.log('speed-up over the baseline', JSON.stringify(restore.speedupOverBaseline));
}

if (process.argv.includes('--child')) await child();
else await main();
process.exit(0);
