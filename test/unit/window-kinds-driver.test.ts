// Sliding windows and a user's own window kind through the aggregate operator, in the test
// driver: out-of-order input per key, some records past the grace. The emitted windows must equal
// an oracle computed by plain loops over the input, with the operator's rules (the comment at the
// top of src/operators/window-aggregate.ts): time is the partition's largest event time so far,
// record included; a window closes (and is emitted) when end + grace <= time; a record counts in
// its windows still open and is late (dead-lettered) when none is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import { sliding, topology } from '../../src/topology/index.ts';
import type { TimeWindowKind, WindowSpec, Windowed } from '../../src/topology/index.ts';
import { random } from '../random.ts';

interface Point {
  n: number;
  t: number;
}
interface Totals {
  count: number;
  sum: number;
}

/**
 * Three keys, a record per key every 100 ms jittered by up to ±3 s (out of order within and
 * across keys), every 37th moved 20 s back (late), then one record far ahead that closes all the
 * earlier windows.
 */
function input(seed: number): { key: string; point: Point }[] {
  const next = random(seed);
  const records: { key: string; point: Point }[] = [];
  for (let i = 0; i < 900; i++) {
    let t = 50_000 + Math.floor(i / 3) * 100 + Math.floor(next() * 6001) - 3000;
    if (i % 37 === 36) t -= 20_000;
    records.push({ key: `k${i % 3}`, point: { n: 1 + Math.floor(next() * 9), t } });
  }
  records.push({ key: 'k0', point: { n: 1, t: 1_000_000 } });
  return records;
}

/** The windows `[k * step + offset, ... + size)` containing t, by enumeration (start >= 0). */
function containing(t: number, size: number, step: number, offset: number): number[] {
  const starts: number[] = [];
  for (let k = Math.floor((t - size - step) / step) - 1; k * step + offset <= t; k++) {
    const start = k * step + offset;
    if (start >= 0 && t < start + size) starts.push(start);
  }
  return starts;
}

function oracle(
  records: { key: string; point: Point }[],
  grid: { size: number; step: number; offset: number; grace: number },
): { emitted: Map<string, Totals>; late: number } {
  const { size, step, offset, grace } = grid;
  let time = -Infinity;
  let late = 0;
  const windows = new Map<string, Totals & { start: number }>();
  for (const { key, point } of records) {
    time = Math.max(time, point.t);
    const open = containing(point.t, size, step, offset).filter((s) => s + size + grace > time);
    if (open.length === 0) late++;
    for (const start of open) {
      const id = `${key}@${start}`;
      const w = windows.get(id) ?? { start, count: 0, sum: 0 };
      windows.set(id, { start, count: w.count + 1, sum: w.sum + point.n });
    }
  }
  const emitted = new Map<string, Totals>();
  for (const [id, w] of windows) {
    if (w.start + size + grace <= time) emitted.set(id, { count: w.count, sum: w.sum });
  }
  return { emitted, late };
}

async function run(window: WindowSpec, records: { key: string; point: Point }[]) {
  const t = topology('kinds');
  t.stream('points', { key: string(), value: json<Point>() }, { timestamp: 't' })
    .groupByKey()
    .windowedBy(window)
    .aggregate(
      {
        init: (): Totals => ({ count: 0, sum: 0 }),
        add: (a: Totals, p: Point): Totals => ({ count: a.count + 1, sum: a.sum + p.n }),
      },
      { store: 'totals' },
    )
    .to('totals', { key: string(), value: json<Windowed<string, Totals>>() });
  const driver = await createTestDriver(t.build(), { batchSize: 40 });
  const points = driver.input('points', { key: string(), value: json<Point>() });
  for (const { key, point } of records) points.pipe(key, point, { timestamp: point.t });
  await driver.flush();
  const got = driver
    .output('totals', { key: string(), value: json<Windowed<string, Totals>>() })
    .readValues();
  const codes = driver.written('kinds-dlq').map((d) => String(d.headers[deadLetterHeaders.code]));
  return { got, codes };
}

function check(
  result: Awaited<ReturnType<typeof run>>,
  expected: ReturnType<typeof oracle>,
  size: number,
): void {
  const byId = new Map(result.got.map((w) => [`${w.key}@${w.start}`, w]));
  assert.equal(byId.size, result.got.length, 'each window emitted once');
  assert.deepEqual([...byId.keys()].sort(), [...expected.emitted.keys()].sort());
  for (const [id, totals] of expected.emitted) {
    const w = byId.get(id);
    assert.deepEqual(w?.value, totals, id);
    assert.equal(w?.end, (w?.start ?? 0) + size, id);
  }
  assert.ok(expected.late > 10, `${expected.late} late`);
  assert.deepEqual(result.codes, Array<string>(expected.late).fill('LATE_RECORD'));
}

describe('window kinds in the aggregate operator', () => {
  it('sliding windows with an offset equal the oracle over out-of-order input', async () => {
    const records = input(1);
    const window = sliding(10_000, 3_000, { offset: -1_000, grace: 2_000 });
    const expected = oracle(records, { size: 10_000, step: 3_000, offset: 2_000, grace: 2_000 });
    // 30 s of input per key, windows every 3 s: some 14 per key, each record in three or four.
    assert.ok(expected.emitted.size >= 3 * 12, `${expected.emitted.size} windows`);
    check(await run(window, records), expected, 10_000);
  });

  it("a user's own TimeWindowKind runs through the same operator", async () => {
    /** Every 10 s, 15 s long, starting at 5 s: a class, its windowStarts on the prototype. */
    class FromFive implements TimeWindowKind {
      readonly type = 'from-five';
      readonly sizeMs = 15_000;
      constructor(readonly graceMs: number) {}
      windowStarts(timestamp: number): number[] {
        const latest = timestamp - ((timestamp - 5_000) % 10_000);
        return latest - 10_000 > timestamp - 15_000 ? [latest - 10_000, latest] : [latest];
      }
    }
    const records = input(2);
    const expected = oracle(records, { size: 15_000, step: 10_000, offset: 5_000, grace: 1_000 });
    check(await run(new FromFive(1_000), records), expected, 15_000);
  });
});
