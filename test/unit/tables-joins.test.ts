// Tables and joins through the test driver (the worker's own task, commit and restore code):
// each kind against expectations worked out by hand from the input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { json, nullable, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import { joinWindow, topology } from '../../src/topology/index.ts';

interface Meta {
  offset: number;
  location: string;
}
interface Reading {
  t: number;
  v: number;
}
const s = string();
const meta = { key: s, value: json<Meta>() };
const readings = { key: s, value: json<Reading>() };

describe('tables and joins', () => {
  it('stream-table join sees the table as it is when the record is processed; deletes apply; restart restores from the topic', async () => {
    const t = topology('st');
    const table = t.table('meta', meta, { store: 'meta' });
    const stream = t.stream('readings', readings);
    stream
      .join(table, (r, m) => ({ v: r.v + m.offset, at: m.location }), { name: 'inner' })
      .to('inner-out', { key: s, value: json() });
    stream
      .leftJoin(table, (r, m) => ({ v: r.v, at: m?.location ?? null }), { name: 'left' })
      .to('left-out', { key: s, value: json() });
    const driver = await createTestDriver(t.build(), { partitions: 2, commit: 'manual' });
    const m = driver.input('meta', { key: s, value: nullable(json<Meta>()) });
    const r = driver.input('readings', readings);
    m.pipe('a', { offset: 1, location: 'x' });
    await driver.flush();
    r.pipe('a', { t: 1, v: 10 });
    r.pipe('b', { t: 2, v: 20 });
    await driver.flush();
    m.pipe('a', { offset: 5, location: 'y' });
    m.pipe('b', { offset: 2, location: 'z' });
    await driver.flush();
    driver.commit();
    assert.deepEqual(await driver.restart(), []);
    r.pipe('a', { t: 3, v: 10 });
    r.pipe('b', { t: 4, v: 20 });
    await driver.flush();
    m.pipe('a', null);
    await driver.flush();
    r.pipe('a', { t: 5, v: 10 });
    await driver.flush();
    driver.commit();
    const inner = driver.output('inner-out', { key: s, value: json() }).readAll();
    assert.deepEqual(
      inner.map((o) => [o.key, o.value]),
      [
        ['a', { v: 11, at: 'x' }],
        ['a', { v: 15, at: 'y' }],
        ['b', { v: 22, at: 'z' }],
      ],
    );
    const left = driver.output('left-out', { key: s, value: json() }).readAll();
    assert.deepEqual(
      left.map((o) => [o.key, o.value]),
      [
        ['a', { v: 10, at: 'x' }],
        ['b', { v: 20, at: null }],
        ['a', { v: 10, at: 'y' }],
        ['b', { v: 20, at: 'z' }],
        ['a', { v: 10, at: null }],
      ],
    );
  });

  it('stream-stream joins: matches within the window, unmatched only once the window closes, late records dead-lettered', async () => {
    const t = topology('ss');
    const left = t.stream('left', readings);
    const right = t.stream('right', readings);
    const w = joinWindow(10, { grace: 5 });
    left
      .join(right, (a, b) => `${a.v}+${b.v}`, { window: w, store: 'inner', name: 'inner' })
      .to('inner-out', { key: s, value: json() });
    left
      .leftJoin(right, (a, b) => `${a.v}+${b?.v ?? '-'}`, {
        window: w,
        store: 'left',
        name: 'left',
      })
      .to('left-out', { key: s, value: json() });
    left
      .outerJoin(right, (a, b) => `${a?.v ?? '-'}+${b?.v ?? '-'}`, {
        window: w,
        store: 'outer',
        name: 'outer',
      })
      .to('outer-out', { key: s, value: json() });
    const driver = await createTestDriver(t.build(), { partitions: 1, commit: 'manual' });
    const l = driver.input('left', readings);
    const r = driver.input('right', readings);
    const at = (time: number): { timestamp: number } => ({ timestamp: time });
    l.pipe('k', { t: 100, v: 1 }, at(100));
    await driver.flush();
    r.pipe('k', { t: 105, v: 2 }, at(105)); // joins 1
    await driver.flush();
    r.pipe('k', { t: 200, v: 3 }, at(200)); // stream time 200: closes 1 (matched) and 2 (matched)
    await driver.flush();
    l.pipe('k', { t: 196, v: 4 }, at(196)); // within grace: joins 3
    await driver.flush();
    l.pipe('k', { t: 150, v: 5 }, at(150)); // late: 150 < 200 - 5
    await driver.flush();
    l.pipe('k', { t: 230, v: 6 }, at(230)); // no match yet
    await driver.flush();
    r.pipe('k', { t: 260, v: 7 }, at(260)); // closes 4, 3 (matched); 6 unmatched? 230+10+5 < 260: yes
    await driver.flush();
    await driver.flush();
    driver.commit();
    const values = (topic: string): unknown[] =>
      driver.output(topic, { key: s, value: json() }).readValues();
    assert.deepEqual(values('inner-out'), ['1+2', '4+3']);
    assert.deepEqual(values('left-out'), ['1+2', '4+3', '6+-']);
    assert.deepEqual(values('outer-out'), ['1+2', '4+3', '6+-']);
    // Stream time 300 closes 7 (right, unmatched): only the outer join emits it.
    l.pipe('k', { t: 300, v: 8 }, at(300));
    await driver.flush();
    await driver.flush();
    driver.commit();
    assert.deepEqual(values('outer-out'), ['1+2', '4+3', '6+-', '-+7']);
    assert.deepEqual(values('left-out'), ['1+2', '4+3', '6+-']);
    assert.equal(driver.stats().late, 3, 'the late record, in each of the three joins');
  });

  it('table-table joins and a table aggregation that moves entries between groups', async () => {
    const t = topology('tt');
    const a = t.table('a', { key: s, value: json<number>() }, { store: 'a' });
    const b = t.table('b', { key: s, value: json<string>() }, { store: 'b' });
    a.join(b, (x, y) => `${x}${y}`, { name: 'inner' })
      .toStream()
      .to('inner', { key: s, value: nullable(json()) });
    a.outerJoin(b, (x, y) => `${x ?? '-'}${y ?? '-'}`, { name: 'outer' })
      .toStream()
      .to('outer', { key: s, value: nullable(json()) });
    // Group a's entries by parity: sum per group, retracted when an entry moves.
    a.groupBy((k, v) => [v % 2 === 0 ? 'even' : 'odd', v] as const, {
      name: 'parity',
      key: s,
      value: json<number>(),
    })
      .aggregate(
        () => 0,
        (sum, v) => sum + v,
        (sum, v) => sum - v,
        { store: 'parity-sum' },
      )
      .toStream()
      .to('parity', { key: s, value: nullable(json()) });
    const driver = await createTestDriver(t.build(), { partitions: 2, commit: 'batch' });
    const ia = driver.input('a', { key: s, value: nullable(json<number>()) });
    const ib = driver.input('b', { key: s, value: nullable(json<string>()) });
    ia.pipe('k', 1);
    await driver.flush();
    ib.pipe('k', 'x');
    await driver.flush();
    ia.pipe('k', 2);
    await driver.flush();
    ib.pipe('k', null);
    await driver.flush();
    ia.pipe('j', 3);
    ia.pipe('k', null);
    await driver.flush();
    driver.commit();
    const last = (topic: string): Map<string, unknown> =>
      new Map(
        driver
          .output(topic, { key: s, value: nullable(json()) })
          .readAll()
          .map((o) => [o.key, o.value]),
      );
    assert.deepEqual(driver.output('inner', { key: s, value: nullable(json()) }).readValues(), [
      '1x',
      '2x',
      null,
    ]);
    assert.deepEqual(
      driver
        .output('outer', { key: s, value: nullable(json()) })
        .readAll()
        .filter((o) => o.key === 'k')
        .map((o) => o.value),
      ['1-', '1x', '2x', '2-', null],
    );
    assert.deepEqual(
      last('parity'),
      new Map([
        ['odd', 3],
        ['even', 0],
      ]),
    );
  });
});

