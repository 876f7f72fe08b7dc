// A stream-table join in worker processes against the real broker, under exactly-once: the
// table's store restores from the table's own topic (no changelog topic), up to the offset the
// group committed. A worker is stopped and another started on a fresh state directory after the
// table changed: readings after the change must see the new values, readings before it the old
// ones, each reading joined exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { uniqueName } from './helpers.ts';
import { createTopics, produceJson, readTopic } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const partitions = 3;
const sensors = Array.from({ length: 12 }, (_, i) => `s-${i}`);

describe('a stream-table join over a real broker', () => {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const w of live) await stopWorker(w).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('restores the table from its topic on a new worker and joins each reading once with the value of its time', async () => {
    const name = uniqueName('st-join');
    const [input, meta, output] = [`${name}-in`, `${name}-meta`, `${name}-out`];
    await createTopics([
      { topic: input, partitions },
      {
        topic: meta,
        partitions,
        config: { 'cleanup.policy': 'compact' },
      },
      { topic: output, partitions },
    ]);
    await produceJson(
      meta,
      sensors.map((s) => ({ key: s, value: { offset: 1 } })),
    );
    const run = (id: string): WorkerProcess => {
      const stateDir = mkdtempSync(join(tmpdir(), 'st-join-'));
      dirs.push(stateDir);
      const worker = startWorkerProcess({
        id,
        topology: 'join',
        appId: name,
        input,
        output,
        guarantee: 'exactly_once',
        stateDir,
        env: { META_TOPIC: meta },
      });
      live.push(worker);
      return worker;
    };
    const first = run('w1');
    await waitForAssignment([first], partitions);
    const reading = (seq: number) =>
      sensors.map((s) => ({ key: s, value: { sensor: s, time: seq, celsius: 10 } }));
    await produceJson(input, reading(1));
    await readTopic(output, (r) => r.length >= sensors.length);
    // The table changes. Which of a task's topics is read first is not fixed, so probes (time 2)
    // go out until every sensor's shows the new value: then the change is processed.
    await produceJson(
      meta,
      sensors.map((s) => ({ key: s, value: { offset: 5 } })),
    );
    let probes = 0;
    const changed = (records: { value: Buffer | null }[]): boolean => {
      const seen = new Set<string>();
      for (const r of records) {
        const v = JSON.parse(r.value?.toString() ?? 'null') as {
          sensor: string;
          time: number;
          offset: number;
        };
        if (v.time === 2 && v.offset === 5) seen.add(v.sensor);
      }
      return seen.size === sensors.length;
    };
    for (;;) {
      await produceJson(input, reading(2));
      probes++;
      const read = await readTopic(output, (r) => r.length >= (1 + probes) * sensors.length);
      if (changed(read)) break;
      assert.ok(probes < 20, 'the table change reached the join');
    }
    assert.equal(await stopWorker(first), 0);
    const second = run('w2');
    await waitForAssignment([second], partitions);
    await produceJson(input, reading(3));
    const expected = (2 + probes) * sensors.length;
    const out = await readTopic(output, (r) => r.length >= expected);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const all = await readTopic(output, (r) => r.length >= out.length);
    const values = all.map(
      (r) =>
        JSON.parse(r.value?.toString() ?? 'null') as {
          sensor: string;
          time: number;
          offset: number;
        },
    );
    assert.equal(values.length, expected, 'each reading joined once');
    for (const v of values) {
      if (v.time === 1) assert.equal(v.offset, 1, JSON.stringify(v));
      if (v.time === 3) assert.equal(v.offset, 5, JSON.stringify(v));
    }
    const restored = second.log.filter((l) => l['msg'] === 'store restored');
    assert.ok(
      restored.some((l) => l['changelog'] === meta && Number(l['records']) > 0),
      'restored from the table topic',
    );
  });

  it("brings a new task's table up to its topic's end before it processes: two workers under at-least-once join every reading", async () => {
    const name = uniqueName('st-catchup');
    const [input, meta, output] = [`${name}-in`, `${name}-meta`, `${name}-out`];
    const parts = 6;
    const many = Array.from({ length: 100 }, (_, i) => `sensor-${i}`);
    await createTopics([
      { topic: input, partitions: parts },
      { topic: meta, partitions: parts, config: { 'cleanup.policy': 'compact' } },
      { topic: output, partitions: parts },
    ]);
    await produceJson(
      meta,
      many.map((s) => ({ key: s, value: { offset: 1 } })),
    );
    // The readings go out while the workers start and rebalance: each task's first fetch holds
    // readings and the table's backlog alike, and tasks move from the first worker to the second.
    for (const id of ['c1', 'c2']) {
      const stateDir = mkdtempSync(join(tmpdir(), 'st-catchup-'));
      dirs.push(stateDir);
      live.push(
        startWorkerProcess({
          id,
          topology: 'join',
          appId: name,
          input,
          output,
          stateDir,
          env: { META_TOPIC: meta },
        }),
      );
    }
    for (let round = 0; round < 10; round++)
      await produceJson(
        input,
        many.map((s) => ({ key: s, value: { sensor: s, time: round, celsius: 10 } })),
      );
    const out = await readTopic(output, (r) => r.length >= 1000, 120_000);
    const joined = new Set(out.map((r) => r.value?.toString()));
    assert.equal(joined.size, 1000, 'every reading joined (at-least-once: duplicates allowed)');
  });
});
