// The test driver runs a topology through the worker's own code: batches of several records,
// commits that turn store changes into changelog records, restart() from those records alone
// (so state the changelog's JSON cannot hold is lost there, as in production), manual commits
// whose uncommitted work a restart drops, external sinks captured at commit, punctuation on the
// manual wall clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ExternalSink } from '../../src/core/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import type { LostState } from '../../src/testing/index.ts';
import { encodingLoss } from '../../src/testing/state-survival.ts';
import { minutes, summary, topology, tumbling } from '../../src/topology/index.ts';
import type { Plan, Summary, Windowed } from '../../src/topology/index.ts';

const numbers = { key: string(), value: json<number>() };

/** A running count per key, emitted after every update. */
function countTopology(appId: string): Plan {
  const t = topology(appId);
  t.stream('in', numbers, { name: 'in' })
    .groupByKey()
    .aggregate({ init: () => 0, add: (n: number) => n + 1 }, { store: 'counts', name: 'count' })
    .to('out', numbers, { name: 'to-out' });
  return t.build().plan;
}

const changelogOf = (plan: Plan, store: string): string => {
  const spec = plan.subtopologies.flatMap((s) => s.stores).find((s) => s.name === store);
  assert.ok(spec !== undefined, `store ${store}`);
  return spec.changelogTopic;
};

