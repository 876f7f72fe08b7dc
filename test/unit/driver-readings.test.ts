// topologies/readings.ts in the test driver: readings of several sensors, out of order across
// and within keys, a few later than the grace and a few invalid, over two partitions; a crash
// (restart) in the middle drops work that was processed but not committed. The hourly windows
// must equal the disorder oracle (test/integration/disorder-oracle.ts), computed from the input
// with the partition's stream time, as the topology's windows follow it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import type { Windowed } from '../../src/topology/index.ts';
import readingsTopology from '../../topologies/readings.ts';
import type { HourlyReadings, Reading } from '../../topologies/readings.ts';
import { disorderOracle } from '../integration/disorder-oracle.ts';
import { random } from '../random.ts';

const hourMs = 3_600_000;
const window = { sizeMs: hourMs, graceMs: 5 * 60_000 };
const start = Date.UTC(2026, 5, 1);

/**
 * Six sensors, a reading each per minute for five hours, shuffled in blocks of four minutes
 * (inside the grace), every 97th replaced by one two hours older (late), and every 131st with a
 * temperature no sensor measures (invalid: the dead-letter topic). Whole and half degrees, so
 * sums are exact.
 */
function input(): { valid: Reading[]; all: Reading[] } {
  const next = random(7);
  const all: Reading[] = [];
  for (let minute = 0; minute < 300; minute++) {
    for (let s = 0; s < 6; s++) {
      all.push({
        sensorId: `sensor-${s}`,
        timestamp: start + minute * 60_000 + Math.floor(next() * 60_000),
        temperature: Math.round(next() * 60 - 10) / 2,
        humidity: Math.round(next() * 100),
      });
    }
  }
  const block = 6 * 4;
  for (let b = 0; b < all.length; b += block) {
    for (let i = Math.min(all.length, b + block) - 1; i > b; i--) {
      const j = b + Math.floor(next() * (i - b + 1));
      [all[i], all[j]] = [all[j] as Reading, all[i] as Reading];
    }
  }
  for (let i = 97; i < all.length; i += 97) {
    const r = all[i] as Reading;
    all[i] = { ...r, timestamp: r.timestamp - 2 * hourMs };
  }
  for (let i = 131; i < all.length; i += 131) all[i] = { ...(all[i] as Reading), temperature: 999 };
  return { all, valid: all.filter((r) => r.temperature <= 70) };
}

describe('topologies/readings.ts in the test driver', () => {
  it('hourly windows equal the oracle through out-of-order input and a restart that loses uncommitted work', async () => {
    const partitions = 2;
    const { all, valid } = input();
    const driver = await createTestDriver(readingsTopology, {
      partitions,
      batchSize: 25,
      commit: 'manual',
    });
    const readings = driver.input('readings', { key: string(), value: json<Reading>() });
    const half = Math.floor(all.length / 2);
    for (const r of all.slice(0, half)) readings.pipe(r.sensorId, r, { timestamp: r.timestamp });
    await driver.flush();
    driver.commit();
    const third = Math.floor(all.length * 0.75);
    for (const r of all.slice(half, third))
      readings.pipe(r.sensorId, r, { timestamp: r.timestamp });
    await driver.flush();
    // Processed, not committed: lost with the tasks, and processed again by the new ones.
    // Nothing to compare: restart() compares only stores with no uncommitted change.
    assert.deepEqual(await driver.restart(), []);
    for (const r of all.slice(third)) readings.pipe(r.sensorId, r, { timestamp: r.timestamp });
    await driver.flush();
    driver.commit();

    const temperature = disorderOracle(
      valid.map((r) => ({ device: r.sensorId, time: r.timestamp, value: r.temperature })),
      partitions,
      window,
      'partition',
    );
    const humidity = disorderOracle(
      valid.map((r) => ({ device: r.sensorId, time: r.timestamp, value: r.humidity })),
      partitions,
      window,
      'partition',
    );
    const got = driver
      .output('readings-hourly', { key: string(), value: json<Windowed<string, HourlyReadings>>() })
      .readValues();
    const byId = new Map(got.map((w) => [`${w.key}@${w.start}`, w]));
    assert.equal(byId.size, got.length, 'each window emitted once');
    assert.deepEqual([...byId.keys()].sort(), [...temperature.windows.keys()].sort());
    assert.ok(temperature.windows.size >= 6 * 4, `${temperature.windows.size} windows`);
    for (const [id, t] of temperature.windows) {
      const w = byId.get(id);
      const h = humidity.windows.get(id);
      assert.deepEqual(
        w?.value,
        {
          count: t.count,
          temperature: { min: t.min, max: t.max, mean: t.mean },
          humidity: { mean: h?.mean },
        },
        id,
      );
      assert.equal(w?.end, (w?.start ?? 0) + hourMs);
    }
    const stats = driver.stats();
    assert.ok(temperature.late.size > 10, `${temperature.late.size} late`);
    // Counters are not transactional: the dropped tasks' uncommitted late records count too.
    assert.ok(stats.late > temperature.late.size, `${stats.late} late counted`);
    const codes = driver
      .written('readings-hourly-dlq')
      .map((d) => String(d.headers[deadLetterHeaders.code]));
    assert.equal(codes.filter((c) => c === 'LATE_RECORD').length, temperature.late.size);
    assert.equal(
      codes.filter((c) => c === 'SERDE_VALIDATION_FAILED').length,
      all.length - valid.length,
    );
    assert.equal(codes.length, all.length - valid.length + temperature.late.size, 'once each');
    assert.ok(stats.restored > 0, 'the restart restored the windows from the changelog');
  });
});
