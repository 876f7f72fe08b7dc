// Joins and table aggregations through the test driver, on generated input, against the oracles of
// test/join-oracle.ts (plain TS, no code under src/): out-of-order and late records on a windowed
// join, unmatched records once the window closes, updates and deletes on either side of a table
// join, and aggregations whose updates move entries between groups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { json, nullable, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import { joinWindow, topology } from '../../src/topology/index.ts';
import {
  generateSides,
  generateTableChanges,
  groupOracle,
  lastPerKey,
  streamJoinOracle,
  tableJoinOracle,
} from '../join-oracle.ts';
import { random } from '../random.ts';

const s = string();
const id = { key: s, value: json<string>() };
const num = { key: s, value: nullable(json<number>()) };
const out = { key: s, value: nullable(json<string>()) };
const show = (v: string | number | null): string => (v === null ? '-' : String(v));

describe('stream-stream joins in the test driver, against the oracle', () => {
  for (const seed of [1, 2, 3]) {
    it(`inner, left and outer joins with out-of-order and late records (seed ${seed})`, async () => {
      const w = { before: 20, after: 10, grace: 15 };
      const records = generateSides(seed, 300, 4, 40);
      const expected = streamJoinOracle(records, w);
      // The input must exercise what the test claims: late records, and both kinds of unmatched.
      assert.ok(expected.late.length > 0 && expected.pairs.length > 0);
      assert.ok(expected.leftUnmatched.length > 0 && expected.rightUnmatched.length > 0);

      const t = topology(`ss-oracle-${seed}`);
      const left = t.stream('left', id);
      const right = t.stream('right', id);
      const window = joinWindow(0, { before: w.before, after: w.after, grace: w.grace });
      const joiner = (a: string | null, b: string | null): string => `${show(a)}+${show(b)}`;
      left.join(right, joiner, { window, store: 'inner', name: 'inner' }).to('inner-out', id);
      left.leftJoin(right, joiner, { window, store: 'left', name: 'left' }).to('left-out', id);
      left.outerJoin(right, joiner, { window, store: 'outer', name: 'outer' }).to('outer-out', id);
      const driver = await createTestDriver(t.build(), { partitions: 1, commit: 'manual' });
      const inputs = { left: driver.input('left', id), right: driver.input('right', id) };
      const restartAt = Math.floor(records.length / 2);
      for (const [i, r] of records.entries()) {
        inputs[r.side].pipe(r.key, r.id, { timestamp: r.t });
        await driver.flush();
        // 1. Halfway: commit and restart, so the rest runs on state restored from changelogs.
        if (i === restartAt) {
          driver.commit();
          assert.deepEqual(await driver.restart(), []);
        }
      }
      driver.commit();
      const values = (topic: string): string[] => driver.output(topic, id).readValues().sort();
      const pairs = expected.pairs;
      assert.deepEqual(values('inner-out'), pairs);
      assert.deepEqual(
        values('left-out'),
        [...pairs, ...expected.leftUnmatched.map((l) => `${l}+-`)].sort(),
      );
      assert.deepEqual(
        values('outer-out'),
        [
          ...pairs,
          ...expected.leftUnmatched.map((l) => `${l}+-`),
          ...expected.rightUnmatched.map((r) => `-+${r}`),
        ].sort(),
      );
      assert.equal(driver.stats().late, 3 * expected.late.length, 'each late record, in each join');
    });
  }
});

