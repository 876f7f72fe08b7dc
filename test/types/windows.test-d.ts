// Type tests of grouping, windows and aggregations: compiled by `npm run typecheck`; each line
// marked @ts-expect-error must be an error and every other line must compile. Nothing here runs.
import type { AggregateSpec } from '../../src/operators/index.ts';
import { json, string } from '../../src/serde/index.ts';
import {
  counter,
  hopping,
  hours,
  mean,
  minutes,
  session,
  sliding,
  sum,
  summary,
  topology,
  tumbling,
} from '../../src/topology/index.ts';
import type {
  Aggregator,
  AggregateNode,
  Stream,
  SlidingWindow,
  Summary,
  TimeWindowKind,
  Windowed,
  WindowSpec,
} from '../../src/topology/index.ts';

interface Reading {
  station: string;
  celsius: number;
  time: number;
  label?: number;
}

const t = topology('types-windows');
const readings = t.stream(
  'readings',
  { key: string(), value: json<Reading>() },
  { timestamp: (value, _key, recordTimestamp) => value.time || recordTimestamp },
);
t.stream('by-field', { key: string(), value: json<Reading>() }, { timestamp: 'time' });
// @ts-expect-error the timestamp field must hold a number
t.stream('by-text', { key: string(), value: json<Reading>() }, { timestamp: 'station' });
// @ts-expect-error an optional field may be missing, so it is no timestamp
t.stream('by-optional', { key: string(), value: json<Reading>() }, { timestamp: 'label' });
// @ts-expect-error the extractor returns milliseconds
t.stream('by-date', { key: string(), value: json<Reading>() }, { timestamp: () => new Date() });

const grouped = readings.groupByKey();

// Non-windowed aggregations: count is a number, reduce keeps V, aggregate gives R.
const counts: Stream<string, number> = grouped.count({ store: 'counts' });
const warmest: Stream<string, Reading> = grouped.reduce(
  (a, b) => (a.celsius >= b.celsius ? a : b),
  { store: 'warmest' },
);
const means: Stream<string, number> = grouped.aggregate(
  mean((r) => r.celsius),
  { store: 'means' },
);
void counts;
void warmest;
void means;

// @ts-expect-error the store name is required: it names the changelog topic
grouped.count({ name: 'no-store' });
// @ts-expect-error the store name is required
grouped.count();
const sumOfNumbers = sum((value: number) => value);
// @ts-expect-error the aggregator sums numbers, the stream carries readings
grouped.aggregate(sumOfNumbers, { store: 'wrong-sum' });
// @ts-expect-error a reducer combines two values of the stream's type
grouped.reduce((a: number, b: number) => a + b, { store: 'wrong-reduce' });
// @ts-expect-error the reducer must return the value type
grouped.reduce((a) => a.celsius, { store: 'wrong-reduce-result' });

// A hand-written aggregator: A and R are inferred, and R flows on.
const labels: Aggregator<string, Reading, string[], string> = {
  init: () => [],
  add: (all, reading, key) => [...all, `${key}:${reading.station}`],
  result: (all) => all.join(','),
};
const joined: Stream<string, string> = grouped.aggregate(labels, { store: 'labels' });
void joined;
// @ts-expect-error the aggregator's key type is number, the stream's is string
grouped.aggregate({} as Aggregator<number, Reading, number>, { store: 'wrong-key' });

// Windowed output types flow: Windowed<K, R>.
const hourly = grouped.windowedBy(tumbling(hours(1), { grace: minutes(5) })).aggregate(
  summary((r) => r.celsius),
  { store: 'hourly-stats', name: 'hourly' },
);
const hourlyTyped: Stream<string, Windowed<string, Summary>> = hourly;
void hourlyTyped;
hourly
  .mapValues((w) => ({ station: w.key, from: w.start, to: w.end, mean: w.value.mean }))
  .to('hourly-means', {
    key: string(),
    value: json<{ station: string; from: number; to: number; mean: number }>(),
  });
