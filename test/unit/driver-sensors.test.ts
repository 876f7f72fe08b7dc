// topologies/sensors.ts in the test driver, with its model file (models/sensor-model.json):
// readings of several sensors, each out of order within the minute window's grace, the fleet
// interleaved, a few out of range, a few sent twice, a few far too late; a restart in the middle.
// Each sensor's metadata (calibration offset, unit, location) comes from the metadata topic, one
// sensor has none (its readings are flagged), and one is recalibrated after the restart: the
// oracles get the readings calibrated as the metadata stood when each was piped.
// Hourly rows (the Cassandra sink's records) must equal the sensor oracle of scripts/verify,
// the minutely windows the disorder oracle (each sensor's own time), and each prediction the
// logistic model computed here from the model file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { loadSettings, topologyContext } from '../../src/app/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import type { Windowed } from '../../src/topology/index.ts';
import sensors from '../../topologies/sensors.ts';
import type {
  SensorMetadata,
  SensorPrediction,
  SensorReading,
  SensorStats,
} from '../../topologies/sensors.ts';
import { outOfRange, sensorOracle } from '../../scripts/verify/sensor-oracle.ts';
import { calibratedCelsius } from '../../tools/mqtt-sensors/index.ts';
import { disorderOracle } from '../integration/disorder-oracle.ts';
import { random } from '../random.ts';

const start = Date.UTC(2026, 8, 10);
const minuteMs = 60_000;

/**
 * Five sensors, a reading each every 20 s for three hours, in blocks of a minute shuffled (each
 * sensor at most ~40 s out of order: some late for the minute window's 30 s grace, none for the
 * hour's 5 minutes); 2% out of range; 4% sent again right after; every 211th an hour and a half
 * old (late for both windows). Then each sensor's reading two hours on closes everything before.
 */
function input(): SensorReading[] {
  const next = random(11);
  const list: SensorReading[] = [];
  for (let step = 0; step < 540; step++) {
    for (let s = 0; s < 5; s++) {
      list.push({
        sensorId: `sensor-${s}`,
        timestamp: start + step * 20_000 + Math.floor(next() * 1000),
        temperature: next() < 0.02 ? 999 : Math.round((18 + next() * 12) * 4) / 4,
        humidity: Math.round((40 + next() * 40) * 4) / 4,
      });
    }
  }
  const block = 5 * 3;
  for (let b = 0; b < list.length; b += block) {
    for (let i = Math.min(list.length, b + block) - 1; i > b; i--) {
      const j = b + Math.floor(next() * (i - b + 1));
      [list[i], list[j]] = [list[j] as SensorReading, list[i] as SensorReading];
    }
  }
  for (let i = 211; i < list.length; i += 211) {
    const r = list[i] as SensorReading;
    list[i] = { ...r, timestamp: r.timestamp - 90 * minuteMs };
  }
  const out: SensorReading[] = [];
  for (const [i, r] of list.entries()) {
    out.push(r);
    if (i % 211 !== 0 && next() < 0.04) out.push({ ...r });
  }
  for (let s = 0; s < 5; s++)
    out.push({
      sensorId: `sensor-${s}`,
      timestamp: start + 5 * 3_600_000,
      temperature: 20,
      humidity: 50,
    });
  return out;
}

/** The model file's logistic regression, computed plainly. */
function score(stats: SensorStats): number {
  const model = JSON.parse(
    readFileSync(new URL('../../models/sensor-model.json', import.meta.url), 'utf8'),
  ) as { features: string[]; weights: number[]; intercept: number };
  const x: Record<string, number> = {
    temperature_mean: stats.temperature.mean,
    temperature_min: stats.temperature.min,
    temperature_max: stats.temperature.max,
    humidity_mean: stats.humidity.mean,
    count: stats.count,
  };
  const z = model.features.reduce(
    (sum, f, i) => sum + (model.weights[i] ?? 0) * (x[f] ?? NaN),
    model.intercept,
  );
  return 1 / (1 + Math.exp(-z));
}

