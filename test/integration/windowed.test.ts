import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import type { Windowed } from '../../src/topology/index.ts';
import type { Summary } from './fixtures/worker.ts';
import { uniqueName } from './helpers.ts';
import { oracle, readings } from './oracle.ts';
import { createTopics, produceJson, produceSlowly, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const partitions = 6;
const data = readings(200_000, 50);
const expected = oracle(data, partitions);
const records = data.map((r) => ({ key: r.sensor, value: r }));

type Result = Windowed<string, Summary>;
const decode = (r: ReadRecord): Result => JSON.parse(r.value?.toString() ?? 'null') as Result;
const idOf = (w: Result): string => `${w.key}@${w.start}`;

/** Every emitted window by id, with how often it was emitted. */
function collect(read: ReadRecord[]): {
  windows: Map<string, Summary>;
  emitted: Map<string, number>;
} {
  const windows = new Map<string, Summary>();
  const emitted = new Map<string, number>();
  for (const r of read) {
    const w = decode(r);
    windows.set(idOf(w), w.value);
    emitted.set(idOf(w), (emitted.get(idOf(w)) ?? 0) + 1);
  }
  return { windows, emitted };
}

function assertEqualsOracle(windows: Map<string, Summary>): void {
  assert.equal(windows.size, expected.windows.size, 'one result per (key, window)');
  for (const [id, summary] of expected.windows) {
    assert.deepEqual(windows.get(id), summary, `window ${id}`);
  }
}

describe('windowed aggregation over a real broker: hourly tumbling summary of 200,000 readings', () => {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  const stateDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-it-state-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const w of live) w.signal('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function setup(prefix: string) {
    const appId = uniqueName(prefix);
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions },
      { topic: output, partitions },
    ]);
    const start = (
      id: string,
      guarantee: 'at_least_once' | 'exactly_once',
      dir: string,
    ): WorkerProcess => {
      const w = startWorkerProcess({
        id,
        topology: 'hourly',
        appId,
        input,
        output,
        guarantee,
        stateDir: dir,
      });
      live.push(w);
      return w;
    };
    return { appId, input, output, start };
  }

  it('emits exactly the windows a batch computation gives, and sends the late readings to the dead-letter topic', async (t) => {
    const { appId, input, output, start } = await setup('it-oracle');
    const worker = start('o1', 'at_least_once', stateDir());
    await waitForAssignment([worker], partitions);
    await produceJson(input, records, 5000);
    const read = await readTopic(output, (rs) => rs.length >= expected.windows.size, 180_000);
    const { windows } = collect(read);
    assertEqualsOracle(windows);
    assert.equal(read.length, windows.size, 'no window twice');
    const dead = await readTopic(`${appId}-dlq`, (rs) => rs.length >= expected.late);
    assert.equal(dead.length, expected.late);
    assert.ok(dead.every((d) => d.headers[deadLetterHeaders.code] === 'LATE_RECORD'));
    assert.ok(dead.every((d) => d.headers[deadLetterHeaders.reason] === 'late'));
    t.diagnostic(
      `${data.length} readings, ${expected.windows.size} windows, ${expected.late} late`,
    );
    assert.equal(await stopWorker(worker), 0);
  });

  it('under exactly-once, equals the oracle after 10 kill -9 and restarts of 2 workers', async (t) => {
    const { input, output, start } = await setup('it-eos-crash');
    const dirsOf = { e1: stateDir(), e2: stateDir() };
    const workers: Record<string, WorkerProcess> = {
      e1: start('e1', 'exactly_once', dirsOf.e1),
      e2: start('e2', 'exactly_once', dirsOf.e2),
    };
    await waitForAssignment(Object.values(workers), partitions);
    const producing = produceSlowly(input, records, 10_000, 1500);
    const random = (n: number): number => Math.floor(Math.random() * n);
    for (let kill = 0; kill < 10; kill++) {
      await sleep(1000 + random(2500));
      const id = kill % 2 === 0 ? 'e1' : 'e2';
      const victim = workers[id] as WorkerProcess;
      victim.signal('SIGKILL');
      await victim.exited;
      workers[id] = start(id, 'exactly_once', dirsOf[id as 'e1' | 'e2']);
    }
    await producing;
    await waitForAssignment(Object.values(workers), partitions, 120_000);
    const read = await readTopic(output, (rs) => rs.length >= expected.windows.size, 240_000);
    await sleep(3000);
    const settled = await readTopic(output, (rs) => rs.length >= read.length);
    const { windows, emitted } = collect(settled);
    const twice = [...emitted.values()].filter((n) => n > 1).length;
    t.diagnostic(
      `exactly-once: ${settled.length} committed results, ${windows.size} windows, ${twice} emitted twice`,
    );
    assertEqualsOracle(windows);
    assert.equal(settled.length, expected.windows.size, 'no window twice');
    assert.deepEqual(await Promise.all(Object.values(workers).map((w) => stopWorker(w))), [0, 0]);
  });

  it('moves the tasks of a worker stopped for good to the other, which restores their stores from the changelogs', async () => {
    const { input, output, start } = await setup('it-migrate');
    const m1 = start('m1', 'exactly_once', stateDir());
    const m2 = start('m2', 'exactly_once', stateDir());
    await waitForAssignment([m1, m2], partitions);
    const half = records.length / 2;
    await produceJson(input, records.slice(0, half), 5000);
    await readTopic(output, (rs) => rs.length >= expected.windows.size / 3, 180_000);
    assert.equal(await stopWorker(m2), 0);
    await waitForAssignment([m1], partitions);
    await produceJson(input, records.slice(half), 5000);
    const read = await readTopic(output, (rs) => rs.length >= expected.windows.size, 180_000);
    assertEqualsOracle(collect(read).windows);
    assert.equal(read.length, expected.windows.size, 'no window twice');
    const restored = m1.log
      .filter((e) => e['msg'] === 'store restored')
      .reduce((n, e) => n + Number(e['records']), 0);
    assert.ok(
      restored > 0,
      `m1 restored the moved stores from their changelogs (${restored} records)`,
    );
    assert.equal(await stopWorker(m1), 0);
  });

  it('under at-least-once, loses no window through kill -9 and restarts, and reports the duplicates', async (t) => {
    const { input, output, start } = await setup('it-alo-crash');
    const dirsOf = { a1: stateDir(), a2: stateDir() };
    const workers: Record<string, WorkerProcess> = {
      a1: start('a1', 'at_least_once', dirsOf.a1),
      a2: start('a2', 'at_least_once', dirsOf.a2),
    };
    await waitForAssignment(Object.values(workers), partitions);
    const producing = produceSlowly(input, records, 20_000, 1000);
    for (let kill = 0; kill < 4; kill++) {
      await sleep(1500 + Math.floor(Math.random() * 1500));
      const id = kill % 2 === 0 ? 'a1' : 'a2';
      (workers[id] as WorkerProcess).signal('SIGKILL');
      await (workers[id] as WorkerProcess).exited;
      workers[id] = start(id, 'at_least_once', dirsOf[id as 'a1' | 'a2']);
    }
    await producing;
    const read = await readTopic(
      output,
      (rs) => new Set(rs.map((r) => idOf(decode(r)))).size >= expected.windows.size,
      240_000,
    );
    const { windows, emitted } = collect(read);
    for (const id of expected.windows.keys()) assert.ok(windows.has(id), `window ${id} emitted`);
    const twice = [...emitted.values()].filter((n) => n > 1).length;
    const differing = [...expected.windows].filter(
      ([id, s]) => JSON.stringify(windows.get(id)) !== JSON.stringify(s),
    ).length;
    t.diagnostic(
      `at-least-once: ${read.length} results for ${expected.windows.size} windows: ${read.length - windows.size} duplicates (${twice} windows emitted more than once), ${differing} windows whose last result differs from the oracle (records counted twice)`,
    );
    assert.deepEqual(await Promise.all(Object.values(workers).map((w) => stopWorker(w))), [0, 0]);
  });
});