describe('test driver: batches and commits', () => {
  it('processes piped records in batches: a batch writes one changelog record per key changed', async () => {
    const plan = countTopology('drv-batches');
    const driver = await createTestDriver({ plan }, { batchSize: 4 });
    const input = driver.input('in', numbers);
    for (let i = 0; i < 10; i++) input.pipe('k', i);
    assert.deepEqual(driver.output('out', numbers).readValues(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Batches of 4, 4 and 2: the store's write cache keeps the last value of each.
    const changelog = driver.written(changelogOf(plan, 'counts'));
    assert.deepEqual(
      changelog.map((r) => r.value?.toString()),
      ['4', '8', '10'],
    );
    assert.equal(driver.stats().processed, 10);
  });

  it('restart() rebuilds the stores from the changelog records and goes on from them', async () => {
    const plan = countTopology('drv-restart');
    const driver = await createTestDriver({ plan }, { batchSize: 3, partitions: 2 });
    const input = driver.input('in', numbers);
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) input.pipe(key, 0);
    await driver.flush();
    assert.deepEqual(await driver.restart(), [], 'numbers survive the changelog');
    for (const key of ['a', 'b', 'c']) input.pipe(key, 0);
    const last = new Map(
      driver
        .output('out', numbers)
        .readAll()
        .map((r) => [r.key, r.value]),
    );
    assert.deepEqual(Object.fromEntries(last), { a: 4, b: 3, c: 2 });
    const stats = driver.stats();
    assert.equal(stats.processed, 9);
    assert.ok(stats.restored >= 3, `restored ${stats.restored} changelog records`);
  });

  for (const [kind, aggregator] of [
    [
      'a Map',
      {
        init: () => new Map<string, number>(),
        add: (seen: Map<string, number>, v: string) => seen.set(v, (seen.get(v) ?? 0) + 1),
        result: (seen: Map<string, number>) => seen.size,
      },
    ],
    [
      'a Date',
      {
        init: () => ({ first: null as Date | null, n: 0 }),
        add: (a: { first: Date | null; n: number }, v: string) => ({
          first: a.first ?? new Date(Date.parse(v)),
          n: a.n + 1,
        }),
        result: (a: { first: Date | null; n: number }) => (a.first?.getTime() ?? 0) + a.n,
      },
    ],
  ] as const) {
    it(`an aggregate holding ${kind} loses it across restart(), as a worker's restore would`, async () => {
      const build = (appId: string): Plan => {
        const t = topology(appId);
        t.stream('in', { key: string(), value: json<string>() }, { name: 'in' })
          .groupByKey()
          .aggregate(
            aggregator as unknown as {
              init: () => unknown;
              add: (a: unknown, v: string) => unknown;
              result: (a: unknown) => number;
            },
            { store: 'state', name: 'agg' },
          )
          .to('out', numbers, { name: 'to-out' });
        return t.build().plan;
      };
      const values = ['2026-01-01', '2026-01-02', '2026-01-03'];
      const run = async (restartAfter: number | undefined) => {
        const driver = await createTestDriver({ plan: build(`drv-${kind.length}`) });
        const input = driver.input('in', { key: string(), value: json<string>() });
        for (const [i, v] of values.entries()) {
          input.pipe('k', v);
          if (i + 1 === restartAfter) {
            await driver.flush();
            lost.push(...(await driver.restart()));
          }
        }
        return driver;
      };
      const lost: LostState[] = [];
      const straight = await run(undefined);
      const restarted = await run(2);
      // restart() says what came back different, and how.
      assert.deepEqual(lost, [
        {
          task: '0_0',
          store: 'state',
          key: 'k',
          reason:
            kind === 'a Map'
              ? 'value: a Map became {}'
              : 'value.first: a Date became the string "2026-01-01T00:00:00.000Z"',
        },
      ]);
      const expected = straight.output('out', numbers).readValues();
      assert.equal(expected.length, 3, 'without a restart every record counts');
      // The changelog holds the aggregate as JSON: a Map is `{}`, a Date a string.
      const stored = restarted.written('drv-' + kind.length + '-state-changelog');
      assert.ok(stored.length > 0);
      assert.ok(
        kind === 'a Map'
          ? stored.every((r) => r.value?.toString() === '{}')
          : stored.every((r) => /"first":"2026-01-01T00:00:00.000Z"/.test(String(r.value))),
        String(stored[0]?.value),
      );
      // After the restart the restored aggregate is not what the code expects: the record fails
      // and goes to the dead-letter topic, and the result differs from the run without restart.
      const got = restarted.output('out', numbers).readValues();
      assert.deepEqual(got, expected.slice(0, 2));
      const dead = restarted.written(`drv-${kind.length}-dlq`);
      assert.equal(dead.length, 1);
      assert.equal(dead[0]?.headers[deadLetterHeaders.code], 'OPERATOR_FAILED');
      assert.match(String(dead[0]?.headers[deadLetterHeaders.message]), /is not a function/);
    });
  }

  it("commit: 'manual' shows outputs only once committed, and restart() drops what was not", async () => {
    const written: string[] = [];
    const sink: ExternalSink<string, number> = {
      name: 'memory-sink',
      open: () => Promise.resolve(),
      write: (records) => {
        written.push(...records.map((r) => r.key));
        return Promise.reject(new Error('the driver must not call the sink'));
      },
      close: () => Promise.resolve(),
    };
    const t = topology('drv-manual');
    const counts = t
      .stream('in', numbers, { name: 'in' })
      .groupByKey()
      .aggregate({ init: () => 0, add: (n: number) => n + 1 }, { store: 'counts', name: 'count' });
    counts.to('out', numbers, { name: 'to-out' });
    counts.sinkTo(sink, { name: 'to-sink' });
    const driver = await createTestDriver(t.build(), { commit: 'manual', batchSize: 2 });
    const input = driver.input('in', numbers);
    const out = driver.output('out', numbers);
    for (const key of ['a', 'a', 'b']) input.pipe(key, 0);
    await driver.flush();
    assert.deepEqual(out.readValues(), [], 'processed, not committed');
    assert.deepEqual(driver.sunk('memory-sink'), []);
    driver.commit();
    assert.deepEqual(out.readValues(), [1, 2, 1]);
    for (const key of ['a', 'b']) input.pipe(key, 0);
    await driver.flush();
    // A crash now: the two records' outputs, store changes and sink records are lost, and the
    // new tasks fetch them again from the committed offsets.
    await driver.restart();
    assert.deepEqual(out.readValues(), [1, 2, 1]);
    await driver.flush();
    driver.commit();
    assert.deepEqual(out.readValues(), [1, 2, 1, 3, 2], 'each record counted once');
    assert.deepEqual(
      driver.sunk<string, number>('memory-sink').map((r) => [r.key, r.value]),
      [
        ['a', 1],
        ['a', 2],
        ['b', 1],
        ['a', 3],
        ['b', 2],
      ],
    );
    assert.deepEqual(written, []);
    await driver.close();
  });

  it('advanceWallClock runs punctuation: an idle partition closes its windows', async () => {
    const t = topology('drv-idle');
    t.stream('in', numbers, { name: 'in' })
      .groupByKey()
      .windowedBy(tumbling(minutes(1), { grace: 0 }))
      .aggregate(
        summary((v: number) => v),
        { store: 'w', name: 'w', idleTimeoutMs: 10_000 },
      )
      .to('out', { key: string(), value: json<Windowed<string, Summary>>() });
    const driver = await createTestDriver(t.build(), { startTime: 0 });
    const input = driver.input('in', numbers);
    input.pipe('k', 5, { timestamp: 1000 });
    input.pipe('k', 7, { timestamp: 2000 });
    const out = driver.output('out', {
      key: string(),
      value: json<Windowed<string, Summary>>(),
    });
    assert.deepEqual(out.readValues(), [], 'the window is open');
    driver.advanceWallClock(5 * 60_000);
    assert.deepEqual(
      out.readValues().map((w) => [w.key, w.start, w.value.count]),
      [['k', 0, 2]],
    );
  });

  it('names what a value loses through the JSON of the changelog, and only that', () => {
    const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;
    class Window {
      constructor(readonly start: number) {}
    }
    const cases: [unknown, string | undefined][] = [
      [{ n: 1, list: [1, 'a', { x: null }], missing: undefined }, undefined],
      [[0, -0, 'x'], undefined],
      [{ min: Infinity }, 'value.min: Infinity became null'],
      [[1, Number.NaN], 'value[1]: NaN became null'],
      [{ seen: new Set([1]) }, 'value.seen: a Set became {}'],
      [{ w: new Window(5) }, 'value.w: a Window became {"start":5}'],
      [[undefined], 'value[0]: undefined became null'],
    ];
    for (const [value, loss] of cases) assert.equal(encodingLoss(value, json(value)), loss);
  });
});
