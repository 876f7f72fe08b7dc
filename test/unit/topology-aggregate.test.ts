import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { json, string } from '../../src/serde/index.ts';
import {
  counter,
  days,
  hopping,
  hours,
  minutes,
  seconds,
  session,
  summary,
  topology,
  tumbling,
} from '../../src/topology/index.ts';
import type { Summary, Topology, Windowed, WindowSpec } from '../../src/topology/index.ts';
import { node, shape } from './topology-fixtures.ts';

interface Reading {
  station: string;
  celsius: number;
  time: number;
}

const readingSerdes = { key: string(), value: json<Reading>() };
const hourlySerdes = { key: string(), value: json<Windowed<string, Summary>>() };

const topologyInvalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof TributaryError &&
  error.code === 'TOPOLOGY_INVALID' &&
  pattern.test(error.message);

/** Hourly summaries per station, read by event time, after a repartition by station. */
function hourly(): Topology {
  const t = topology('app');
  t.stream('readings', readingSerdes, { name: 'readings', timestamp: 'time' })
    .groupBy((_key, value) => value.station, { name: 'by-station', ...readingSerdes })
    .windowedBy(tumbling(hours(1), { grace: minutes(5) }))
    .aggregate(
      summary((r) => r.celsius),
      { store: 'hourly-stats', name: 'hourly' },
    )
    .to('hourly', hourlySerdes, { name: 'hourly-out' });
  return t.build();
}

const lines = (...text: string[]): string => text.join('\n');

describe('grouping and aggregation in the plan', () => {
  it('puts a groupBy aggregation in the sub-topology after the repartition, with its store', () => {
    const { plan } = hourly();
    assert.deepEqual(shape(plan), [
      {
        id: 0,
        sources: ['readings'],
        nodes: [
          'readings:source -> [by-station]',
          'by-station:selectKey -> [by-station-repartition-sink]',
          'by-station-repartition-sink:sink -> []',
        ],
      },
      {
        id: 1,
        sources: ['by-station-repartition-source'],
        nodes: [
          'by-station-repartition-source:source -> [hourly]',
          'hourly:aggregate -> [hourly-out]',
          'hourly-out:sink -> []',
        ],
      },
    ]);
    const store = { name: 'hourly-stats', changelogTopic: 'app-hourly-stats-changelog' };
    assert.deepEqual(plan.subtopologies[0]?.stores, []);
    assert.deepEqual(plan.subtopologies[1]?.stores, [store]);
    const aggregate = node(plan, 'hourly');
    assert.ok(aggregate.kind === 'process' && aggregate.label === 'aggregate');
    assert.deepEqual(aggregate.stores, [store]);
    assert.deepEqual(aggregate.window, { type: 'tumbling', sizeMs: 3_600_000, graceMs: 300_000 });
    assert.equal(aggregate.emit, 'final');
    assert.equal(aggregate.idleTimeoutMs, undefined);
    assert.equal(aggregate.key, readingSerdes.key);
    assert.equal(aggregate.onError, 'dlq');
    assert.deepEqual(plan.internalTopics, [
      { name: 'app-by-station-repartition', kind: 'repartition', partitionsFrom: ['readings'] },
      { name: 'app-dlq', kind: 'dlq', partitionsFrom: ['readings'] },
      { name: 'app-hourly-stats-changelog', kind: 'changelog', partitionsFrom: ['readings'] },
    ]);
  });

  it('aggregates by the source key in the same sub-topology with groupByKey', () => {
    const t = topology('app');
    const a = t.stream('a', readingSerdes);
    const b = t.stream('b', readingSerdes);
    t.stream('c', readingSerdes);
    a.merge(b)
      .filter((_key, value) => value.celsius > -100)
      .mapValues((value) => value)
      .groupByKey()
      .count({ store: 'counts' });
    const { plan } = t.build();
    const count = node(plan, 'counts');
    assert.ok(count.kind === 'process' && count.label === 'aggregate');
    assert.equal(count.key, readingSerdes.key);
    assert.equal(count.window, undefined);
    assert.equal(count.emit, 'updates');
    assert.deepEqual(plan.subtopologies[0]?.stores, [
      { name: 'counts', changelogTopic: 'app-counts-changelog' },
    ]);
    assert.deepEqual(plan.internalTopics.at(-1), {
      name: 'app-counts-changelog',
      kind: 'changelog',
      partitionsFrom: ['a', 'b'],
    });
  });

  it('names the aggregation after its store unless given a name', () => {
    const t = topology('app');
    const grouped = t.stream('a', readingSerdes).groupByKey();
    grouped.count({ store: 'counts' });
    grouped.aggregate(counter(), { store: 'other', name: 'named', onError: 'fail' });
    const { plan } = t.build();
    const counts = node(plan, 'counts');
    assert.ok(counts.kind === 'process' && counts.label === 'aggregate');
    assert.equal(node(plan, 'named').onError, 'fail');
  });

  it('keeps the aggregator, emit and idle timeout of a windowed aggregation', () => {
    const t = topology('app');
    const stats = summary((r: Reading) => r.celsius);
    t.stream('a', readingSerdes)
      .groupByKey()
      .windowedBy(hopping(minutes(10), minutes(5)))
      .aggregate(stats, { store: 's', emit: 'updates', idleTimeoutMs: 30_000 });
    const aggregate = node(t.build().plan, 's');
    assert.ok(aggregate.kind === 'process' && aggregate.label === 'aggregate');
    assert.equal(aggregate.aggregator, stats);
    assert.equal(aggregate.emit, 'updates');
    assert.equal(aggregate.idleTimeoutMs, 30_000);
  });

  it('stores the timestamp extractor on the source, called (key, value, recordTimestamp)', () => {
    const t = topology('app');
    t.stream('a', readingSerdes, { timestamp: (value, key, ts) => value.time + key.length + ts });
    t.stream('b', readingSerdes, { timestamp: 'time' });
    t.stream('c', readingSerdes);
    const { plan } = t.build();
    const reading = { station: 's', celsius: 1, time: 1000 };
    const [a, b, c] = ['source-0', 'source-1', 'source-2'].map((name) => node(plan, name));
    assert.ok(a?.kind === 'source' && b?.kind === 'source' && c?.kind === 'source');
    assert.equal(a.timestamp?.('key', reading, 5), 1008);
    assert.equal(b.timestamp?.('key', reading, 5), 1000);
    assert.equal(b.timestamp?.('key', { ...reading, time: '2000' }, 5), 2000);
    assert.throws(
      () => b.timestamp?.('key', { station: 's' }, 5),
      (error: unknown) =>
        error instanceof TributaryError && /timestamp field 'time'.* topic b/.test(error.message),
    );
    assert.equal('timestamp' in c, false);
  });
});

