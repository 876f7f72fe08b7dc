import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import type { Sequenced, Tagged } from './fixtures/worker.ts';
import { uniqueName } from './helpers.ts';
import { createTopics, produceJson, produceSlowly, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const partitions = 6;

function sequenced(keys: number, perKey: number, from = 0): { key: string; value: Sequenced }[] {
  const out: { key: string; value: Sequenced }[] = [];
  for (let seq = from; seq < from + perKey; seq++) {
    for (let k = 0; k < keys; k++) out.push({ key: `key-${k}`, value: { key: `key-${k}`, seq } });
  }
  return out;
}

const decode = (r: ReadRecord): Tagged => JSON.parse(r.value?.toString() ?? 'null') as Tagged;
const idOf = (t: Sequenced): string => `${t.key}#${t.seq}`;

/** Reads the output until it holds `total` distinct (key, seq) pairs; counts what was read. */
async function readUnique(
  output: string,
  total: number,
): Promise<{ read: number; unique: number; workers: Set<string> }> {
  const read = await readTopic(
    output,
    (rs) => new Set(rs.map((r) => idOf(decode(r)))).size >= total,
    120_000,
  );
  const tagged = read.map(decode);
  return {
    read: read.length,
    unique: new Set(tagged.map(idOf)).size,
    workers: new Set(tagged.map((t) => t.worker)),
  };
}

async function setup(
  prefix: string,
  guarantee: 'at_least_once' | 'exactly_once' = 'at_least_once',
) {
  const appId = uniqueName(prefix);
  const input = `${appId}-in`;
  const output = `${appId}-out`;
  await createTopics([
    { topic: input, partitions },
    { topic: output, partitions },
  ]);
  const start = (id: string): WorkerProcess =>
    startWorkerProcess({ id, topology: 'tag', appId, input, output, guarantee });
  return { appId, input, output, start };
}

describe('worker runtime over a real broker (3 OS processes, 6 partitions)', () => {
  const live: WorkerProcess[] = [];
  after(() => {
    for (const w of live) w.signal('SIGKILL');
  });

  it('processes every record once, each key in one worker, in per-key order, and stops cleanly on SIGTERM', async () => {
    const { input, output, start } = await setup('it-three');
    const workers = ['a', 'b', 'c'].map(start);
    live.push(...workers);
    await waitForAssignment(workers, partitions);

    const records = sequenced(30, 200);
    await produceJson(input, records);
    const read = await readTopic(output, (rs) => rs.length >= records.length);
    const tagged = read.map(decode);
    assert.equal(
      new Set(tagged.map(idOf)).size,
      records.length,
      'every input record is in the output',
    );
    assert.equal(tagged.length, records.length, 'no duplicates without a rebalance');

    const byKey = new Map<string, Tagged[]>();
    for (const t of tagged) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t]);
    for (const [key, list] of byKey) {
      assert.equal(new Set(list.map((t) => t.worker)).size, 1, `${key} processed by one worker`);
      assert.equal(new Set(list.map((t) => t.task)).size, 1, `${key} processed by one task`);
      const seqs = list.map((t) => t.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        `${key} keeps its order`,
      );
    }
    assert.equal(new Set(tagged.map((t) => t.worker)).size, 3, 'all three workers took part');

    const codes = await Promise.all(workers.map((w) => stopWorker(w)));
    assert.deepEqual(
      codes,
      [0, 0, 0],
      'SIGTERM: each worker finishes, commits, leaves and exits 0',
    );
  });

  /**
   * Issue 16's bound: at most 1% of the 3,800 duplicates this test reported when decision 0005
   * was written (batches in flight when their partitions moved, read again by the new owner).
   */
  const duplicatesAllowed = { at_least_once: 38, exactly_once: 0 };

  for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
    it(`loses nothing while scaling 1 -> 3 -> 1 workers under 100,000 records, ${guarantee}: at most ${duplicatesAllowed[guarantee]} duplicates`, async (t) => {
      const { input, output, start } = await setup(`it-scale-${guarantee}`, guarantee);
      const first = start('s1');
      live.push(first);
      await waitForAssignment([first], partitions);

      const total = 100_000;
      const records = sequenced(50, total / 50);
      const producing = produceSlowly(input, records, 5000, 300);

      await sleep(2000);
      const extra = [start('s2'), start('s3')];
      live.push(...extra);
      await waitForAssignment([first, ...extra], partitions);
      await sleep(2000); // the three share the flow for a while
      const codes = await Promise.all(extra.map((w) => stopWorker(w)));
      assert.deepEqual(codes, [0, 0]);
      await waitForAssignment([first], partitions);
      await producing;

      const { read, unique, workers } = await readUnique(output, total);
      assert.equal(unique, total, 'every key and sequence number is in the output');
      assert.ok(workers.has('s2') || workers.has('s3'), 'the added workers took part');
      t.diagnostic(
        `scale 1->3->1 (${guarantee}): ${total} in, ${read} out, ${read - unique} duplicates around rebalances`,
      );
      assert.ok(
        read - unique <= duplicatesAllowed[guarantee],
        `${read - unique} duplicates (at most ${duplicatesAllowed[guarantee]})`,
      );
      assert.equal(await stopWorker(first), 0);
    });
  }

  /**
   * Sticky assignment (task-assignment.ts): with two workers holding 3 tasks each, a third takes
   * one task from each and gives them back when it stops; every other task stays where it was
   * (created once in its worker, never closed and rebuilt elsewhere) while records flow. The
   * round-robin assignment before it moved a task between the first two workers in each step.
   */
  it('keeps tasks with their workers while a third joins and leaves (sticky assignment), losing nothing', async (t) => {
    const { input, output, start } = await setup('it-sticky');
    const pair = [start('k1'), start('k2')];
    live.push(...pair);
    await waitForAssignment(pair, partitions);
    const before = new Map(pair.map((w) => [w, [...(w.tasks ?? [])]]));
    const total = 60_000;
    const producing = produceSlowly(input, sequenced(60, total / 60), 3000, 300);
    await sleep(1500);
    const third = start('k3');
    live.push(third);
    await waitForAssignment([...pair, third], partitions);
    const kept = new Map(pair.map((w) => [w, [...(w.tasks ?? [])]]));
    const created = (w: WorkerProcess): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const e of w.log)
        if (e['msg'] === 'task created')
          counts.set(String(e['task']), (counts.get(String(e['task'])) ?? 0) + 1);
      return counts;
    };
    const placement = (): string =>
      [...pair, third].map((w) => `${w.id}: ${(w.tasks ?? []).join(' ')}`).join('; ');
    for (const w of pair) {
      const mine = kept.get(w) ?? [];
      assert.equal(mine.length, 2, `${w.id} keeps 2 of its 3 (${placement()})`);
      assert.ok(
        mine.every((task) => before.get(w)?.includes(task)),
        `${w.id} gained no task of the other (${placement()})`,
      );
    }
    await sleep(1500); // the three share the flow for a while
    assert.equal(await stopWorker(third), 0);
    await waitForAssignment(pair, partitions);
    for (const w of pair) {
      assert.ok(
        (kept.get(w) ?? []).every((task) => w.tasks?.includes(task)),
        `${w.id} still holds what it kept (${placement()})`,
      );
      const twice = [...created(w)].filter(([task, n]) => n > 1 && kept.get(w)?.includes(task));
      assert.deepEqual(twice, [], `${w.id}'s kept tasks were never rebuilt`);
    }
    await producing;
    const { read, unique, workers } = await readUnique(output, total);
    assert.equal(unique, total, 'every key and sequence number is in the output');
    assert.ok(workers.has('k3'), 'the third worker took part');
    t.diagnostic(
      `sticky 2->3->2: ${total} in, ${read} out, ${read - unique} duplicates; after the scale-out ${[...kept].map(([w, l]) => `${w.id} kept ${l.join(' ')}`).join(', ')}`,
    );
    assert.deepEqual(await Promise.all(pair.map((w) => stopWorker(w))), [0, 0]);
  });

  it('takes over the partitions of a worker killed with SIGKILL and loses nothing', async (t) => {
    const { input, output, start } = await setup('it-kill');
    const workers = ['k1', 'k2', 'k3'].map(start);
    live.push(...workers);
    await waitForAssignment(workers, partitions);

    const total = 30_000;
    const records = sequenced(30, total / 30);
    const producing = produceSlowly(input, records, 3000, 300);
    await sleep(1500);
    const [k1, k2, k3] = workers as [WorkerProcess, WorkerProcess, WorkerProcess];
    k2.signal('SIGKILL');
    assert.equal(await k2.exited, null, 'killed by a signal');
    await waitForAssignment([k1, k3], partitions, 90_000);
    await producing;

    const { read, unique } = await readUnique(output, total);
    assert.equal(unique, total, 'nothing lost');
    t.diagnostic(`kill -9: ${total} in, ${read} out, ${read - unique} duplicates`);
    assert.deepEqual(await Promise.all([stopWorker(k1), stopWorker(k3)]), [0, 0]);
  });
});
