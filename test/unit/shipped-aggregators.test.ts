// The shipped pipelines' aggregators (topologies/sensors.ts, topologies/weather-aggregate.ts)
// against oracles computed directly from the readings, and the sensor topology run in-process:
// duplicates are dropped by its dedup step before the windows, so a duplicate changes nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadSettings, topologyContext } from '../../src/app/index.ts';
import type { TopologyContext } from '../../src/app/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import type { Plan, Windowed } from '../../src/topology/index.ts';
import sensors, { sensorAggregator } from '../../topologies/sensors.ts';
import type { SensorReading, SensorStats } from '../../topologies/sensors.ts';
import weather from '../../topologies/weather.ts';
import { weatherAggregator } from '../../topologies/weather-aggregate.ts';
import type { ObservationValues } from '../../topologies/weather-aggregate.ts';
import { random, weatherLocations, weatherObservations } from '../../tools/generators/index.ts';
import type { GeneratedObservation } from '../../tools/generators/index.ts';

/** Folds with add, passing each aggregate through JSON as the window store does at a restart. */
function fold<V, A>(aggregator: { init: () => A; add: (a: A, v: V) => A }, items: V[]): A {
  let acc = aggregator.init();
  for (const item of items) acc = JSON.parse(JSON.stringify(aggregator.add(acc, item))) as A;
  return acc;
}

/** Sums add in arrival order now, not time order: equal up to rounding. */
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