// @ts-expect-error a Summary has no median
hourly.mapValues((w) => w.value.median);
// @ts-expect-error the sink's serde must be of Windowed<string, Summary>
hourly.to('hourly-wrong', { key: string(), value: json<Summary>() });

const hops: Stream<string, Windowed<string, number>> = grouped
  .windowedBy(hopping(hours(1), minutes(10)))
  .count({ store: 'hops', emit: 'updates', idleTimeoutMs: 60_000 });
void hops;
// @ts-expect-error emit is final or updates
grouped.windowedBy(tumbling(hours(1))).count({ store: 'x', emit: 'always' });
// @ts-expect-error a windowed aggregation needs a store name too
grouped.windowedBy(tumbling(hours(1))).count({ emit: 'final' });
// @ts-expect-error the windowed reducer combines readings
grouped.windowedBy(tumbling(hours(1))).reduce((a: string) => a, { store: 'wrong-window-reduce' });

// Session windows merge sessions: the aggregator needs merge (the built-ins have it).
const sessions = grouped.windowedBy(session(minutes(30)));
sessions.aggregate(
  sum((r) => r.celsius),
  { store: 'session-sums' },
);
sessions.count({ store: 'session-counts' });
sessions.reduce((a, b) => (a.time > b.time ? a : b), { store: 'session-last' });
sessions.aggregate(
  // @ts-expect-error an aggregator without merge cannot merge sessions
  { init: () => 0, add: (n: number) => n + 1 },
  { store: 'no-merge' },
);
// Time windows do not need merge.
grouped
  .windowedBy(tumbling(minutes(1)))
  .aggregate({ init: () => 0, add: (n: number) => n + 1 }, { store: 'no-merge-ok' });
// Sliding windows and a user's own kind are time windows: no merge needed either.
const slidingWindow: SlidingWindow = sliding(hours(1), minutes(10), { offset: minutes(5) });
const slides: Stream<string, Windowed<string, number>> = grouped
  .windowedBy(slidingWindow)
  .aggregate({ init: () => 0, add: (n: number) => n + 1 }, { store: 'sliding-no-merge' });
void slides;
// @ts-expect-error an offset is a number of milliseconds
sliding(hours(1), minutes(10), { offset: '5m' });
const ownKind: TimeWindowKind = {
  type: 'ten-from-five',
  sizeMs: minutes(15),
  graceMs: 0,
  windowStarts: (timestamp) => [timestamp - (timestamp % minutes(10))],
};
grouped
  .windowedBy(ownKind)
  .aggregate({ init: () => 0, add: (n: number) => n + 1 }, { store: 'own-kind-no-merge' });
// @ts-expect-error a time window kind says which windows a timestamp falls in
grouped.windowedBy({ type: 'tumbling', sizeMs: 1000, graceMs: 0 });
// @ts-expect-error windowStarts takes a timestamp and returns starts
grouped.windowedBy({ ...ownKind, windowStarts: (timestamp: number) => timestamp });
// A window typed only as WindowSpec is checked when the topology is built instead.
const someWindow = session(minutes(1)) as WindowSpec;
grouped.windowedBy(someWindow).aggregate(counter(), { store: 'checked-at-build' });

// groupBy re-keys (and repartitions): the key type and serde change.
const byCelsius = readings.groupBy((_key, value) => value.celsius, {
  name: 'by-celsius',
  key: json<number>(),
  value: json<Reading>(),
});
const countsByCelsius: Stream<number, number> = byCelsius.count({ store: 'by-celsius-counts' });
void countsByCelsius;
// @ts-expect-error the new key is a number, so a string key serde does not fit
readings.groupBy((_key, value) => value.celsius, { key: string(), value: json<Reading>() });
// @ts-expect-error groupBy repartitions, so it needs serdes
readings.groupBy((_key, value) => value.station);
// @ts-expect-error groupByKey's serde must encode the stream's key
readings.groupByKey({ key: json<number>() });

// The runtime passes the plan's aggregate node to the operator: it must fit the operator's spec.
declare const node: AggregateNode;
const spec: AggregateSpec = node;
void spec;

export const built = t.build();
