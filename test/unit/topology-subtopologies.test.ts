import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { json, string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';
import { node, shape } from './topology-fixtures.ts';

interface Reading {
  station: string;
  celsius: number;
}

const readingSerdes = { key: string(), value: json<Reading>() };

describe('sub-topologies', () => {
  it('splits at keyBy into two sub-topologies joined by <appId>-<name>-repartition', () => {
    const t = topology('weather');
    t.stream('readings', readingSerdes, { name: 'readings' })
      .keyBy((_key, value) => value.station, { name: 'by-station', ...readingSerdes })
      .mapValues((value) => value.celsius, { name: 'celsius' })
      .to('celsius', { key: string(), value: json<number>() });
    const { plan } = t.build();
    const topic = 'weather-by-station-repartition';
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
          'by-station-repartition-source:source -> [celsius]',
          'celsius:mapValues -> [sink-5]',
          'sink-5:sink -> []',
        ],
      },
    ]);
    assert.deepEqual(plan.subtopologies[0]?.sinkTopics, [topic]);
    assert.deepEqual(plan.subtopologies[1]?.sourceTopics, [topic]);
    const sink = node(plan, 'by-station-repartition-sink');
    assert.ok(sink.kind === 'sink' && sink.internal && sink.topic === topic);
    assert.equal(sink.key, readingSerdes.key);
    const source = node(plan, 'by-station-repartition-source');
    assert.ok(source.kind === 'source' && source.internal);
    assert.deepEqual(source.topics, [topic]);
    assert.equal(source.value, readingSerdes.value);
    // Repartition topics are internal: not among the user's topics.
    assert.deepEqual(plan.sourceTopics, ['readings']);
    assert.deepEqual(plan.sinkTopics, ['celsius']);
    assert.deepEqual(plan.internalTopics, [
      { name: topic, kind: 'repartition', partitionsFrom: ['readings'] },
      { name: 'weather-dlq', kind: 'dlq', partitionsFrom: ['readings'] },
    ]);
  });

  it('traces partitionsFrom through chained repartitions to the user source topics', () => {
    const t = topology('app');
    const a = t.stream('a', readingSerdes);
    t.stream('b', readingSerdes); // not upstream of anything below
    a.selectKey((key) => key, { name: 'first', ...readingSerdes })
      .keyBy((_key, value) => value.station, { name: 'second', ...readingSerdes })
      .to('out', readingSerdes);
    const { plan } = t.build();
    assert.deepEqual(plan.internalTopics, [
      { name: 'app-first-repartition', kind: 'repartition', partitionsFrom: ['a'] },
      { name: 'app-second-repartition', kind: 'repartition', partitionsFrom: ['a'] },
      { name: 'app-dlq', kind: 'dlq', partitionsFrom: ['a', 'b'] },
    ]);
    // Ids follow the creation order of each sub-topology's first source.
    assert.deepEqual(
      plan.subtopologies.map((sub) => sub.sources),
      [['source-0'], ['source-1'], ['first-repartition-source'], ['second-repartition-source']],
    );
  });

  it('puts two merged source topics in one sub-topology', () => {
    const t = topology('weather');
    const readings = t.stream('readings', readingSerdes);
    const forecasts = t.stream('forecasts', readingSerdes);
    readings.merge(forecasts, { name: 'all' }).to('all', readingSerdes);
    const { plan } = t.build();
    assert.deepEqual(shape(plan), [
      {
        id: 0,
        sources: ['source-0', 'source-1'],
        nodes: [
          'source-0:source -> [all]',
          'source-1:source -> [all]',
          'all:merge -> [sink-3]',
          'sink-3:sink -> []',
        ],
      },
    ]);
    assert.deepEqual(plan.subtopologies[0]?.sourceTopics, ['readings', 'forecasts']);
  });

  it('gives a merged repartition topic the source topics of both inputs', () => {
    const t = topology('app');
    const a = t.stream('a', readingSerdes);
    const b = t.stream('b', readingSerdes);
    a.merge(b).keyBy((_key, value) => value.station, { name: 'k', ...readingSerdes });
    const { plan } = t.build();
    assert.deepEqual(plan.internalTopics[0]?.partitionsFrom, ['a', 'b']);
  });

  it('rejects merging a stream with itself or with another topology', () => {
    const t = topology('app');
    const a = t.stream('a', readingSerdes);
    const other = topology('other').stream('a', readingSerdes);
    assert.throws(() => a.merge(a), /merged with itself/);
    assert.throws(() => a.merge(other), /another topology/);
  });

  it('gives a branch node one pass-through child per predicate, in order', () => {
    const t = topology('weather');
    const [hot, , rest] = t
      .stream('readings', readingSerdes)
      .branch(
        [(_key, value) => value.celsius > 30, (_key, value) => value.celsius < 0, () => true],
        { name: 'split' },
      );
    hot.to('hot', readingSerdes);
    rest.peek(() => {}).to('rest', readingSerdes);
    const { plan } = t.build();
    const branch = node(plan, 'split');
    assert.ok(branch.kind === 'branch');
    assert.equal(branch.predicates.length, 3);
    assert.deepEqual(branch.children, ['split-0', 'split-1', 'split-2']);
    assert.deepEqual(node(plan, 'split-0').children, ['sink-5']);
    assert.deepEqual(node(plan, 'split-1').children, []);
    assert.deepEqual(node(plan, 'split-2').children, ['peek-6']);
    assert.equal(node(plan, 'split-2').kind, 'merge');
  });

  it('rejects a branch without predicates', () => {
    const s = topology('app').stream('a', readingSerdes);
    assert.throws(() => s.branch([]), /at least one predicate/);
  });
});