describe('aggregations that do not build', () => {
  it('rejects an invalid or missing store name', () => {
    const grouped = topology('app').stream('a', readingSerdes).groupByKey();
    assert.throws(() => grouped.count({ store: 'my store' }), topologyInvalid(/store name/));
    assert.throws(() => grouped.count({ store: '' }), topologyInvalid(/store name/));
    const untyped = grouped.count as (options: object) => unknown;
    assert.throws(() => untyped.call(grouped, {}), topologyInvalid(/needs a store name/));
  });

  it('rejects a store name whose changelog topic would be too long', () => {
    const grouped = topology('app').stream('a', readingSerdes).groupByKey();
    assert.throws(
      () => grouped.count({ store: 's'.repeat(240), name: 'n' }),
      topologyInvalid(/changelog topic/),
    );
  });

  it('rejects a store used by two aggregations, naming both', () => {
    const t = topology('app');
    const grouped = t.stream('a', readingSerdes).groupByKey();
    grouped.count({ store: 'counts', name: 'first' });
    grouped.windowedBy(tumbling(seconds(10))).count({ store: 'counts', name: 'second' });
    assert.throws(
      () => t.build(),
      topologyInvalid(/'counts' is used twice: by aggregate 'first' .* and aggregate 'second'/),
    );
  });

  it('rejects a user topic named like a changelog topic', () => {
    const t = topology('app');
    const s = t.stream('a', readingSerdes);
    s.groupByKey().count({ store: 'counts' });
    s.to('app-counts-changelog', readingSerdes);
    assert.throws(() => t.build(), topologyInvalid(/is an internal topic/));
  });

  it('rejects groupByKey after an operator that may change the key', () => {
    const s = topology('app').stream('a', readingSerdes);
    const mapped = s.map((key, value) => [key, value] as const, { name: 'rekey' });
    assert.throws(() => mapped.groupByKey(), topologyInvalid(/after map 'rekey'.*groupBy/));
    assert.throws(
      () => mapped.filter(() => true).groupByKey({ key: string() }),
      topologyInvalid(/after map 'rekey'/),
    );
  });

  it('rejects session windows with an aggregator that cannot merge', () => {
    const grouped = topology('app').stream('a', readingSerdes).groupByKey();
    const window = session(minutes(1)) as WindowSpec; // the type no longer says session
    assert.throws(
      () =>
        grouped
          .windowedBy(window)
          .aggregate({ init: () => 0, add: (n: number) => n + 1 }, { store: 's' }),
      topologyInvalid(/session windows.*merge/),
    );
  });

  it('rejects invalid windows, emit modes and idle timeouts', () => {
    assert.throws(() => tumbling(0), topologyInvalid(/size of a tumbling window/));
    assert.throws(() => tumbling(1.5), topologyInvalid(/whole number/));
    assert.throws(() => tumbling(1000, { grace: -1 }), topologyInvalid(/grace/));
    assert.throws(() => hopping(1000, 2000), topologyInvalid(/must not exceed its size/));
    assert.throws(() => hopping(1000, 0), topologyInvalid(/advance/));
    assert.throws(() => session(-5), topologyInvalid(/gap/));
    const grouped = topology('app').stream('a', readingSerdes).groupByKey();
    const bad = { type: 'tumbling', sizeMs: -1, graceMs: 0, windowStarts: () => [] } as const;
    assert.throws(() => grouped.windowedBy(bad), topologyInvalid(/size/));
    // A plain object without windowStarts is no window kind (the type says so too).
    const noStarts = { type: 'tumbling', sizeMs: 1000, graceMs: 0 } as unknown as WindowSpec;
    assert.throws(() => grouped.windowedBy(noStarts), topologyInvalid(/windowStarts/));
    const windowed = grouped.windowedBy(tumbling(1000));
    assert.throws(
      () => windowed.count({ store: 's', idleTimeoutMs: 0 }),
      topologyInvalid(/idleTimeoutMs/),
    );
    const untyped = windowed.count as (options: object) => unknown;
    assert.throws(
      () => untyped.call(windowed, { store: 's', emit: 'sometimes' }),
      topologyInvalid(/emit/),
    );
  });

  it('converts time units to milliseconds', () => {
    assert.deepEqual(
      [seconds(2), minutes(1.5), hours(1), days(1)],
      [2000, 90_000, 3_600_000, 86_400_000],
    );
    assert.deepEqual(hopping(hours(1), minutes(5), { grace: seconds(30) }), {
      type: 'hopping',
      sizeMs: 3_600_000,
      advanceMs: 300_000,
      graceMs: 30_000,
    });
  });
});

