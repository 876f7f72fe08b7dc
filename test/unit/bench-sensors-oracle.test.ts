// The sensor benchmark's input and oracle (bench/sensors-data.ts): the benchmark reports a rate
// only for a run whose output equals the oracle, so the oracle and its checker are tested here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compareWindows, fleet, fleetDefaults, fleetOracle } from '../../bench/sensors-data.ts';
import type { Stats } from '../../bench/sensors-data.ts';

describe('sensor benchmark oracle', () => {
  const options = { ...fleetDefaults, sensors: 40, minutes: 3, dupEvery: 50, delayEvery: 60 };
  const readings = [...fleet(options)];
  const expected = fleetOracle(readings);

  it('sends every sensor once a second, in time order but for a few delayed readings, plus duplicates', () => {
    const unique = new Set(readings.map((r) => `${r.sensorId}@${r.timestamp}`));
    assert.equal(unique.size, 40 * 180);
    assert.equal(readings.length - unique.size, expected.duplicates);
    assert.ok(expected.duplicates > 40 * 180 * 0.01, `${expected.duplicates} duplicates`);
    let backwards = 0;
    const last = new Map<string, number>();
    for (const r of readings) {
      if (r.timestamp < (last.get(r.sensorId) ?? 0)) backwards++;
      last.set(r.sensorId, Math.max(last.get(r.sensorId) ?? 0, r.timestamp));
    }
    assert.ok(backwards > 0 && backwards < readings.length * 0.05, `${backwards} out of order`);
  });

  it('closes each sensor minute whose end + 30 s its own time passed, and no hour', () => {
    // The sensors' last readings are in second 179: minutes 0 and 1 closed, minute 2 open.
    assert.equal(expected.closed['minutely']?.size, 40 * 2);
    assert.equal(expected.open['minutely'], 40);
    assert.equal(expected.closed['hourly']?.size, 0);
    assert.equal(expected.open['hourly'], 40);
    assert.deepEqual(expected.late, { minutely: 0, hourly: 0 });
    const counted = [...(expected.closed['minutely']?.values() ?? [])].reduce(
      (n, s) => n + s.count,
      0,
    );
    const clean = readings.filter((r) => r.temperature <= 85).length;
    const inLastMinute = new Set(
      readings
        .filter((r) => r.temperature <= 85 && r.timestamp >= options.start + 120_000)
        .map((r) => `${r.sensorId}@${r.timestamp}`),
    ).size;
    assert.equal(counted, clean - expected.duplicates - inLastMinute);
  });

  it('counts a reading late by its own sensor time, not by another sensor', () => {
    const base = { temperature: 20, humidity: 50 };
    const start = options.start;
    const o = fleetOracle([
      { sensorId: 'a', timestamp: start + 200_000, ...base },
      { sensorId: 'b', timestamp: start + 1_000, ...base },
      { sensorId: 'a', timestamp: start + 1_000, ...base },
    ]);
    assert.deepEqual(o.late, { minutely: 1, hourly: 0 });
    assert.deepEqual([...(o.closed['minutely']?.keys() ?? [])], []);
  });

  it('accepts the oracle itself and finds a missing, a doubled, a wrong and an extra window', () => {
    const windows = expected.closed['minutely'] as Map<string, Stats>;
    const right = [...windows];
    assert.deepEqual(compareWindows(right, windows), []);
    const [first, ...others] = right as [[string, Stats], ...[string, Stats][]];
    assert.match(compareWindows(others, windows).join(), /1 windows missing/);
    assert.match(
      compareWindows([first, ...right], windows).join(),
      /1 windows emitted more than once/,
    );
    const wrong: [string, Stats] = [first[0], { ...first[1], count: first[1].count + 1 }];
    assert.match(compareWindows([wrong, ...others], windows).join(), /window sensor-/);
    assert.match(
      compareWindows([...right, ['sensor-99999@0', first[1]]], windows).join(),
      /1 windows not in the oracle/,
    );
  });
});
