import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compareDeadLetters, compareRows, problems, rowId } from '../../scripts/verify/compare.ts';
import type { WindowRow } from '../../scripts/verify/compare.ts';
import { sensorOracle } from '../../scripts/verify/sensor-oracle.ts';
import { weatherExpectations } from '../../scripts/verify/weather-expectations.ts';
import type { InputRecord } from '../../scripts/verify/weather-expectations.ts';
import type { GeneratedObservation } from '../../tools/generators/index.ts';

const hour = 3_600_000;
const t0 = Date.UTC(2026, 10, 20);

const row = (key: string, h: number, count: number, mean: number | null = 1): WindowRow => ({
  key,
  windowStart: t0 + h * hour,
  count,
  values: { temperature_mean: mean },
});

describe('demo verification: rows written against rows expected', () => {
  const expected = [row('a', 0, 4), row('a', 1, 4), row('b', 0, 3)];

  it('finds nothing wrong when every expected row is written as expected', () => {
    const result = compareRows('t', expected, [row('b', 0, 3), row('a', 1, 4), row('a', 0, 4)]);
    assert.equal(result.equal, 3);
    assert.deepEqual(problems([result], []), []);
  });

  it('reports a missing row by name', () => {
    const result = compareRows('t', expected, [row('a', 0, 4), row('b', 0, 3)]);
    assert.deepEqual(result.missing, [rowId('a', t0 + hour)]);
    assert.equal(result.equal, 2);
    const found = problems([result], []);
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /t: 1 of 3 expected rows missing: a@2026-11-20T01:00:00.000Z/);
  });

  it('reports a row the input does not imply', () => {
    const result = compareRows('t', expected, [...expected, row('c', 5, 1)]);
    assert.deepEqual(result.extra, [rowId('c', t0 + 5 * hour)]);
    assert.match(problems([result], [])[0] ?? '', /1 rows the input does not imply: c@/);
  });

  it('reports a wrong count with both figures', () => {
    const result = compareRows('t', expected, [row('a', 0, 4), row('a', 1, 3), row('b', 0, 3)]);
    assert.deepEqual(result.wrongCount, [
      { id: rowId('a', t0 + hour), column: 'count', expected: 4, written: 3 },
    ]);
    assert.equal(result.equal, 2);
    assert.match(problems([result], [])[0] ?? '', /wrong count: a@.* count 3, expected 4/);
  });

  it('reports a wrong value, a null for a number, and accepts rounding of sums', () => {
    const written = [row('a', 0, 4, 1 + 1e-12), row('a', 1, 4, 1.5), row('b', 0, 3, null)];
    const result = compareRows('t', expected, written);
    assert.deepEqual(
      result.wrongValues.map((m) => [m.id, m.written]),
      [
        [rowId('a', t0 + hour), 1.5],
        [rowId('b', t0), null],
      ],
    );
    assert.equal(result.equal, 1);
  });
});

describe('demo verification: dead letters read against dead letters expected', () => {
  const expected = [
    { match: 'p0/1', code: 'SERDE_*', cause: 'malformed' },
    { match: 'p0/7', code: 'LATE_RECORD', cause: 'late' },
    { match: 'p1/2', code: 'LATE_RECORD', cause: 'late' },
  ];
  const letter = (match: string, code: string, reason: string) => ({
    match,
    code,
    reason,
    operator: 'hourly',
  });

  it('pairs each letter with the one expected for its record and code, a prefix standing for any', () => {
    const result = compareDeadLetters('dlq', expected, [
      letter('p1/2', 'LATE_RECORD', 'late'),
      letter('p0/1', 'SERDE_UNKNOWN_SCHEMA', 'invalid'),
      letter('p0/7', 'LATE_RECORD', 'late'),
    ]);
    assert.deepEqual(problems([], [result]), []);
    assert.deepEqual(Object.fromEntries(result.byCause), {
      malformed: { expected: 1, found: 1 },
      late: { expected: 2, found: 2 },
    });
    assert.deepEqual(Object.fromEntries(result.byCodeReason), {
      'LATE_RECORD (late)': 2,
      'SERDE_UNKNOWN_SCHEMA (invalid)': 1,
    });
  });

  it('reports a dead letter nobody made on purpose, and one expected but absent', () => {
    const result = compareDeadLetters('dlq', expected, [
      letter('p0/1', 'SERDE_DESERIALIZE_FAILED', 'invalid'),
      letter('p0/7', 'LATE_RECORD', 'late'),
      letter('p2/9', 'LATE_RECORD', 'late'),
    ]);
    assert.deepEqual(
      result.unexpected.map((u) => u.match),
      ['p2/9'],
    );
    assert.deepEqual(
      result.missing.map((m) => m.match),
      ['p1/2'],
    );
    const found = problems([], [result]);
    assert.equal(found.length, 2);
    assert.match(
      found[0] ?? '',
      /dlq: 1 records that nothing published on purpose explains: LATE_RECORD/,
    );
    assert.match(found[1] ?? '', /dlq: 1 expected dead letters missing: LATE_RECORD for p1\/2/);
  });

  it('does not take a letter of another code, nor the same record twice', () => {
    const result = compareDeadLetters('dlq', expected, [
      letter('p0/1', 'LATE_RECORD', 'late'),
      letter('p0/7', 'LATE_RECORD', 'late'),
      letter('p0/7', 'LATE_RECORD', 'late'),
    ]);
    assert.deepEqual(
      result.unexpected.map((u) => `${u.match} ${u.code}`),
      ['p0/1 LATE_RECORD', 'p0/7 LATE_RECORD'],
    );
    assert.deepEqual(result.missing.map((m) => m.match).sort(), ['p0/1', 'p1/2']);
  });

  it('reports a count that differs from what a source reported', () => {
    assert.deepEqual(problems([], [], [{ what: 'records', expected: 10, actual: 9 }]), [
      'records: 9, expected 10',
    ]);
  });
});

