// Standby replicas and warm-ups (issue 17, decision 0026), against the real broker and RocksDB:
// a worker that joins a group whose tasks hold state receives none of them before it has caught
// up with their changelogs, and with one standby replica a kill -9 of a task's owner is followed
// by output from the new owner after it restored only the changelog's tail. Both are checked
// against an oracle computed from the input alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { preloadWithKcat } from '../../bench/kafka-load.ts';
import { readToEnd } from './disorder-io.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { committedTotal, createTopics } from './topics.ts';
import { startCountsWorker, totalsByKey } from './counts.ts';
import type { Total } from './counts.ts';
import { stopWorker } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const partitions = 4;
/** Distinct keys of the first wave: some 100,000 changelog records per task. */
const keys = 400_000;
/** Every `every`-th key gets more readings in later waves; only those are output. */
const every = 50;
/** The default TRIBUTARY_ACCEPTABLE_RECOVERY_LAG. */
const acceptableLag = 10_000;

async function committedUpTo(
  appId: string,
  input: string,
  workers: WorkerProcess[],
  total: number,
): Promise<void> {
  let committed = 0;
  await eventually(
    () => `${appId} to commit ${total} records (${committed} committed)`,
    async () => {
      committed = await committedTotal(appId, input);
      return committed >= total ? true : undefined;
    },
    300_000,
    1000,
  );
  for (const w of workers)
    assert.equal(w.child.exitCode, null, `${w.id} exited: ${w.stderr.join('').slice(-2000)}`);
}

/** A log line's time (pino writes it as an ISO string here). */
const timeOf = (line: Record<string, unknown>): number => Date.parse(String(line['time']));

/** A worker's log lines with this message. */
const lines = (worker: WorkerProcess, msg: string) => worker.log.filter((l) => l['msg'] === msg);

const value = (k: number, wave: number): number => ((k * 7) % 101) + wave;

/** The keys of wave `wave` (0: every key; later waves: every `every`-th key), as kcat lines. */
function wave(n: number): { count: number; line: (i: number) => string } {
  return n === 0
    ? { count: keys, line: (i) => `k${i}\t{"v":${value(i, 0)}}` }
    : { count: keys / every, line: (i) => `k${i * every}\t{"v":${value(i * every, n)}}` };
}

/** What the output must say for each key read in the later waves, after `waves` waves. */
function oracle(waves: number): Map<string, Total> {
  const expected = new Map<string, Total>();
  for (let i = 0; i < keys; i += every) {
    let sum = 0;
    for (let w = 0; w < waves; w++) sum += value(i, w);
    expected.set(`k${i}`, { n: waves, sum });
  }
  return expected;
}

