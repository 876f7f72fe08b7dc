// topologies/weather.ts in the test driver, Avro included: its serdes register their schemas
// in the in-memory schema registry and read and write the Confluent wire format. Observations of
// several locations, each out of order within the hourly grace, a few far too late, some sent
// twice, nulls here and there; two restarts on the way. The hourly and daily aggregates (Avro
// topics and the Cassandra sinks' records) must equal the weather oracle of scripts/verify,
// computed from the input with each location's own time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadSettings, topologyContext } from '../../src/app/index.ts';
import type { TopologyContext } from '../../src/app/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { createTestDriver, memorySchemaRegistry } from '../../src/testing/index.ts';
import weather from '../../topologies/weather.ts';
import { weatherOracle } from '../../scripts/verify/weather-oracle.ts';
import type { ExpectedRow } from '../../scripts/verify/weather-oracle.ts';
import type { Observation, WeatherAggregate } from '../../src/connectors/open-meteo/index.ts';
import { random } from '../random.ts';

const start = Date.UTC(2026, 2, 1);
const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/**
 * Four locations, an observation each every 15 minutes for three days, the locations
 * interleaved; each location's observations swapped with a neighbour now and then (up to 15
 * minutes out of order, inside the hour's 30 minutes of grace); every 53rd five hours old (off the quarter-hour grid: no duplicate of another) (late
 * for the hour, and for the day when its day has closed); 5% sent again right after; values
 * null now and then. Then each location's observation a day on closes every window before.
 */
function input(): Observation[] {
  const next = random(21);
  const value = (base: number, spread: number): number | null =>
    next() < 0.05 ? null : Math.round((base + next() * spread) * 10) / 10;
  const perLocation: Observation[][] = Array.from({ length: 4 }, (_, l) => {
    const list: Observation[] = [];
    for (let q = 0; q < 3 * 96; q++) {
      list.push({
        location: `loc-${l}`,
        latitude: 40 + l,
        longitude: 2 + l,
        time: start + q * 15 * 60_000,
        temperature_2m: value(5, 15),
        relative_humidity_2m: value(40, 50),
        precipitation: value(0, 2),
        wind_speed_10m: value(0, 30),
      });
    }
    for (let i = 1; i < list.length; i++) {
      if (next() < 0.3)
        [list[i - 1], list[i]] = [list[i] as Observation, list[i - 1] as Observation];
    }
    return list;
  });
  const all: Observation[] = [];
  for (let q = 0; q < 3 * 96; q++) {
    for (const list of perLocation) {
      const o = list[q] as Observation;
      if ((all.length + 1) % 53 === 0) {
        all.push({ ...o, time: o.time - 5 * hourMs - 7 * 60_000 });
        continue;
      }
      all.push(o);
      if (next() < 0.05) all.push({ ...o });
    }
  }
  for (let l = 0; l < 4; l++) {
    all.push({ ...(perLocation[l]?.[0] as Observation), time: start + 4 * dayMs });
  }
  return all;
}

const close = (a: unknown, b: unknown): boolean =>
  typeof a === 'number' && typeof b === 'number'
    ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))
    : a === b;

function assertRows(
  got: WeatherAggregate[],
  expected: Map<string, ExpectedRow>,
  sizeMs: number,
  what: string,
): void {
  const byId = new Map(got.map((a) => [`${a.location}@${a.window_start}`, a]));
  assert.equal(byId.size, got.length, `${what}: each window once`);
  assert.deepEqual([...byId.keys()].sort(), [...expected.keys()].sort(), what);
  for (const [id, want] of expected) {
    const a = byId.get(id) as WeatherAggregate;
    assert.equal(a.window_end, a.window_start + sizeMs, `${what} ${id} end`);
    for (const [field, v] of Object.entries(want))
      assert.ok(
        close(a[field as keyof WeatherAggregate], v),
        `${what} ${id} ${field}: ${String(a[field as keyof WeatherAggregate])} != ${String(v)}`,
      );
  }
}

describe('topologies/weather.ts in the test driver (Avro, in-memory schema registry)', () => {
  it('hourly and daily aggregates equal the oracle through out-of-order input and restarts', async () => {
    const registry = memorySchemaRegistry();
    const offline = topologyContext(loadSettings({}));
    const context: TopologyContext = {
      settings: offline.settings,
      registry,
      cassandra: offline.cassandra,
    };
    const partitions = 2;
    const driver = await createTestDriver(weather(context), { partitions, batchSize: 20 });
    assert.deepEqual(registry.subjectNames().sort(), [
      'weather-daily-value',
      'weather-hourly-value',
      'weather-observations-value',
    ]);
    const observations = driver.input<string, Observation>('weather-observations');
    const hourlyTopic = driver.output<string, WeatherAggregate>('weather-hourly');
    const dailyTopic = driver.output<string, WeatherAggregate>('weather-daily');
    const all = input();
    const cuts = [Math.floor(all.length * 0.3), Math.floor(all.length * 0.7), all.length];
    let from = 0;
    for (const cut of cuts) {
      for (const o of all.slice(from, cut)) observations.pipe(o.location, o, { timestamp: o.time });
      await driver.flush();
      if (cut < all.length) assert.deepEqual(await driver.restart(), [], 'state survives');
      from = cut;
    }

    const records = all.map((o) => ({ key: o.location, timestamp: o.time, observation: o }));
    const hourly = weatherOracle(records, partitions, hourMs, 30 * 60_000, { time: 'key' });
    const daily = weatherOracle(records, partitions, dayMs, 2 * hourMs, { time: 'key' });
    assert.equal(hourly.rows.size, 4 * 72);
    assert.equal(daily.rows.size, 4 * 3);
    assertRows(hourlyTopic.readValues(), hourly.rows, hourMs, 'hourly topic');
    assertRows(dailyTopic.readValues(), daily.rows, dayMs, 'daily topic');
    const sunk = (table: string): WeatherAggregate[] =>
      driver.sunk<string, WeatherAggregate>(`cassandra:analytics.${table}`).map((r) => r.value);
    assertRows(sunk('weather_hourly'), hourly.rows, hourMs, 'hourly table');
    assertRows(sunk('weather_daily'), daily.rows, dayMs, 'daily table');

    // The late observations (by each window size) are dead letters, once per aggregation.
    assert.ok(hourly.late > 10, `${hourly.late} late for hours`);
    const codes = driver.written('weather-dlq').map((d) => d.headers[deadLetterHeaders.code]);
    assert.ok(codes.every((c) => c === 'LATE_RECORD'));
    assert.equal(codes.length, hourly.late + daily.late);
    // What went out is the Confluent wire format with the registry's id.
    const [first] = driver.written('weather-hourly');
    assert.equal(first?.value?.readInt32BE(1), registry.versions('weather-hourly-value')[0]?.id);
    assert.ok(driver.stats().restored > 0);
  });
});