describe('describe() of aggregations', () => {
  it('shows the store and window of an aggregation, and its changelog topic', () => {
    assert.equal(
      hourly().describe().text,
      lines(
        'Topology: app',
        '  Sub-topology 0',
        '    Source: readings (topics: readings)',
        '      --> by-station',
        '    Processor: by-station (selectKey)',
        '      --> by-station-repartition-sink',
        '      <-- readings',
        '    Sink: by-station-repartition-sink (topic: app-by-station-repartition)',
        '      <-- by-station',
        '  Sub-topology 1',
        '    Source: by-station-repartition-source (topics: app-by-station-repartition)',
        '      --> hourly',
        '    Processor: hourly (aggregate, store: hourly-stats, window: tumbling 3600000 ms, grace 300000 ms)',
        '      --> hourly-out',
        '      <-- by-station-repartition-source',
        '    Sink: hourly-out (topic: hourly)',
        '      <-- hourly',
        'Topics read: readings',
        'Topics written: hourly',
        'Internal topics: app-by-station-repartition (repartition), app-dlq (dead letters), app-hourly-stats-changelog (changelog)',
      ),
    );
  });

  it('shows hopping and session windows, emit updates, idle timeouts and plain stores', () => {
    const t = topology('app');
    const grouped = t.stream('a', readingSerdes, { name: 'a' }).groupByKey();
    grouped
      .windowedBy(hopping(60_000, 10_000))
      .count({ store: 'h', emit: 'updates', idleTimeoutMs: 5000 });
    grouped.windowedBy(session(30_000, { grace: 1000 })).count({ store: 's' });
    grouped.count({ store: 'c' });
    const text = t.build().describe().text;
    assert.match(
      text,
      /Processor: h \(aggregate, store: h, window: hopping 60000 ms advance 10000 ms, grace 0 ms, emit: updates, idle timeout: 5000 ms\)/,
    );
    assert.match(
      text,
      /Processor: s \(aggregate, store: s, window: session gap 30000 ms, grace 1000 ms\)/,
    );
    assert.match(text, /Processor: c \(aggregate, store: c\)\n/);
  });

  it('draws a store in its sub-topology, joined to its operator', () => {
    const { mermaid } = hourly().describe();
    const sub1 = mermaid.slice(mermaid.indexOf('subgraph sub1'));
    assert.match(sub1, /^ {4}op_hourly\["hourly<br\/>aggregate"\]$/m);
    assert.match(
      sub1,
      /^ {4}store_hourly_stats\[\("hourly-stats<br\/>store"\)\]\n {4}op_hourly_out/m,
    );
    assert.match(mermaid, /^ {2}op_hourly -\.- store_hourly_stats$/m);
    assert.equal(hourly().describe().mermaid, mermaid);
  });
});