describe('the plan of tables and joins', () => {
  it('puts a join and the table it looks up in one sub-topology, with no changelog for a topic table', () => {
    const t = topology('plan');
    const table = t.table('meta', meta, { store: 'meta' });
    t.stream('readings', readings)
      .join(table, (r, m) => r.v + m.offset, { name: 'j' })
      .to('out', { key: s, value: json<number>() });
    const plan = t.build().plan;
    assert.equal(plan.subtopologies.length, 1);
    assert.deepEqual(plan.subtopologies[0]?.sourceTopics.sort(), ['meta', 'readings']);
    assert.deepEqual(
      plan.internalTopics.map((i) => i.name),
      ['plan-dlq'],
    );
  });

  it('repartitions a re-keyed stream before a stream-table join when given serdes, and says how otherwise', () => {
    const t = topology('rekey');
    const table = t.table('meta', meta, { store: 'meta' });
    const rekeyed = t.stream('readings', readings).map((k, v): [string, Reading] => [`${k}!`, v]);
    assert.throws(
      () => rekeyed.join(table, (r) => r.v, { name: 'j1' }),
      /repartition: \{ key, value \}/,
    );
    rekeyed
      .join(table, (r, m) => r.v + m.offset, { name: 'j2', repartition: readings })
      .to('out', { key: s, value: json<number>() });
    const plan = t.build().plan;
    assert.ok(plan.internalTopics.some((i) => i.name === 'rekey-j2-by-key-repartition'));
    assert.equal(plan.subtopologies.length, 2);
  });

  it('keeps a stream-stream join in one sub-topology with a changelog per side, and refuses a global topic read by a source', () => {
    const t = topology('ssplan');
    t.stream('a', readings)
      .join(t.stream('b', readings), (x, y) => x.v + y.v, {
        window: joinWindow(1000),
        store: 'ab',
        name: 'ab',
      })
      .to('out', { key: s, value: json<number>() });
    const plan = t.build().plan;
    assert.equal(plan.subtopologies.length, 1);
    assert.deepEqual(
      plan.internalTopics.filter((i) => i.kind === 'changelog').map((i) => i.name),
      ['ssplan-ab-this-changelog', 'ssplan-ab-other-changelog'],
    );
    const g = topology('global');
    g.globalTable('a', readings, { store: 'ga' });
    g.stream('a', readings).to('out', readings);
    assert.throws(() => g.build(), /global table 'ga' is also read by source/);
  });
});

