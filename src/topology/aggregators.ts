/**
 * How an aggregation folds a key's values (V) into an aggregate (A), and what it emits (R).
 *
 * Aggregates live in a store whose changelog and RocksDB hold them as JSON, so an A must come
 * back from `JSON.parse(JSON.stringify(a))` equal to itself: plain objects, arrays, strings,
 * booleans, null and finite numbers (no Infinity, NaN, undefined, Map or Date).
 *
 * Members are function properties rather than methods so TypeScript checks their parameters
 * strictly (as for Serde): an aggregator of numbers does not fit a stream of readings.
 */
export interface Aggregator<K, V, A, R = A> {
  /** The aggregate before the first value. */
  readonly init: () => A;
  /** The aggregate with one more value. Return a new aggregate rather than changing this one. */
  readonly add: (aggregate: A, value: V, key: K) => A;
  /** Two aggregates as one (when a record joins two sessions); session windows require it. */
  readonly merge?: (left: A, right: A) => A;
  /** What is emitted for an aggregate; without it, the aggregate itself (then R is A). */
  readonly result?: (aggregate: A) => R;
}

/** An aggregator that can merge aggregates, as session windows need. */
export type MergingAggregator<K, V, A, R = A> = Aggregator<K, V, A, R> & {
  readonly merge: (left: A, right: A) => A;
};

/** What summary() emits. `mean` is `sum / count`. */
export interface Summary {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
}

/** summary()'s aggregate: `min` and `max` are meaningless while `count` is 0. */
export type SummaryAggregate = Omit<Summary, 'mean'>;

/** mean()'s aggregate. */
export interface MeanAggregate {
  count: number;
  sum: number;
}

/** The number of records. */
export function counter(): MergingAggregator<unknown, unknown, number> {
  return { init: () => 0, add: (count) => count + 1, merge: (a, b) => a + b };
}

/** The sum of `fn(value)`. */
export function sum<V>(fn: (value: V) => number): MergingAggregator<unknown, V, number> {
  return { init: () => 0, add: (total, value) => total + fn(value), merge: (a, b) => a + b };
}

// min and max start from null, not ±Infinity, which JSON would turn into null anyway.
const extreme =
  (pick: (a: number, b: number) => number) =>
  <V>(fn: (value: V) => number): MergingAggregator<unknown, V, number | null, number> => ({
    init: () => null,
    add: (current, value) => (current === null ? fn(value) : pick(current, fn(value))),
    merge: (a, b) => (a === null ? b : b === null ? a : pick(a, b)),
    result: (current) => current ?? Number.NaN,
  });

/** The smallest `fn(value)`. */
export const min: <V>(
  fn: (value: V) => number,
) => MergingAggregator<unknown, V, number | null, number> = extreme(Math.min);

/** The largest `fn(value)`. */
export const max: <V>(
  fn: (value: V) => number,
) => MergingAggregator<unknown, V, number | null, number> = extreme(Math.max);

/** The arithmetic mean of `fn(value)`. */
export function mean<V>(
  fn: (value: V) => number,
): MergingAggregator<unknown, V, MeanAggregate, number> {
  return {
    init: () => ({ count: 0, sum: 0 }),
    add: (a, value) => ({ count: a.count + 1, sum: a.sum + fn(value) }),
    merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
    result: (a) => a.sum / a.count,
  };
}

/** Count, sum, min, max and mean of `fn(value)` in one aggregate. */
export function summary<V>(
  fn: (value: V) => number,
): MergingAggregator<unknown, V, SummaryAggregate, Summary> {
  return {
    init: () => ({ count: 0, sum: 0, min: 0, max: 0 }),
    add: (a, value) => {
      const x = fn(value);
      if (a.count === 0) return { count: 1, sum: x, min: x, max: x };
      return {
        count: a.count + 1,
        sum: a.sum + x,
        min: Math.min(a.min, x),
        max: Math.max(a.max, x),
      };
    },
    merge: (a, b) => {
      if (a.count === 0) return b;
      if (b.count === 0) return a;
      return {
        count: a.count + b.count,
        sum: a.sum + b.sum,
        min: Math.min(a.min, b.min),
        max: Math.max(a.max, b.max),
      };
    },
    result: (a) => ({ ...a, mean: a.sum / a.count }),
  };
}

/** reduce(fn) as an aggregator: the first value as it is, then `fn(aggregate, value)`. */
export function reducer<V>(
  fn: (left: V, right: V) => V,
): MergingAggregator<unknown, V, { value: V } | null, V> {
  // Wrapped, so a null or 0 value is not mistaken for "no value yet".
  return {
    init: () => null,
    add: (a, value) => ({ value: a === null ? value : fn(a.value, value) }),
    merge: (a, b) => (a === null ? b : b === null ? a : { value: fn(a.value, b.value) }),
    result: (a) => (a as { value: V }).value,
  };
}