describe('standby replicas and warm-ups (real Kafka, RocksDB)', () => {
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
  });
  const stateDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-standby-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const start = (
    id: string,
    appId: string,
    env: Record<string, string>,
    guarantee: 'at_least_once' | 'exactly_once' = 'at_least_once',
  ): WorkerProcess => {
    const worker = startCountsWorker({
      id,
      appId,
      guarantee,
      stateDir: stateDir(),
      // Standbys and warm-ups need the default client (kafkajs cannot carry them).
      env: {
        STORE_CACHE_MB: '16',
        MIN_COUNT: '2',
        LOG_LEVEL: 'info',
        TRIBUTARY_KAFKA_CLIENT: 'platformatic',
        ...env,
      },
    });
    cleanups.push(() => worker.child.kill('SIGKILL'));
    return worker;
  };
  const setUp = async (prefix: string) => {
    const appId = uniqueName(prefix);
    const input = `${appId}-in`;
    await createTopics([
      { topic: input, partitions },
      { topic: `${appId}-out`, partitions },
    ]);
    const first = wave(0);
    await preloadWithKcat(endpoints.kafkaBrokers, input, first.count, first.line);
    return { appId, input, output: `${appId}-out` };
  };
  const send = async (input: string, n: number) => {
    const next = wave(n);
    await preloadWithKcat(endpoints.kafkaBrokers, input, next.count, next.line);
  };

  it('a worker that joins receives no stateful task before its warm-up of that task has caught up', async () => {
    const { appId, input, output } = await setUp('it-warmup');
    const a = start('a', appId, {});
    await committedUpTo(appId, input, [a], keys);
    const b = start('b', appId, {});
    await eventually(
      () => `b to own 2 tasks (a: ${a.tasks?.join(' ')}; b: ${b.tasks?.join(' ')})`,
      async () => ((b.tasks?.length ?? 0) === 2 && (a.tasks?.length ?? 0) === 2 ? true : undefined),
      180_000,
    );
    // b's first assignment gave it warm-ups only; each task it owns now was caught up first.
    const assignments = lines(b, 'assignment');
    assert.deepEqual(assignments[0]?.['tasks'], [], 'b owned no task at its first assignment');
    const caughtUp = new Map<string, number>();
    for (const line of lines(b, 'warm-up caught up'))
      for (const task of line['tasks'] as string[]) caughtUp.set(task, timeOf(line));
    for (const task of b.tasks ?? []) {
      const at = caughtUp.get(task);
      assert.ok(at !== undefined, `b reported ${task} caught up before it owned it`);
      // a closed the task (its last commit) only after b's warm-up had caught up.
      const closed = lines(a, 'task closed').find((l) => l['task'] === task);
      assert.ok(closed !== undefined, `a closed ${task}`);
      assert.ok(timeOf(closed) >= at, `a closed ${task} before b's warm-up ended`);
      // ... and b's task restored only what its warm-up had not read.
      const created = lines(b, 'task created').find((l) => l['task'] === task);
      const restored = created?.['restored'] as number;
      assert.ok(restored <= acceptableLag, `b restored ${restored} records of ${task} at its move`);
      console.log(`# ${task} moved to b after its warm-up; b restored ${restored} records then`);
    }
    // The moved tasks' state is whole: a second reading of every 50th key totals right.
    await send(input, 1);
    await committedUpTo(appId, input, [a, b], keys + keys / every);
    const got = totalsByKey(await readToEnd(output, { timeoutMs: 120_000 }));
    for (const [key, total] of oracle(2)) assert.deepEqual(got.get(key), [total], key);
    assert.equal(got.size, keys / every, 'only keys with two readings are output');
    assert.equal(await stopWorker(a), 0);
    assert.equal(await stopWorker(b), 0);
  });

  it('with one standby, kill -9 of a task owner: the new owner restores only the tail, under exactly-once', async () => {
    const { appId, input, output } = await setUp('it-standby');
    const env = { STANDBY_REPLICAS: '1' };
    const a = start('a', appId, env, 'exactly_once');
    await committedUpTo(appId, input, [a], keys);
    const b = start('b', appId, env, 'exactly_once');
    // b warms up, takes two tasks, and each keeps a standby of the other's.
    const standbysOf = (w: WorkerProcess) =>
      (lines(w, 'standby tasks').at(-1)?.['standby'] as string[] | undefined) ?? [];
    await eventually(
      () =>
        `two tasks each and standbys of the other's (a: ${a.tasks?.join(' ')} / ${standbysOf(a).join(' ')}; b: ${b.tasks?.join(' ')} / ${standbysOf(b).join(' ')})`,
      async () =>
        (a.tasks?.length ?? 0) === 2 &&
        (b.tasks?.length ?? 0) === 2 &&
        standbysOf(b).every((t) => a.tasks?.includes(t)) &&
        standbysOf(b).length === 2 &&
        standbysOf(a).length === 2
          ? true
          : undefined,
      180_000,
    );
    const moving = [...(a.tasks ?? [])];
    // The second wave goes in ten parts while a processes them; a is killed after the fifth,
    // mid-stream (its open transaction is aborted). b's standbys go on reading a's changelogs
    // once a second until the group gives b the tasks (the session timeout), so the tail b
    // restores is what they had not read by then: usually nothing, against some 100,000
    // records per task that a cold restore would read.
    const second = wave(1);
    const part = second.count / 10;
    let killedAt = 0;
    for (let p = 0; p < 10; p++) {
      await preloadWithKcat(endpoints.kafkaBrokers, input, part, (i) => second.line(p * part + i));
      if (p === 4) {
        await sleep(300);
        a.child.kill('SIGKILL');
        killedAt = Date.now();
      }
    }
    await eventually(
      () => `b to take a's tasks ${moving.join(' ')} (b: ${b.tasks?.join(' ')})`,
      async () => ((b.tasks?.length ?? 0) === partitions ? true : undefined),
      120_000,
    );
    for (const task of moving) {
      const created = lines(b, 'task created').findLast((l) => l['task'] === task);
      const restored = created?.['restored'] as number;
      assert.ok(created !== undefined, `b created ${task}`);
      // The changelog of each task holds some 100,000 records: the standby had read them.
      assert.ok(restored < acceptableLag, `b restored ${restored} records of ${task}`);
      console.log(
        `# ${task}: b restored ${restored} records after the kill -9 (${timeOf(created) - killedAt} ms after it)`,
      );
    }
    await committedUpTo(appId, input, [b], keys + keys / every);
    await send(input, 2);
    await committedUpTo(appId, input, [b], keys + (2 * keys) / every);
    // Every key output once with two readings and once with three, equal to the oracle.
    const got = totalsByKey(await readToEnd(output, { timeoutMs: 120_000 }));
    const [two, three] = [oracle(2), oracle(3)];
    for (const [key, total] of three) {
      const list = got.get(key) ?? [];
      assert.deepEqual(list.at(-1), total, key);
      assert.deepEqual(
        list.filter((t) => t.n === 2),
        [two.get(key)],
        key,
      );
      assert.equal(list.filter((t) => t.n === 3).length, 1, key);
    }
    assert.equal(await stopWorker(b), 0);
  });
});