describe('table joins and retracting aggregations in the test driver, against the oracle', () => {
  for (const seed of [4, 5]) {
    it(`table-table inner/left/outer joins and group count/sum/reduce with updates and deletes (seed ${seed})`, async () => {
      const changes = generateTableChanges(seed, 200, 6);
      const t = topology(`tt-oracle-${seed}`);
      const a = t.table('a', { key: s, value: json<number>() }, { store: 'a' });
      const b = t.table('b', { key: s, value: json<number>() }, { store: 'b' });
      const joiner = (x: number | null, y: number | null): string => `${show(x)}|${show(y)}`;
      a.join(b, joiner, { name: 'inner' }).toStream().to('inner', out);
      a.leftJoin(b, joiner, { name: 'left' }).toStream().to('left', out);
      a.outerJoin(b, joiner, { name: 'outer' }).toStream().to('outer', out);
      const group = (v: number): string => `g${v % 3}`;
      const grouped = a.groupBy((_k, v) => [group(v), v] as const, {
        name: 'by-mod',
        key: s,
        value: json<number>(),
      });
      grouped.count({ store: 'count' }).toStream().to('count', num);
      grouped
        .aggregate(
          () => 0,
          (sum, v) => sum + v,
          (sum, v) => sum - v,
          { store: 'sum' },
        )
        .toStream()
        .to('sum', num);
      grouped
        .reduce(
          (x, y) => x + y,
          (x, y) => x - y,
          { store: 'reduce' },
        )
        .toStream()
        .to('reduce', num);
      const driver = await createTestDriver(t.build(), { partitions: 2, commit: 'manual' });
      const inputs = { a: driver.input('a', num), b: driver.input('b', num) };
      const restartAt = Math.floor(changes.length / 2);
      for (const [i, c] of changes.entries()) {
        inputs[c.table].pipe(c.key, c.value);
        await driver.flush();
        if (i === restartAt) {
          driver.commit();
          assert.deepEqual(await driver.restart(), []);
        }
      }
      // 2. Under manual commits the repartition topic's records reach the aggregation only once
      // committed (as read_committed): commit, process them, commit their results.
      driver.commit();
      await driver.flush();
      driver.commit();
      for (const kind of ['inner', 'left', 'outer'] as const) {
        assert.deepEqual(
          lastPerKey(driver.output(kind, out).readAll()),
          tableJoinOracle(changes, kind, joiner),
          `${kind} join`,
        );
      }
      const expected = groupOracle(changes, group);
      const groups = ['g0', 'g1', 'g2'];
      // A group left empty may read 0 or be deleted: both mean nothing is in it.
      const final = (topic: string): (number | null)[] => {
        const last = lastPerKey(driver.output(topic, num).readAll());
        return groups.map((g) => last.get(g) ?? 0);
      };
      assert.deepEqual(
        final('count'),
        groups.map((g) => expected.count.get(g) ?? 0),
      );
      assert.deepEqual(
        final('sum'),
        groups.map((g) => expected.sum.get(g) ?? 0),
      );
      assert.deepEqual(
        final('reduce'),
        groups.map((g) => expected.sum.get(g) ?? 0),
      );
    });
  }
});

describe('stream-table joins in the test driver, against the oracle', () => {
  it('looks each record up in the table as it is when processed, across updates, deletes and a restart', async () => {
    const next = random(7);
    const t = topology('st-oracle');
    const table = t.table('meta', { key: s, value: json<number>() }, { store: 'meta' });
    const stream = t.stream('readings', { key: s, value: json<number>() });
    stream.join(table, (r, m) => `${r}@${m}`, { name: 'inner' }).to('inner', id);
    stream.leftJoin(table, (r, m) => `${r}@${show(m)}`, { name: 'left' }).to('left', id);
    const driver = await createTestDriver(t.build(), { partitions: 3, commit: 'manual' });
    const meta = driver.input('meta', num);
    const readings = driver.input('readings', { key: s, value: json<number>() });
    const current = new Map<string, number>();
    const inner: string[] = [];
    const left: string[] = [];
    for (let i = 0; i < 300; i++) {
      const key = `k${Math.floor(next() * 5)}`;
      if (next() < 0.4) {
        const value = next() < 0.25 ? null : Math.floor(next() * 100);
        meta.pipe(key, value);
        if (value === null) current.delete(key);
        else current.set(key, value);
      } else {
        readings.pipe(key, i);
        const m = current.get(key);
        if (m !== undefined) inner.push(`${key}:${i}@${m}`);
        left.push(`${key}:${i}@${show(m ?? null)}`);
      }
      // 1. Flush after each record, so the table is up to date when the next reading is processed.
      await driver.flush();
      if (i === 150) {
        driver.commit();
        assert.deepEqual(await driver.restart(), []);
      }
    }
    driver.commit();
    const got = (topic: string): string[] =>
      driver
        .output(topic, out)
        .readAll()
        .map((o) => `${o.key}:${o.value}`)
        .sort();
    assert.deepEqual(got('inner'), inner.sort());
    assert.deepEqual(got('left'), left.sort());
  });
});
