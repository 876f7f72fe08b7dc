// Failover time: from `kill -9` of a worker to the first committed output of each task it owned,
// now on the surviving worker (issue 17's figure), without and with standby replicas: without,
// the new owner restores the moved tasks' stores from their changelogs; with one, it has kept
// them current and restores the tail only.
//
//   npm run bench:failover [-- --keys N] [--rounds N] [--session-ms MS] [--standbys 0,1]
//
// Each round, on the local stack's broker: an input topic of 6 partitions preloaded with one
// record per key (`--keys`, default 1,000,000), so a count store of that many keys; two workers
// (processes of this script, exactly-once, session timeout `--session-ms`, default 6,000, the
// broker's least) share the six tasks and commit the whole preload; a trickle of one record per
// partition every 50 ms keeps every task committing. Then one worker is killed (SIGKILL) and the
// group's committed input offsets are polled every 20 ms: under exactly-once they move only when
// a transaction with the task's output commits, so the first move of each killed worker's
// partitions past its offset at the kill is that task's first committed output on its new owner.
// With `--standbys` listing several settings, each round runs them in turn (interleaved); with a
// standby, the kill waits until the survivor's standbys of the killed worker's tasks have caught
// up with their changelogs. Reports per round the seconds to the last of them (the failover), to the survivor's
// assignment (detection: the session timeout, then the rebalance), and the records the survivor
// restored; the median and spread over the rounds. Writes bench/results/<date>-failover.json, or
// `--out FILE`.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackEndpoints } from '../infra/stack/config.ts';
import { startWorker } from '../src/app/index.ts';
import { createKafkaClient } from '../src/kafka/index.ts';
import { json, string } from '../src/serde/index.ts';
import { topology } from '../src/topology/index.ts';
import { spread } from './compare/stats.ts';
import { machine, preloadWithKcat } from './kafka-load.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const keys = Number(arg('keys', '1000000'));
const rounds = Number(arg('rounds', '3'));
const sessionTimeoutMs = Number(arg('session-ms', '6000'));
const standbySettings = arg('standbys', '0').split(',').map(Number);
const partitions = 6;
const { kafkaBrokers } = stackEndpoints();

/** A worker of the count topology, until it is killed or stopped (the `--child` mode). */
async function child(): Promise<void> {
  const appId = arg('app', '');
  const t = topology(appId);
  t.stream(arg('input', ''), { key: string(), value: string() }, { name: 'keys' })
    .groupByKey()
    .count({ store: 'counts' })
    .to(`${appId}-out`, { key: string(), value: json<number>() });
  const worker = await startWorker(t.build(), {
    brokers: kafkaBrokers,
    workerId: arg('id', ''),
    guarantee: 'exactly_once',
    sessionTimeoutMs,
    stateDir: arg('state', ''),
    standbyReplicas: Number(arg('standby', '0')),
    logLevel: 'info',
  });
  process.once('SIGTERM', () => void worker.stop().then(() => process.exit(0)));
}

interface Worker {
  id: string;
  process: ChildProcess;
  /** The tasks of its latest assignment, and when it was logged. */
  tasks: string[] | undefined;
  assignedAt: number[];
  restored: number;
  /** Its latest standby tasks, and those caught up since. */
  standby: string[];
  caughtUp: Set<string>;
}

