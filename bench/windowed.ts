// Windowed aggregation benchmark. Needs the local stack (npm run stack -- up).
//
//   npm run bench:windowed [-- --records N]
//
// (1) 1,000,000 pre-loaded readings of 10,000 sensors on 12 partitions, an hourly tumbling
//     summary per sensor, one worker, under at_least_once and under exactly_once with commit
//     intervals of 100 ms and 1,000 ms: records per second (assignment to the last committed
//     input offset) and peak RSS, each run in a process of its own;
// (2) the time to restore a 1,000,000-key store from its changelog into an empty directory.
// Writes bench/results/windowed.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackEndpoints } from '../infra/stack/config.ts';
import { startWorker } from '../src/app/index.ts';
import { silentLogger } from '../src/core/index.ts';
import { createKafkaClient } from '../src/kafka/index.ts';
import { json, string } from '../src/serde/index.ts';
import { hours, minutes, summary, topology, tumbling } from '../src/topology/index.ts';
import type { Windowed } from '../src/topology/index.ts';
import type { Summary } from '../src/topology/index.ts';
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
  const worker = await startWorker(t.build(), {
    brokers: kafkaBrokers,
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
    }),
  );
  process.exit(0);
}

/** Runs one measured configuration in a process of its own and returns its figures. */
async function runChild(args: string[]): Promise<Record<string, number>> {
  const child = spawn(
    process.execPath,
    // The child measures as many records as the parent loaded.
    [
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--child',
      '--records',
      String(total),
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
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

async function main(): Promise<void> {
  const run = `bench-windowed-${Date.now().toString(36)}`;
  const input = `${run}-in`;
  const keysInput = `${run}-keys`;
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [input, keysInput].map((topic) => ({ topic, numPartitions: partitions })),
  });
  await admin.disconnect();
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
  await preload(keysInput, total, (i) => `key-${i}\tx`);

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

  // Restore: build a 1,000,000-key count store, then restore it into an empty directory.
  const restoreApp = `${run}-restore`;
  const built = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const build = await runChild([
    '--mode',
    'restore',
    '--input',
    keysInput,
    '--app',
    restoreApp,
    '--state',
    built,
  ]);
  rmSync(built, { recursive: true, force: true });
  const empty = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const restore = await runChild([
    '--mode',
    'restore',
    '--input',
    keysInput,
    '--app',
    restoreApp,
    '--state',
    empty,
    '--count',
    '0',
    '--wait',
    'no',
  ]);
  rmSync(empty, { recursive: true, force: true });
  console.log('restore', JSON.stringify(restore));
  if (restore['restored'] !== total)
    throw new Error(`restored ${restore['restored']} of ${total} changelog records`);

  const result = {
    benchmark: 'hourly tumbling summary (count, sum, min, max, mean) per sensor, final emission',
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
    throughput: runs,
    restore: {
      what: `a count store of ${total} keys over ${partitions} partitions, restored from its changelog into an empty state directory`,
      buildRecordsPerSecond: build['recordsPerSecond'],
      restoredRecords: restore['restored'],
      secondsToAssigned: restore['startToAssignedSeconds'],
      restoredPerSecond: Math.round(
        Number(restore['restored']) / Number(restore['startToAssignedSeconds']),
      ),
      peakRssMiB: restore['peakRssMiB'],
    },
  };
  writeFileSync(
    new URL('./results/windowed.json', import.meta.url),
    JSON.stringify(result, null, 2) + '\n',
  );
  const cleanup = client.admin();
  await cleanup.connect();
  await cleanup.deleteTopics({ topics: [input, keysInput] }).catch(() => undefined);
  await cleanup.disconnect();
  console.log(JSON.stringify(result, null, 2));
}

if (process.argv.includes('--child')) await child();
else await main();
process.exit(0);
