import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { counter, max, mean, min, sum, summary, tumbling } from '../../src/topology/index.ts';
import type { Aggregator } from '../../src/topology/index.ts';
import { aggregateSpec, Harness, windowed } from './window-fixtures.ts';
import type { Reading } from './window-fixtures.ts';

const values = [4, -2.5, 7, 0, 1.25];

/** Folds values with add, passing each aggregate through JSON as the store's codec does. */
function fold<A, R>(aggregator: Aggregator<unknown, number, A, R>, items: number[]): A {
  let aggregate = aggregator.init();
  for (const item of items) {
    aggregate = JSON.parse(JSON.stringify(aggregator.add(aggregate, item, 'k'))) as A;
  }
  return aggregate;
}

function check<A, R>(aggregator: Aggregator<unknown, number, A, R>, expected: unknown): void {
  const result = (a: A): unknown => (aggregator.result === undefined ? a : aggregator.result(a));
  assert.deepEqual(result(fold(aggregator, values)), expected);
  // Merging the aggregates of two halves gives the aggregate of the whole.
  const merge = aggregator.merge;
  assert.ok(merge);
  const merged = merge(fold(aggregator, values.slice(0, 2)), fold(aggregator, values.slice(2)));
  assert.deepEqual(result(merged), expected);
  assert.deepEqual(result(merge(aggregator.init(), fold(aggregator, values))), expected);
  assert.deepEqual(result(merge(fold(aggregator, values), aggregator.init())), expected);
}

const identity = (value: number): number => value;

describe('built-in aggregators', () => {
  it('counts', () => check(counter(), 5));
  it('sums', () => check(sum(identity), 9.75));
  it('takes the minimum', () => check(min(identity), -2.5));
  it('takes the maximum', () => check(max(identity), 7));
  it('takes the mean', () => check(mean(identity), 1.95));
  it('summarises count, sum, min, max and mean together', () =>
    check(summary(identity), { count: 5, sum: 9.75, min: -2.5, max: 7, mean: 1.95 }));

  it('keeps aggregates that survive JSON (no Infinity) before the first value', () => {
    for (const aggregator of [min(identity), max(identity), summary(identity), mean(identity)]) {
      const initial: unknown = aggregator.init();
      assert.deepEqual(JSON.parse(JSON.stringify(initial)), initial);
    }
  });

  it('runs each built-in in a windowed aggregation over a store', () => {
    const run = <A, R>(aggregator: Aggregator<string, Reading, A, R>): unknown => {
      const h = new Harness(
        aggregateSpec((g) =>
          g.windowedBy(tumbling(1_000)).aggregate(aggregator, { store: 's', name: 'agg' }),
        ),
      );
      for (const [i, celsius] of values.entries()) h.send('k', i, celsius);
      h.send('k', 1_000);
      return h.take().map(windowed)[0]?.[3];
    };
    const celsius = (r: Reading): number => r.celsius;
    const results = [
      run(counter()),
      run(sum(celsius)),
      run(min(celsius)),
      run(max(celsius)),
      run(mean(celsius)),
    ];
    assert.deepEqual(results, [5, 9.75, -2.5, 7, 1.95]);
  });
});