describe("the demo's weather expectations, from a hand-worked input", () => {
  const observation = (location: string, minutes: number, t: number): GeneratedObservation => ({
    location,
    latitude: 50,
    longitude: 10,
    time: t0 + minutes * 60_000,
    temperature_2m: t,
    relative_humidity_2m: null,
    precipitation: 0,
    wind_speed_10m: 5,
  });
  let offset = 0;
  const record = (partition: number, o: GeneratedObservation | undefined, key = o?.location) => ({
    partition,
    offset: String(offset++),
    key: key ?? '',
    timestamp: o?.time ?? t0,
    observation: o,
  });
  // Location a (partition 0): 00:00, 00:30, 01:45, then 00:15 held back (late: hour 0 closes
  // at 01:30), and one garbage record. Location b (partition 1) runs days ahead: by partition
  // or global time it would make a late, by a's own time it does not. Location c: 02:00, then
  // 00:45, late and not held back by anyone.
  const input: InputRecord[] = [
    record(0, observation('a', 0, 10)),
    record(0, observation('a', 30, 12)),
    record(1, observation('b', 3 * 24 * 60, 1)),
    record(0, observation('a', 105, 14)),
    record(0, observation('a', 15, 11)),
    record(0, undefined, 'a'),
    record(1, observation('c', 120, 5)),
    record(1, observation('c', 45, 6)),
  ];
  const result = weatherExpectations(
    input,
    { malformed: 1, outOfOrder: new Set([`a@${t0 + 15 * 60_000}`]) },
    8,
    2,
  );
  const hourly = result.tables.find((t) => t.table === 'weather_hourly');
  const daily = result.tables.find((t) => t.table === 'weather_daily');

  it('expects each (location, window) with an observation, counted without the late ones', () => {
    const summary = (rows: WindowRow[] | undefined) =>
      (rows ?? []).map((r) => `${rowId(r.key, r.windowStart)} ${r.count}`).sort();
    assert.deepEqual(summary(hourly?.rows), [
      'a@2026-11-20T00:00:00.000Z 2',
      'a@2026-11-20T01:00:00.000Z 1',
      'b@2026-11-23T00:00:00.000Z 1',
      'c@2026-11-20T02:00:00.000Z 1',
    ]);
    assert.deepEqual(summary(daily?.rows), [
      'a@2026-11-20T00:00:00.000Z 4',
      'b@2026-11-23T00:00:00.000Z 1',
      'c@2026-11-20T00:00:00.000Z 2',
    ]);
    const a0 = hourly?.rows.find((r) => r.key === 'a' && r.windowStart === t0);
    assert.equal(a0?.values['temperature_mean'], 11);
    assert.equal(a0?.values['humidity_mean'], null);
  });

  it('expects a dead letter for the garbage and for each late observation, by position', () => {
    assert.deepEqual(
      result.deadLetters.map((d) => `${d.match} ${d.code}`),
      [
        'partition 0 offset 5 SERDE_*',
        'partition 0 offset 4 LATE_RECORD',
        'partition 1 offset 7 LATE_RECORD',
      ],
    );
  });

  it('counts a late observation nobody held back as a problem of the input', () => {
    assert.deepEqual(
      result.counts.map((c) => [c.expected, c.actual]),
      [
        [8, 8],
        [1, 1],
        [0, 1],
      ],
    );
  });
});

describe('the sensor oracle', () => {
  const reading = (sensorId: string, minutes: number, temperature: number) => ({
    sensorId,
    timestamp: t0 + minutes * 60_000,
    temperature,
    humidity: 50,
  });

  it('leaves out flagged readings (which move no time), counts a repeated reading once, and expects closed hours only', () => {
    const result = sensorOracle([
      reading('s1', 10, 20),
      reading('s1', 10, 20),
      reading('s1', 50, 22),
      reading('s1', 200, 999),
      reading('s1', 64, 21),
      reading('s1', 66, 23),
      reading('s2', 30, 18),
    ]);
    // s1's time is 01:06: hour 0 (closes 01:05) is closed; 00:50 arrived before, so it counts.
    assert.deepEqual([...result.rows.keys()], [`s1@${t0}`]);
    assert.equal(result.rows.get(`s1@${t0}`)?.count, 2);
    assert.equal(result.rows.get(`s1@${t0}`)?.temperature_mean, 21);
    assert.deepEqual(result.open.sort(), [`s1@${t0 + hour}`, `s2@${t0}`]);
    assert.equal(result.outOfRange, 1);
    assert.equal(result.late, 0);
  });

  it('drops a reading past its hour grace by its own sensor time', () => {
    const result = sensorOracle([
      reading('s1', 0, 20),
      reading('s1', 70, 20),
      reading('s1', 59, 25),
      reading('s2', 59, 19),
    ]);
    assert.equal(result.late, 1);
    assert.equal(result.rows.get(`s1@${t0}`)?.count, 1);
    assert.deepEqual(result.open.sort(), [`s1@${t0 + hour}`, `s2@${t0}`]);
  });
});
