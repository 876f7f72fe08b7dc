import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';
import { node, shape } from './topology-fixtures.ts';
import type { Plan, TopologyBuilder } from '../../src/topology/index.ts';

interface Reading {
  station: string;
  ok: boolean;
  celsius: number;
}

const readingSerdes = { key: string(), value: json<Reading>() };
const numberSerdes = { key: string(), value: json<number>() };

function linear(): TopologyBuilder {
  const t = topology('weather');
  t.stream('readings', readingSerdes, { name: 'readings' })
    .filter((_key, value) => value.ok, { name: 'only-ok', onError: 'skip' })
    .mapValues((value) => value.celsius)
    .to('celsius', numberSerdes);
  return t;
}

const topologyInvalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof TributaryError &&
  error.code === 'TOPOLOGY_INVALID' &&
  pattern.test(error.message);

describe('topology plan', () => {
  it('compiles a linear topology into one sub-topology with its topics', () => {
    const { plan } = linear().build();
    assert.deepEqual(shape(plan), [
      {
        id: 0,
        sources: ['readings'],
        nodes: [
          'readings:source -> [only-ok]',
          'only-ok:filter -> [map-values-2]',
          'map-values-2:mapValues -> [sink-3]',
          'sink-3:sink -> []',
        ],
      },
    ]);
    assert.deepEqual(plan.sourceTopics, ['readings']);
    assert.deepEqual(plan.sinkTopics, ['celsius']);
    assert.equal(plan.dlqTopic, 'weather-dlq');
    assert.deepEqual(plan.internalTopics, [
      { name: 'weather-dlq', kind: 'dlq', partitionsFrom: ['readings'] },
    ]);
    const sub = plan.subtopologies[0];
    assert.deepEqual(sub?.sourceTopics, ['readings']);
    assert.deepEqual(sub?.sinkTopics, ['celsius']);
  });

  it('keeps each operator function, serde and error policy in the plan', () => {
    const t = topology('weather');
    const isOk = (_key: string, value: Reading): boolean => value.ok;
    t.stream('readings', readingSerdes)
      .filter(isOk, { name: 'f', onError: 'fail' })
      .peek(() => {});
    const { plan } = t.build();
    const filter = node(plan, 'f');
    assert.equal(filter.kind === 'filter' && filter.fn, isOk);
    assert.equal(filter.onError, 'fail');
    assert.equal(node(plan, 'peek-2').onError, 'dlq');
    const source = node(plan, 'source-0');
    assert.ok(source.kind === 'source');
    assert.equal(source.value, readingSerdes.value);
    assert.equal(source.internal, false);
  });

  it('derives the same names when the same code is built twice', () => {
    const names = (plan: Plan): string[] =>
      plan.subtopologies.flatMap((sub) => sub.nodes.map((n) => n.name));
    const build = (): Plan => {
      const t = topology('weather');
      const s = t.stream('readings', readingSerdes);
      s.map((key, value) => [value.station, key] as const).flatMap((key, value) => [[key, value]]);
      s.peek(() => {}).to('out', readingSerdes);
      return t.build().plan;
    };
    const first = names(build());
    assert.deepEqual(first, ['source-0', 'map-1', 'flat-map-2', 'peek-3', 'sink-4']);
    assert.deepEqual(names(build()), first);
  });

  it('rejects a name used twice, naming both operators', () => {
    const t = topology('weather');
    const s = t.stream('readings', readingSerdes);
    s.filter((_key, value) => value.ok, { name: 'clean' });
    s.peek(() => {});
    s.map((key, value) => [key, value] as const, { name: 'clean' });
    assert.throws(
      () => t.build(),
      topologyInvalid(/'clean' is used twice: by filter \(operator #1\) and map \(operator #3\)/),
    );
  });

  it('rejects a topology without a source', () => {
    assert.throws(() => topology('empty').build(), topologyInvalid(/has no source/));
  });

  it('accepts a source nothing reads from', () => {
    const t = topology('weather');
    t.stream('readings', readingSerdes);
    assert.deepEqual(shape(t.build().plan), [
      { id: 0, sources: ['source-0'], nodes: ['source-0:source -> []'] },
    ]);
  });

  it('rejects a topic read by two sources', () => {
    const t = topology('weather');
    t.stream('readings', readingSerdes);
    t.stream('readings', readingSerdes, { name: 'again' });
    assert.throws(() => t.build(), topologyInvalid(/'readings' is read by two sources/));
  });

  it('rejects a user sink writing an internal topic', () => {
    const t = topology('weather');
    t.stream('readings', readingSerdes).to('weather-dlq', readingSerdes);
    assert.throws(() => t.build(), topologyInvalid(/'weather-dlq' .* is an internal topic/));
  });
});
