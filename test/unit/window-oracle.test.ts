import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { hours, minutes, summary, tumbling } from '../../src/topology/index.ts';
import type { Summary } from '../../src/topology/index.ts';
import { aggregateSpec, Harness, windowed } from './window-fixtures.ts';

/** A small seeded generator (mulberry32), so the test sees the same readings every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Input {
  key: string;
  timestamp: number;
  celsius: number;
  late: boolean;
}

const hour = hours(1);
const grace = minutes(10);
const start = Date.UTC(2024, 0, 1);

/**
 * 5,000 readings over 20 sensors: times move forward by up to 20 s per reading, and each is
 * pulled back by up to 9 minutes (disorder inside the 10-minute grace). Every 500th reading is
 * 2 hours older than the newest so far, which is later than any grace: those are late.
 */
function readings(): Input[] {
  const next = random(20240101);
  const inputs: Input[] = [];
  let clock = start;
  let newest = 0;
  for (let i = 0; i < 5_000; i++) {
    clock += Math.floor(next() * 20_000);
    const key = `sensor-${String(Math.floor(next() * 20)).padStart(2, '0')}`;
    const celsius = Math.round((next() * 60 - 20) * 100) / 100;
    const late = i % 500 === 499;
    const timestamp = late ? newest - 2 * hour : clock - Math.floor(next() * minutes(9));
    newest = Math.max(newest, timestamp);
    inputs.push({ key, timestamp, celsius, late });
  }
  return inputs;
}

/** Hourly summaries computed directly: the records of each (key, hour), in arrival order. */
function expected(inputs: Input[]): [string, number, number, Summary, number][] {
  const windows = new Map<string, { key: string; start: number; values: number[] }>();
  for (const input of inputs) {
    if (input.late) continue;
    const windowStart = input.timestamp - (input.timestamp % hour);
    const id = `${windowStart}/${input.key}`;
    const window = windows.get(id) ?? { key: input.key, start: windowStart, values: [] };
    window.values.push(input.celsius);
    windows.set(id, window);
  }
  return [...windows.values()]
    .sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1))
    .map(({ key, start: s, values }) => {
      let sum = 0;
      for (const v of values) sum += v;
      const value = {
        count: values.length,
        sum,
        min: Math.min(...values),
        max: Math.max(...values),
        mean: sum / values.length,
      };
      return [key, s, s + hour, value, s + hour - 1];
    });
}

describe('hourly summaries against a direct computation', () => {
  it('emits every hour of every sensor exactly once, equal to the direct result, late records excluded', () => {
    const h = new Harness(
      aggregateSpec((g) =>
        g.windowedBy(tumbling(hour, { grace })).aggregate(
          summary((r) => r.celsius),
          { store: 'hourly', name: 'agg' },
        ),
      ),
    );
    const inputs = readings();
    let late = 0;
    for (const input of inputs) {
      try {
        h.send(input.key, input.timestamp, input.celsius);
      } catch (error) {
        assert.ok(error instanceof TributaryError && error.code === 'LATE_RECORD', String(error));
        late++;
      }
    }
    // A record far ahead closes every window (its own stays open and is not compared).
    const last = Math.max(...inputs.map((input) => input.timestamp));
    h.send('zz-end', last + 2 * hour);

    let newest = 0;
    let disordered = 0;
    for (const input of inputs) {
      if (!input.late && input.timestamp < newest) disordered++;
      newest = Math.max(newest, input.timestamp);
    }
    assert.ok(disordered > 1_000, `only ${disordered} records out of order`);
    assert.equal(late, 10);
    assert.equal(inputs.filter((input) => input.late).length, 10);
    const want = expected(inputs);
    assert.ok(want.length > 200, `only ${want.length} windows`);
    assert.deepEqual(h.take().map(windowed), want);
    assert.equal(h.store.size, 2); // the sentinel's window and the stream time
  });
});
