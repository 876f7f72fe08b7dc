// The disorder tests' oracle and generators (test/integration/disorder-*.ts), checked on their
// own: the oracle on an input small enough to work out by hand, the generators for the
// properties the integration tests rely on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { backfill, reconnect, skew } from '../integration/disorder-generators.ts';
import type { Generated } from '../integration/disorder-generators.ts';
import { disorderOracle } from '../integration/disorder-oracle.ts';
import { scenarioWindows } from '../integration/disorder-scenarios.ts';
import type { Reading, Scenario } from '../integration/disorder-scenarios.ts';

const r = (device: string, time: number, value: number): Reading => ({ device, time, value });

describe('disorder oracle', () => {
  // Windows of 10 ms with 2 ms of grace, one partition. Publish order:
  //   0: A@1  1: A@12  2: B@3  3: A@25  4: B@9
  // By partition: stream time 1, 12, 12, 25, 25. B@3 and B@9 are in [0, 10), closed from 12 on:
  // late. A's [0, 10) and [10, 20) close by 25; A's [20, 30) is still open.
  // By key: A's time 1, 12, 25 closes A's [0, 10) and [10, 20); B's time 3, 9 closes nothing.
  const input = [r('A', 1, 5), r('A', 12, -2), r('B', 3, 7), r('A', 25, 4), r('B', 9, 1)];
  const window = { sizeMs: 10, graceMs: 2 };

  it('by partition time: later readings of another key are late, and closed windows are emitted', () => {
    const o = disorderOracle(input, 1, window, 'partition');
    assert.deepEqual([...o.late.keys()], ['0/2', '0/4']);
    assert.deepEqual(
      [...o.windows],
      [
        ['A@0', { count: 1, sum: 5, min: 5, max: 5, mean: 5 }],
        ['A@10', { count: 1, sum: -2, min: -2, max: -2, mean: -2 }],
      ],
    );
    assert.deepEqual(o.partitionSizes, [5]);
    assert.deepEqual(o.positions.get('0/3'), r('A', 25, 4));
  });

  it("by key time: nothing is late, and a key's windows close by its own time only", () => {
    const o = disorderOracle(input, 1, window, 'key');
    assert.equal(o.late.size, 0);
    assert.deepEqual([...o.windows.keys()], ['A@0', 'A@10']);
    const more = disorderOracle([...input, r('B', 30, 0)], 1, window, 'key');
    assert.deepEqual(more.windows.get('B@0'), { count: 2, sum: 8, min: 1, max: 7, mean: 4 });
  });

  it('a reading exactly at end + grace of the clock is late, a millisecond before is not', () => {
    const edge = disorderOracle([r('A', 12, 1), r('B', 9, 1)], 1, window, 'partition');
    assert.deepEqual([...edge.late.keys()], ['0/1']);
    const before = disorderOracle([r('A', 11, 1), r('B', 9, 1)], 1, window, 'partition');
    assert.equal(before.late.size, 0);
  });
});

describe('disorder generators', () => {
  const generators: [Scenario, (seed: number) => Generated][] = [
    ['backfill', backfill],
    ['reconnect', reconnect],
    ['skew', skew],
  ];

  for (const [scenario, generate] of generators) {
    it(`${scenario}: the same seed gives the same input, another seed another`, () => {
      assert.deepEqual(generate(7), generate(7));
      assert.notDeepEqual(generate(7).readings, generate(8).readings);
    });

    it(`${scenario}: within a device, no reading comes after one more than the grace later; one marker per device ends the input`, () => {
      const { graceMs } = scenarioWindows[scenario];
      for (const seed of [1, 2, 3, 4, 5]) {
        const { readings } = generate(seed);
        const devices = new Set(readings.map((x) => x.device));
        const markers = readings.slice(readings.length - devices.size);
        const marker = markers[0]?.time;
        assert.ok(marker !== undefined);
        assert.deepEqual(new Set(markers.map((m) => m.device)), devices);
        assert.ok(markers.every((m) => m.time === marker));
        const newest = new Map<string, number>();
        for (const x of readings.slice(0, readings.length - devices.size)) {
          assert.ok(x.time < marker - graceMs);
          const top = Math.max(newest.get(x.device) ?? x.time, x.time);
          assert.ok(top - x.time <= graceMs, `seed ${seed}: ${x.device}@${x.time}, ${top} before`);
          newest.set(x.device, top);
        }
      }
    });
  }

  it('backfill: device after device', () => {
    const { readings } = backfill(3);
    const runs = readings.filter((x, i) => i === 0 || readings[i - 1]?.device !== x.device);
    // One run per device of its data, then the markers (one run each).
    assert.equal(runs.length, 40 * 2);
  });

  it('reconnect: the offline device publishes 2 hours of buffered readings after the others have gone past them', () => {
    const { readings, focus } = reconnect(5);
    let othersNewest = 0;
    let burst = 0;
    for (const x of readings) {
      if (x.device !== focus) othersNewest = Math.max(othersNewest, x.time);
      else if (othersNewest - x.time > 60 * 60_000) burst++;
    }
    assert.ok(burst > 60, `${burst} readings of ${focus} published over an hour behind the others`);
  });
});