function startChild(
  id: string,
  appId: string,
  input: string,
  state: string,
  standby: number,
): Worker {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--child',
      '--id',
      id,
      '--app',
      appId,
      '--input',
      input,
      '--state',
      state,
      '--session-ms',
      String(sessionTimeoutMs),
      '--standby',
      String(standby),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const worker: Worker = {
    id,
    process: proc,
    tasks: undefined,
    assignedAt: [],
    restored: 0,
    standby: [],
    caughtUp: new Set(),
  };
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry['msg'] === 'assignment') {
        worker.tasks = entry['tasks'] as string[];
        worker.assignedAt.push(Date.now());
      }
      if (entry['msg'] === 'task created') worker.restored += Number(entry['restored'] ?? 0);
      if (entry['msg'] === 'standby tasks') {
        worker.standby = entry['standby'] as string[];
        for (const task of worker.caughtUp)
          if (!worker.standby.includes(task)) worker.caughtUp.delete(task);
      }
      if (entry['msg'] === 'standby caught up' || entry['msg'] === 'warm-up caught up')
        for (const task of entry['tasks'] as string[]) worker.caughtUp.add(task);
    } catch {
      // not a log line
    }
  });
  return worker;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 300_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench: no ${what} within ${ms} ms`);
    await sleep(20);
  }
}

async function round(run: string, n: number, standby: number) {
  const client = createKafkaClient({ brokers: kafkaBrokers, clientId: 'tributary-bench' });
  const admin = client.topicAdmin();
  await admin.connect();
  const appId = `${run}-r${n}-s${standby}`;
  const input = `${appId}-in`;
  const dirs = [
    mkdtempSync(join(tmpdir(), 'tributary-failover-')),
    mkdtempSync(join(tmpdir(), 'tributary-failover-')),
  ];
  const workers: Worker[] = [];
  const producer = client.recordProducer();
  let trickling = true;
  try {
    await admin.createTopics([input, `${appId}-out`].map((topic) => ({ topic, partitions })));
    await preloadWithKcat(kafkaBrokers, input, keys, (i) => `key-${i}\tx`);
    workers.push(startChild('a', appId, input, dirs[0] as string, standby));
    workers.push(startChild('b', appId, input, dirs[1] as string, standby));
    const [a, b] = workers as [Worker, Worker];
    // Both own tasks, and the whole preload is committed.
    await until('shared assignment', async () =>
      (a.tasks?.length ?? 0) > 0 &&
      (b.tasks?.length ?? 0) > 0 &&
      (a.tasks?.length ?? 0) + (b.tasks?.length ?? 0) === partitions
        ? true
        : undefined,
    );
    await until('the preload committed', async () => {
      const committed = await admin.committedOffsets(appId, input);
      const sum = [...committed.values()].reduce((s, o) => s + (o > 0n ? o : 0n), 0n);
      return sum >= BigInt(keys) ? true : undefined;
    });
    await producer.connect();
    let tick = 0;
    const trickle = (async () => {
      while (trickling) {
        await producer.send(
          Array.from({ length: partitions }, (_, partition) => ({
            topic: input,
            partition,
            key: Buffer.from(`trickle-${partition}-${tick}`),
            value: Buffer.from('x'),
            timestamp: Date.now(),
            headers: {},
          })),
        );
        tick++;
        await sleep(50);
      }
    })();
    await sleep(2000);
    if (standby > 0)
      await until("the survivor's standbys of the other's tasks caught up", async () =>
        (a.tasks ?? []).every((task) => b.standby.includes(task) && b.caughtUp.has(task))
          ? true
          : undefined,
      );
    const moved = (a.tasks ?? []).map((task) => Number(task.split('_')[1]));
    const before = await admin.committedOffsets(appId, input);
    const restoredBefore = b.restored;
    const assignmentsBefore = b.assignedAt.length;
    const killedAt = Date.now();
    a.process.kill('SIGKILL');
    const firstOutput = new Map<number, number>();
    await until('committed output of every moved task', async () => {
      const now = await admin.committedOffsets(appId, input);
      for (const p of moved)
        if (!firstOutput.has(p) && (now.get(p) ?? -1n) > (before.get(p) ?? -1n))
          firstOutput.set(p, Date.now());
      return firstOutput.size === moved.length ? true : undefined;
    });
    trickling = false;
    await trickle;
    const assigned = b.assignedAt[assignmentsBefore];
    return {
      standbyReplicas: standby,
      movedTasks: moved.length,
      failoverSeconds: (Math.max(...firstOutput.values()) - killedAt) / 1000,
      firstTaskSeconds: (Math.min(...firstOutput.values()) - killedAt) / 1000,
      toAssignmentSeconds: assigned === undefined ? null : (assigned - killedAt) / 1000,
      restoredRecords: b.restored - restoredBefore,
    };
  } finally {
    trickling = false;
    for (const w of workers) w.process.kill('SIGKILL');
    await producer.disconnect().catch(() => undefined);
    // The input, the output and the workers' internal topics (changelogs).
    const kafka = client.admin();
    await kafka.connect();
    const names = (await kafka.listTopics()).filter((name) => name.startsWith(appId));
    await kafka.disconnect();
    await admin.deleteTopics(names).catch(() => undefined);
    await admin.disconnect();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const run = `bench-failover-${Date.now().toString(36)}`;
  const results: Awaited<ReturnType<typeof round>>[] = [];
  for (let n = 1; n <= rounds; n++)
    for (const standby of standbySettings) {
      const figures = await round(run, n, standby);
      console.log(`round ${n}`, JSON.stringify(figures));
      results.push(figures);
    }
  const of = (standby: number) => results.filter((r) => r.standbyReplicas === standby);
  const result = {
    benchmark:
      'failover: kill -9 of one of two workers to the first committed output of each task it owned',
    date: new Date().toISOString(),
    machine: machine(),
    setup: {
      keys,
      partitions,
      workers: 2,
      guarantee: 'exactly_once',
      sessionTimeoutMs,
      standbyReplicas: standbySettings,
      trickle: 'one record per partition every 50 ms',
    },
    summary: Object.fromEntries(
      standbySettings.map((standby) => [
        `standbyReplicas=${standby}`,
        {
          failoverSeconds: spread(of(standby).map((r) => r.failoverSeconds)),
          toAssignmentSeconds: spread(of(standby).map((r) => r.toAssignmentSeconds ?? undefined)),
          restoredRecords: spread(of(standby).map((r) => r.restoredRecords)),
        },
      ]),
    ),
    rounds: results,
  };
  const out = arg('out', '');
  writeFileSync(
    out !== ''
      ? resolve(out)
      : new URL(`./results/${result.date.slice(0, 10)}-failover.json`, import.meta.url),
    JSON.stringify(result, null, 2) + '\n',
  );
  console.log(JSON.stringify(result.summary, null, 2));
  process.exit(0);
}

if (process.argv.includes('--child')) await child();
else await main();
