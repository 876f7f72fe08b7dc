// Table-table joins and a retracting table aggregation in worker processes against the real
// broker, under exactly-once: updates and deletes (tombstones) on either table, a worker killed
// with kill -9 in the middle, another started on an empty state directory (so restoring from the
// changelogs and the table topics). The result tables (last value per key of each output topic,
// read read_committed) must equal the oracle computed from the input alone (test/join-oracle.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { generateTableChanges, groupOracle, lastPerKey, tableJoinOracle } from '../join-oracle.ts';
import type { TableChange } from '../join-oracle.ts';
import { uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const partitions = 3;
const fixture = new URL('./fixtures/tables-worker.ts', import.meta.url).pathname;
const show = (v: number | null): string => (v === null ? '-' : String(v));
const joiner = (x: number | null, y: number | null): string => `${show(x)}|${show(y)}`;

function decoded(records: ReadRecord[]): { key: string | null; value: unknown }[] {
  return records.map((r) => ({
    key: r.key,
    value: r.value === null ? null : (JSON.parse(r.value.toString()) as unknown),
  }));
}

/** The groups' values, a group left empty read as 0 (whether it was written 0 or deleted). */
function groupValues(last: Map<string, unknown>, expected: Map<string, number>): number[] {
  return ['g0', 'g1', 'g2'].map((g) => Number(last.get(g) ?? 0) - (expected.get(g) ?? 0));
}

describe('table joins and aggregations over a real broker', () => {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const w of live) await stopWorker(w).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('equals the oracle after updates and tombstones on either side, across a kill -9 under exactly-once', async () => {
    const name = uniqueName('tables');
    const [tableA, tableB, output] = [`${name}-a`, `${name}-b`, `${name}-out`];
    const outputs = ['inner', 'left', 'outer', 'count', 'sum'].map((o) => `${output}-${o}`);
    await createTopics(
      [tableA, tableB, ...outputs].map((topic) => ({
        topic,
        partitions,
        ...(topic === tableA || topic === tableB
          ? { config: { 'cleanup.policy': 'compact' } }
          : {}),
      })),
    );
    const changes = generateTableChanges(11, 900, 25);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const produce = async (part: TableChange[]): Promise<void> => {
      // In order per topic (one producer, one request in flight), so each key's last change is
      // its last value; how the two topics interleave does not change the final tables.
      for (let i = 0; i < part.length; i += 50) {
        const chunk = part.slice(i, i + 50);
        await producer.sendBatch({
          acks: -1,
          topicMessages: (['a', 'b'] as const)
            .map((table) => ({
              topic: table === 'a' ? tableA : tableB,
              messages: chunk
                .filter((c) => c.table === table)
                .map((c) => ({
                  key: c.key,
                  value: c.value === null ? null : JSON.stringify(c.value),
                })),
            }))
            .filter((t) => t.messages.length > 0),
        });
      }
    };
    const run = (id: string): WorkerProcess => {
      const stateDir = mkdtempSync(join(tmpdir(), 'tables-'));
      dirs.push(stateDir);
      const worker = startWorkerProcess({
        id,
        fixture,
        appId: name,
        input: tableA,
        output,
        guarantee: 'exactly_once',
        stateDir,
        env: { TABLE_A: tableA, TABLE_B: tableB },
      });
      live.push(worker);
      return worker;
    };
    const third = changes.length / 3;
    try {
      const first = run('w1');
      await waitForAssignment([first], 2 * partitions); // two sub-topologies
      await produce(changes.slice(0, third));
      await readTopic(`${output}-count`, (r) => r.length > 0);
      // 1. More changes, and a kill -9 while they are being processed.
      const producing = produce(changes.slice(third, 2 * third));
      const before = (await readTopic(`${output}-outer`, (r) => r.length > 0)).length;
      await readTopic(`${output}-outer`, (r) => r.length > before);
      first.signal('SIGKILL');
      assert.equal(await first.exited, null);
      await producing;
      // 2. A new worker on an empty state directory: every store restores.
      const second = run('w2');
      await waitForAssignment([second], 2 * partitions);
      await produce(changes.slice(2 * third));
      for (const kind of ['inner', 'left', 'outer'] as const) {
        const expected = tableJoinOracle(changes, kind, joiner);
        const read = await readTopic(`${output}-${kind}`, (r) => {
          const last = lastPerKey(decoded(r));
          return last.size === expected.size && [...expected].every(([k, v]) => last.get(k) === v);
        }).catch((error: unknown) => {
          throw new Error(`${kind} join never equalled the oracle`, { cause: error });
        });
        assert.deepEqual(lastPerKey(decoded(read)), expected, kind);
      }
      const { count, sum } = groupOracle(changes, (v) => `g${v % 3}`);
      for (const [what, expected] of [
        ['count', count],
        ['sum', sum],
      ] as const) {
        const read = await readTopic(`${output}-${what}`, (r) =>
          groupValues(lastPerKey(decoded(r)), expected).every((d) => d === 0),
        ).catch((error: unknown) => {
          throw new Error(`${what} never equalled the oracle`, { cause: error });
        });
        assert.deepEqual(groupValues(lastPerKey(decoded(read)), expected), [0, 0, 0], what);
      }
      assert.equal(await stopWorker(second), 0);
    } finally {
      await producer.disconnect();
    }
  });
});