function assertClose(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(close(actual, expected), `${path}: ${actual} != ${expected}`);
  } else if (typeof expected === 'object' && expected !== null) {
    assert.equal(typeof actual, 'object', path);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), path);
    for (const [k, v] of Object.entries(expected))
      assertClose((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

/** count, mean, min, max of a list, computed plainly. */
function stats(values: number[]): { mean: number; min: number; max: number } {
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

function sensorOracle(list: SensorReading[]): SensorStats {
  return {
    count: list.length,
    temperature: stats(list.map((r) => r.temperature)),
    humidity: stats(list.map((r) => r.humidity)),
  };
}

describe('sensor aggregator', () => {
  it('gives count, mean, min and max of temperature and humidity, through JSON at every step', () => {
    const next = random(1);
    const list: SensorReading[] = Array.from({ length: 500 }, (_, i) => ({
      sensorId: 's',
      timestamp: i * 1000,
      temperature: Math.round((next() * 50 - 10) * 100) / 100,
      humidity: Math.round(next() * 10_000) / 100,
    }));
    assertClose(sensorAggregator.result(fold(sensorAggregator, list)), sensorOracle(list), 'stats');
    // Order does not matter beyond rounding.
    assertClose(
      sensorAggregator.result(fold(sensorAggregator, [...list].reverse())),
      sensorOracle(list),
      'reversed',
    );
    assertClose(
      sensorAggregator.result(fold(sensorAggregator, list.slice(0, 1))),
      sensorOracle(list.slice(0, 1)),
      'one reading',
    );
  });

  it('keeps a constant-size aggregate however many readings it has seen', () => {
    let acc = sensorAggregator.init();
    const sizes = new Set<number>();
    for (let i = 0; i < 3600; i++) {
      acc = sensorAggregator.add(acc, {
        sensorId: 's',
        timestamp: i * 1000,
        temperature: 20,
        humidity: 50,
      });
      sizes.add(acc.length);
    }
    assert.deepEqual([...sizes], [7]);
    assert.ok(JSON.stringify(acc).length < 60, JSON.stringify(acc));
  });
});

/** The weather statistics of a window's observations, computed plainly. */
function summarize(list: ObservationValues[]) {
  const values = (pick: (o: ObservationValues) => number | null): number[] =>
    list.map(pick).filter((v): v is number => v !== null);
  const t = values((o) => o.temperature_2m);
  const h = values((o) => o.relative_humidity_2m);
  const p = values((o) => o.precipitation);
  const w = values((o) => o.wind_speed_10m);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    count: list.length,
    temperature_min: t.length === 0 ? null : Math.min(...t),
    temperature_max: t.length === 0 ? null : Math.max(...t),
    temperature_mean: t.length === 0 ? null : sum(t) / t.length,
    humidity_mean: h.length === 0 ? null : sum(h) / h.length,
    precipitation_total: p.length === 0 ? null : sum(p),
    wind_speed_max: w.length === 0 ? null : Math.max(...w),
  };
}

describe('weather aggregator', () => {
  it('equals the statistics of the observations, with nulls where no observation had a value', () => {
    const next = random(2);
    const value = (scale: number, nulls: number): number | null =>
      next() < nulls ? null : Math.round(next() * scale * 10) / 10;
    const list: ObservationValues[] = Array.from({ length: 48 }, (_, i) => ({
      time: i * 3_600_000,
      temperature_2m: value(30, 0.1),
      relative_humidity_2m: value(100, 0.2),
      precipitation: value(5, 0.5),
      wind_speed_10m: value(20, 1), // never a value
    }));
    const result = weatherAggregator.result(fold(weatherAggregator, list));
    assertClose(result, summarize(list), 'weather');
    assert.equal(result.wind_speed_max, null);
    assert.deepEqual(weatherAggregator.result(weatherAggregator.init()), {
      count: 0,
      temperature_min: null,
      temperature_max: null,
      temperature_mean: null,
      humidity_mean: null,
      precipitation_total: null,
      wind_speed_max: null,
    });
  });
});

/** Builds a shipped topology offline: nothing connects before a worker starts. */
const offline: TopologyContext = topologyContext(loadSettings({}));

describe('shipped topologies deduplicate before their windows', () => {
  it('weather: one dedup step on the observations feeds the hourly and daily aggregates', () => {
    const plan = weather(offline).plan;
    const nodes = plan.subtopologies.flatMap((s) => s.nodes);
    const dedup = nodes.find((n) => n.kind === 'process' && n.label === 'dedup');
    assert.ok(dedup?.kind === 'process' && dedup.label === 'dedup');
    assert.deepEqual(dedup.children, ['hourly', 'daily']);
    assert.equal(
      dedup.retentionMs,
      26 * 3_600_000,
      'the daily window: a day plus 2 hours of grace',
    );
    assert.equal(nodes.find((n) => n.name === 'observations')?.children[0], dedup.name);
  });

  it('weather: hourly and daily windows equal an oracle, and a duplicate changes nothing', async () => {
    /** The plan with JSON instead of Avro, so it runs without a schema registry. */
    const jsonPlan = (): Plan => {
      const plan = weather(offline).plan;
      for (const node of plan.subtopologies.flatMap((sub) => sub.nodes)) {
        if (node.kind === 'source' || (node.kind === 'sink' && !node.internal))
          node.value = json() as typeof node.value;
      }
      return plan;
    };
    const locations = weatherLocations(4);
    const startMs = Date.UTC(2026, 2, 1);
    const observations: GeneratedObservation[] = [];
    for (const r of weatherObservations({
      locations,
      startMs,
      days: 3,
      intervalMs: 15 * 60_000,
      outOfOrder: 0.05,
      maxDelayMs: 20 * 60_000,
      malformed: 0,
      seed: 4,
    }))
      if ('observation' in r) observations.push(r.observation);
    // Each location's last observation a day and 3 hours on closes every window before it.
    const closing = locations.map((l) => ({
      ...(observations[0] as GeneratedObservation),
      location: l.id,
      time: startMs + 4 * 86_400_000 + 3 * 3_600_000,
    }));
    const next = random(5);
    const withDuplicates: GeneratedObservation[] = [];
    observations.forEach((o, i) => {
      withDuplicates.push(o);
      if (next() < 0.05) withDuplicates.push({ ...o });
      // Some again 20 hours later in arrival: inside the daily window's 26 hours.
      const earlier = observations[i - 80 * locations.length];
      if (earlier !== undefined && i % 13 === 0) withDuplicates.push({ ...earlier });
    });
    const run = async (input: GeneratedObservation[]) => {
      const driver = await createTestDriver({ plan: jsonPlan() });
      const pipe = driver.input('weather-observations', {
        key: string(),
        value: json<GeneratedObservation>(),
      });
      for (const o of [...input, ...closing]) pipe.pipe(o.location, o);
      const rows = (table: string) =>
        driver
          .sunk<string, Record<string, unknown>>(`cassandra:analytics.${table}`)
          .map((r) => r.value);
      return {
        hourly: rows('weather_hourly'),
        daily: rows('weather_daily'),
        dead: driver.written('weather-dlq').length,
      };
    };
    const clean = await run(observations);
    const doubled = await run(withDuplicates);
    assert.ok(withDuplicates.length > observations.length + 100, `${withDuplicates.length}`);
    assert.deepEqual(doubled, clean, 'duplicates change nothing');
    assert.equal(clean.dead, 0, 'nothing late');
    for (const [table, sizeMs, count] of [
      ['hourly', 3_600_000, 4 * 72],
      ['daily', 86_400_000, 4 * 3],
    ] as const) {
      const got = clean[table];
      assert.equal(got.length, count, `${table} rows`);
      for (const row of got) {
        const start = row['window_start'] as number;
        const list = observations.filter(
          (o) => o.location === row['location'] && o.time >= start && o.time < start + sizeMs,
        );
        const { window_end: end, location: _l, window_start: _s, ...stats } = row;
        assert.equal(end, start + sizeMs, `${table} window end`);
        assertClose(stats, summarize(list), `${table} ${String(row['location'])}@${start}`);
      }
    }
  });

  it('sensors: minutely and hourly windows equal an oracle, and a duplicate changes nothing', async () => {
    const plan = sensors(offline).plan;
    const dedup = plan.subtopologies
      .flatMap((s) => s.nodes)
      .find((n) => n.kind === 'process' && n.label === 'dedup');
    assert.deepEqual(dedup?.children, ['minutely', 'hourly']);

    const start = Date.UTC(2026, 8, 10);
    const next = random(9);
    const originals: SensorReading[] = [];
    // 5 sensors, a reading every 10 s for 2 hours, up to 20 s out of order (inside the 30 s
    // grace of the minutely window), some out of range (flagged, left out).
    for (let step = 0; step < 720; step++) {
      const batch: SensorReading[] = [];
      for (let s = 0; s < 5; s++) {
        const timestamp = start + step * 10_000 + Math.floor(next() * 5) * 1000;
        batch.push({
          sensorId: `sensor-${s}`,
          timestamp,
          temperature: next() < 0.01 ? 200 : Math.round((15 + next() * 10) * 100) / 100,
          humidity: Math.round((40 + next() * 20) * 100) / 100,
        });
      }
      for (const r of batch.sort(() => next() - 0.5)) originals.push(r);
    }
    // Each sensor's last reading 3 hours on closes every window of the first two hours.
    const closing = Array.from({ length: 5 }, (_, s) => ({
      sensorId: `sensor-${s}`,
      timestamp: start + 3 * 3_600_000,
      temperature: 20,
      humidity: 50,
    }));
    const withDuplicates: SensorReading[] = [];
    for (const r of originals) {
      withDuplicates.push(r);
      if (next() < 0.05) withDuplicates.push({ ...r });
    }
    // Some duplicates much later in arrival, still inside the hourly window's 65 minutes.
    for (let i = 0; i < originals.length; i += 97) {
      const r = originals[i] as SensorReading;
      const at = withDuplicates.findIndex((x) => x.timestamp > r.timestamp + 40 * 60_000);
      if (at > 0) withDuplicates.splice(at, 0, { ...r });
    }

    const run = async (input: SensorReading[]) => {
      const driver = await createTestDriver({ plan });
      // Every sensor's metadata first, calibrating nothing (offset 0, °C).
      const metadata = driver.input('sensor-metadata', { key: string(), value: json() });
      for (let s = 0; s < 5; s++)
        metadata.pipe(`sensor-${s}`, {
          sensorId: `sensor-${s}`,
          calibrationOffset: 0,
          location: 'lab',
          unit: 'C',
        });
      await driver.flush();
      const pipe = driver.input('sensor-readings', { key: string(), value: json<SensorReading>() });
      for (const r of [...input, ...closing]) pipe.pipe(r.sensorId, r);
      const minutely = driver
        .output('sensor-minutely', {
          key: string(),
          value: json<Windowed<string, SensorStats>>(),
        })
        .readValues();
      const hourly = driver
        .sunk<string, Windowed<string, SensorStats>>('cassandra:analytics.sensor_hourly')
        .map((r) => r.value);
      const predictions = driver.sunk('cassandra:analytics.sensor_predictions').length;
      return { minutely, hourly, predictions, dead: driver.written('sensors-dlq').length };
    };
    const clean = await run(originals);
    const doubled = await run(withDuplicates);
    assert.ok(withDuplicates.length > originals.length + 150, `${withDuplicates.length} records`);
    assert.deepEqual(doubled, clean, 'duplicates change nothing');

    const inRange = originals.filter((r) => r.temperature <= 85);
    const expected = (sizeMs: number) => {
      const windows = new Map<string, SensorReading[]>();
      for (const r of inRange) {
        const id = `${r.sensorId}@${Math.floor(r.timestamp / sizeMs) * sizeMs}`;
        windows.set(id, [...(windows.get(id) ?? []), r]);
      }
      return windows;
    };
    for (const [sizeMs, got] of [
      [60_000, clean.minutely],
      [3_600_000, clean.hourly],
    ] as const) {
      const want = expected(sizeMs);
      assert.equal(got.length, want.size, `${sizeMs} ms windows`);
      for (const w of got) {
        const list = want.get(`${w.key}@${w.start}`);
        assert.ok(list !== undefined, `unexpected window ${w.key}@${w.start}`);
        assert.equal(w.end, w.start + sizeMs);
        assertClose(w.value, sensorOracle(list), `${w.key}@${w.start}`);
      }
    }
    assert.equal(clean.hourly.length, 10);
    assert.equal(clean.predictions, 10);
    assert.equal(clean.dead, 0, 'nothing late');
  });
});