describe('global tables in the test driver', () => {
  it('joins each record with the global entry its key picks, as the table is when the record is processed', async () => {
    const t = topology('gt');
    const stations = t.globalTable(
      'stations',
      { key: s, value: json<{ name: string }>() },
      {
        store: 'stations',
      },
    );
    t.stream('readings', readings)
      .leftJoinGlobal(
        stations,
        (sensor) => sensor.split('-')[0] ?? '',
        (r, st) => `${r.v}@${st?.name ?? '-'}`,
        { name: 'station' },
      )
      .to('out', { key: s, value: json<string>() });
    const driver = await createTestDriver(t.build(), { partitions: 3, commit: 'batch' });
    const st = driver.input('stations', { key: s, value: nullable(json<{ name: string }>()) });
    const r = driver.input('readings', readings);
    st.pipe('a', { name: 'Alpha' });
    st.pipe('b', { name: 'Beta' });
    r.pipe('a-1', { t: 1, v: 1 });
    r.pipe('b-1', { t: 1, v: 2 });
    r.pipe('c-1', { t: 1, v: 3 });
    await driver.flush();
    st.pipe('a', null);
    st.pipe('c', { name: 'Gamma' });
    r.pipe('a-2', { t: 2, v: 4 });
    r.pipe('c-2', { t: 2, v: 5 });
    const out = driver.output('out', { key: s, value: json<string>() }).readAll();
    assert.deepEqual(
      new Map(out.map((o) => [o.key, o.value])),
      new Map([
        ['a-1', '1@Alpha'],
        ['b-1', '2@Beta'],
        ['c-1', '3@-'],
        ['a-2', '4@-'],
        ['c-2', '5@Gamma'],
      ]),
    );
  });
});
