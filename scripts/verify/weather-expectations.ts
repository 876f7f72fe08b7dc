// What `npm run demo` expects, from the observations topic as read back (what the HTTP backfill
// and the generator published, in the order the workers read it) and from what the generator
// says it did on purpose: the hourly and daily rows (every (location, window) with an
// observation, counted as the oracle counts), and the dead letters (each record that does not
// decode, each observation past its window's grace by its location's own time).
import type { CountCheck, ExpectedDeadLetter, WindowRow } from './compare.ts';
import { weatherOracle } from './weather-oracle.ts';
import type { ExpectedRow, WeatherOracle } from './weather-oracle.ts';
import type { GeneratedObservation, WeatherRecord } from '../../tools/generators/index.ts';

const hourMs = 3_600_000;

/** The windows of topologies/weather.ts: tumbling hours (grace 30 min) and days (grace 2 h). */
export const weatherWindows = [
  { table: 'weather_hourly', sizeMs: hourMs, graceMs: 30 * 60_000, unit: 'hour' },
  { table: 'weather_daily', sizeMs: 24 * hourMs, graceMs: 2 * hourMs, unit: 'day' },
] as const;

/** A record of the observations topic: its position, and its observation if it decodes. */
export interface InputRecord {
  partition: number;
  offset: string;
  key: string;
  timestamp: number;
  observation: GeneratedObservation | undefined;
}

/** What the generator reported doing on purpose. */
export interface Deliberate {
  /** Garbage records it sent. */
  malformed: number;
  /** `location@time` of the observations it held back. */
  outOfOrder: Set<string>;
}

export interface WeatherExpectations {
  tables: { table: string; rows: WindowRow[]; late: number }[];
  deadLetters: ExpectedDeadLetter[];
  /** Checks of the input itself against what the sources reported. */
  counts: CountCheck[];
  undecodable: number;
}

export const positionOf = (r: { partition: number; offset: string }): string =>
  `partition ${r.partition} offset ${r.offset}`;

function windowRow(row: ExpectedRow): WindowRow {
  const { location, window_start, count, ...values } = row;
  return { key: location, windowStart: window_start, count, values };
}

/**
 * `published` is what the sources say they sent (backfilled + generated); `partitions` the
 * observations topic's.
 */
export function weatherExpectations(
  input: InputRecord[],
  deliberate: Deliberate,
  published: number,
  partitions: number,
): WeatherExpectations {
  const records: WeatherRecord[] = input.map((r) =>
    r.observation === undefined
      ? { key: r.key, timestamp: r.timestamp, malformed: Buffer.alloc(0) }
      : { key: r.key, timestamp: r.timestamp, observation: r.observation },
  );
  const deadLetters: ExpectedDeadLetter[] = [];
  const undecodable = input.filter((r) => r.observation === undefined);
  for (const r of undecodable)
    deadLetters.push({ match: positionOf(r), code: 'SERDE_*', cause: 'malformed on purpose' });
  const tables: WeatherExpectations['tables'] = [];
  let lateNotHeldBack = 0;
  for (const w of weatherWindows) {
    // An idle timeout closes each location's last windows, so every window is expected.
    const oracle: WeatherOracle = weatherOracle(records, partitions, w.sizeMs, w.graceMs, {
      time: 'key',
      idleClosesAll: true,
    });
    for (const index of oracle.lateIndexes) {
      const r = input[index];
      if (r?.observation === undefined) continue;
      if (!deliberate.outOfOrder.has(`${r.key}@${r.observation.time}`)) lateNotHeldBack++;
      deadLetters.push({
        match: positionOf(r),
        code: 'LATE_RECORD',
        cause: `held back past their ${w.unit}'s grace`,
      });
    }
    tables.push({
      table: w.table,
      rows: [...oracle.rows.values()].map(windowRow),
      late: oracle.late,
    });
  }
  const counts: CountCheck[] = [
    { what: 'records in the observations topic', expected: published, actual: input.length },
    {
      what: 'records that do not decode (the generator made that many malformed)',
      expected: deliberate.malformed,
      actual: undecodable.length,
    },
    {
      what: 'observations late by their own location time that nobody held back',
      expected: 0,
      actual: lateNotHeldBack,
    },
  ];
  return { tables, deadLetters, counts, undecodable: undecodable.length };
}
