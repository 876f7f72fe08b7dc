import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { silentLogger } from '../../src/core/index.ts';
import type { RuntimeSnapshot } from '../../src/core/index.ts';
import type { ChangelogReader, FetchedRecord, TopicAdmin } from '../../src/kafka/index.ts';
import { createMetrics } from '../../src/metrics/index.ts';
import type { Committer } from '../../src/runtime/commit.ts';
import { TaskRegistry } from '../../src/runtime/task-registry.ts';
import { string } from '../../src/serde/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';

const unused = (): never => {
  throw new Error('not used by a stateless at-least-once task');
};

function registry(): TaskRegistry {
  const t = topology('totals');
  t.stream('in', { key: string(), value: string() }).to('out', { key: string(), value: string() });
  const committer: Committer = {
    afterBatch: () => Promise.resolve(),
    tick: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return new TaskRegistry({
    plan: t.build().plan,
    clock: new ManualClock(0),
    logger: silentLogger,
    location: { stateDir: '/nonexistent', appId: 'totals' },
    reader: { read: unused, offsetRanges: unused } as ChangelogReader,
    admin: {} as TopicAdmin,
    committer,
  });
}

const records = (n: number): FetchedRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`v${i}`),
    timestamp: 1000 + i,
    headers: {},
    offset: String(i),
  }));

describe("a worker's totals", () => {
  it('keep the counts of tasks closed and discarded, not only of those running', async () => {
    const tasks = registry();
    const a = await tasks.handleFor({ topic: 'in', partition: 0 });
    const b = await tasks.handleFor({ topic: 'in', partition: 1 });
    const c = await tasks.handleFor({ topic: 'in', partition: 2 });
    a.task.process('in', 0, records(5));
    b.task.process('in', 1, records(7));
    c.task.process('in', 2, records(11));
    assert.equal(tasks.totals().processed, 23);

    await tasks.discard(b, new Error('commit failed'));
    await tasks.close(c.task.id);
    assert.deepEqual(
      tasks.all.map((h) => h.task.id),
      [a.task.id],
    );
    assert.equal(tasks.totals().processed, 23);
    assert.equal(tasks.totals().produced, 23);

    // Discarding the same handle again (a late batch of it) counts it once.
    await tasks.discard(b, new Error('again'));
    // Its successor counts on top.
    const b2 = await tasks.handleFor({ topic: 'in', partition: 1 });
    b2.task.process('in', 1, records(2));
    await tasks.closeAll();
    assert.equal(tasks.totals().processed, 25);
  });

  it('are exported as worker-wide counters that survive the task series', async () => {
    const metrics = createMetrics({
      app: 'totals',
      guarantee: 'at_least_once',
      defaultMetrics: false,
    });
    const snapshot: RuntimeSnapshot = {
      tasks: [],
      totals: {
        processed: 25,
        produced: 23,
        deadLettered: 0,
        skipped: 0,
        late: 0,
        restored: 9,
        wiped: 1,
      },
      rebalances: 1,
      restoring: 0,
      ready: true,
    };
    metrics.observe(() => snapshot);
    const { body } = await metrics.render();
    assert.ok(body.includes('tributary_worker_records_processed_total{app="totals"} 25'), body);
    assert.ok(body.includes('tributary_worker_records_produced_total{app="totals"} 23'));
    assert.ok(body.includes('tributary_state_wipes_total{app="totals"} 1'));
  });
});