const close = (a: number | undefined, b: number): boolean =>
  a !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe('topologies/sensors.ts in the test driver', () => {
  it('hourly rows, minutely windows and predictions equal their oracles through a restart', async () => {
    const plan = sensors(topologyContext(loadSettings({})));
    const driver = await createTestDriver(plan, { partitions: 3, batchSize: 16 });
    const readings = driver.input('sensor-readings', {
      key: string(),
      value: json<SensorReading>(),
    });
    const metadataTopic = driver.input('sensor-metadata', {
      key: string(),
      value: json<SensorMetadata>(),
    });
    // sensor-4 has no metadata; sensor-1 reports °F.
    const metadata = new Map<string, SensorMetadata>(
      [0, 1, 2, 3].map((s) => [
        `sensor-${s}`,
        {
          sensorId: `sensor-${s}`,
          calibrationOffset: s / 4 - 0.25,
          location: `room-${s % 2}`,
          unit: s === 1 ? 'F' : 'C',
        },
      ]),
    );
    for (const m of metadata.values()) metadataTopic.pipe(m.sensorId, m);
    await driver.flush();
    const all = input();
    // What the pipeline computes of each reading, with the metadata as it stands when piped.
    const calibrated: SensorReading[] = [];
    const noMetadata: SensorReading[] = [];
    const pipe = (list: SensorReading[]): void => {
      for (const r of list) {
        readings.pipe(r.sensorId, r, { timestamp: r.timestamp });
        const m = metadata.get(r.sensorId);
        if (m === undefined) noMetadata.push(r);
        else calibrated.push({ ...r, temperature: calibratedCelsius(r.temperature, m) });
      }
    };
    const cut = Math.floor(all.length * 0.4);
    pipe(all.slice(0, cut));
    await driver.flush();
    assert.deepEqual(await driver.restart(), [], 'the accumulators survive the changelog');
    // A recalibration: readings piped after it are calibrated with the new offset.
    const recalibrated = {
      ...(metadata.get('sensor-0') as SensorMetadata),
      calibrationOffset: 1.5,
    };
    metadata.set('sensor-0', recalibrated);
    metadataTopic.pipe('sensor-0', recalibrated);
    await driver.flush();
    pipe(all.slice(cut));
    await driver.flush();

    // Hourly: the Cassandra sink's records.
    const expected = sensorOracle(calibrated);
    const hourly = driver.sunk<string, Windowed<string, SensorStats>>(
      'cassandra:analytics.sensor_hourly',
    );
    const rows = new Map(hourly.map((r) => [`${r.key}@${r.value.start}`, r.value.value]));
    assert.equal(rows.size, hourly.length, 'each hour written once');
    assert.deepEqual([...rows.keys()].sort(), [...expected.rows.keys()].sort());
    assert.equal(expected.rows.size, 4 * 3);
    for (const { key, value } of hourly)
      assert.equal(
        (value as unknown as { location: string }).location,
        metadata.get(key)?.location,
        'each row with its sensor location',
      );
    for (const [id, want] of expected.rows) {
      const got = rows.get(id);
      assert.equal(got?.count, want.count, id);
      assert.ok(close(got?.temperature.mean, want.temperature_mean), `${id} temperature mean`);
      assert.equal(got?.temperature.min, want.temperature_min, id);
      assert.equal(got?.temperature.max, want.temperature_max, id);
      assert.ok(close(got?.humidity.mean, want.humidity_mean), `${id} humidity mean`);
      assert.equal(got?.humidity.min, want.humidity_min, id);
      assert.equal(got?.humidity.max, want.humidity_max, id);
    }

    // Minutely: each distinct in-range reading once, each sensor's own time deciding lateness.
    const seen = new Set<string>();
    const distinct = calibrated.filter((r) => {
      const id = `${r.sensorId}/${r.timestamp}`;
      if (outOfRange(r) || seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    const minutely = disorderOracle(
      distinct.map((r) => ({ device: r.sensorId, time: r.timestamp, value: r.temperature })),
      3,
      { sizeMs: minuteMs, graceMs: 30_000 },
      'key',
    );
    const windows = driver
      .output('sensor-minutely', { key: string(), value: json<Windowed<string, SensorStats>>() })
      .readValues();
    const byId = new Map(windows.map((w) => [`${w.key}@${w.start}`, w.value]));
    assert.equal(byId.size, windows.length, 'each minute emitted once');
    assert.deepEqual([...byId.keys()].sort(), [...minutely.windows.keys()].sort());
    for (const [id, want] of minutely.windows) {
      const got = byId.get(id);
      assert.equal(got?.count, want.count, id);
      assert.ok(close(got?.temperature.mean, want.mean), `${id} mean`);
      assert.equal(got?.temperature.min, want.min, id);
      assert.equal(got?.temperature.max, want.max, id);
    }

    // Late: the minute windows' and the hour windows' late readings are dead letters.
    assert.ok(minutely.late.size >= expected.late, `${minutely.late.size} late for minutes`);
    assert.ok(expected.late > 5, `${expected.late} late for hours`);
    const codes = driver.written('sensors-dlq').map((d) => d.headers[deadLetterHeaders.code]);
    assert.equal(codes.length, minutely.late.size + expected.late);
    assert.ok(codes.every((c) => c === 'LATE_RECORD'));
    const flagged = driver.written('sensor-flagged');
    assert.equal(flagged.length, expected.outOfRange + noMetadata.length);
    assert.ok(noMetadata.length > 100, 'sensor-4 has no metadata: all its readings are flagged');

    // Predictions: one per hourly row, the model applied to it.
    const predictions = driver.sunk<string, SensorPrediction>(
      'cassandra:analytics.sensor_predictions',
    );
    assert.equal(predictions.length, expected.rows.size);
    for (const { value: p } of predictions) {
      const stats = rows.get(`${p.sensorId}@${p.windowStart}`);
      assert.ok(stats !== undefined);
      assert.ok(close(p.value, score(stats)), `${p.sensorId}@${p.windowStart}: ${p.value}`);
      assert.equal(p.modelVersion, 'logistic-2026-11-21-26fa6c26');
    }
    assert.ok(driver.stats().restored > 0);
  });
});
