// The weather pipeline's expected result, computed directly from the generated observations as
// a batch job would, independently of topologies/weather-aggregate.ts: in the order Kafka
// delivers them (per partition, as Kafka places the locations), each location's own event time
// (or, for the per-partition rule, the partition's stream time) deciding what is late and which
// windows have closed. Shared by the weather integration test and `npm run demo`.
import { partitionForKey } from '../../src/kafka/index.ts';
import type { GeneratedObservation, WeatherRecord } from '../../tools/generators/index.ts';

export interface ExpectedRow {
  location: string;
  window_start: number;
  count: number;
  temperature_min: number | null;
  temperature_max: number | null;
  temperature_mean: number | null;
  humidity_mean: number | null;
  precipitation_total: number | null;
  wind_speed_max: number | null;
}

export interface WeatherOracle {
  /** `location@windowStart` -> row, for every window that closed. */
  rows: Map<string, ExpectedRow>;
  late: number;
  /** The positions in the input of the late observations, in input order. */
  lateIndexes: number[];
}

function summarize(location: string, start: number, list: GeneratedObservation[]): ExpectedRow {
  const values = (pick: (o: GeneratedObservation) => number | null): number[] =>
    list.map(pick).filter((v): v is number => v !== null);
  const t = values((o) => o.temperature_2m);
  const h = values((o) => o.relative_humidity_2m);
  const p = values((o) => o.precipitation);
  const w = values((o) => o.wind_speed_10m);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    location,
    window_start: start,
    count: list.length,
    temperature_min: t.length === 0 ? null : Math.min(...t),
    temperature_max: t.length === 0 ? null : Math.max(...t),
    temperature_mean: t.length === 0 ? null : sum(t) / t.length,
    humidity_mean: h.length === 0 ? null : sum(h) / h.length,
    precipitation_total: p.length === 0 ? null : sum(p),
    wind_speed_max: w.length === 0 ? null : Math.max(...w),
  };
}

export function weatherOracle(
  records: WeatherRecord[],
  partitions: number,
  sizeMs: number,
  graceMs: number,
  options: {
    /** Whose event time closes windows: each location's own (the topology's) or the partition's. */
    time?: 'key' | 'partition';
    /** An idle timeout closes every window in the end (the topology runs with one). */
    idleClosesAll?: boolean;
  } = {},
): WeatherOracle {
  const { time = 'key', idleClosesAll = false } = options;
  const streamTime = new Map<string | number, number>();
  const clockOf = (location: string, partition: number): string | number =>
    time === 'key' ? location : partition;
  const windows = new Map<
    string,
    {
      location: string;
      start: number;
      partition: number;
      byTime: Map<number, GeneratedObservation>;
    }
  >();
  const lateIndexes: number[] = [];
  for (const [index, r] of records.entries()) {
    if (!('observation' in r)) continue;
    const o = r.observation;
    const partition = partitionForKey(o.location, partitions);
    const clock = clockOf(o.location, partition);
    const now = Math.max(streamTime.get(clock) ?? -Infinity, o.time);
    streamTime.set(clock, now);
    const start = Math.floor(o.time / sizeMs) * sizeMs;
    if (start + sizeMs + graceMs <= now) {
      lateIndexes.push(index);
      continue;
    }
    const id = `${o.location}@${start}`;
    const w = windows.get(id) ?? { location: o.location, start, partition, byTime: new Map() };
    w.byTime.set(o.time, o);
    windows.set(id, w);
  }
  const rows = new Map<string, ExpectedRow>();
  for (const [id, w] of windows) {
    const clock = clockOf(w.location, w.partition);
    if (!idleClosesAll && w.start + sizeMs + graceMs > (streamTime.get(clock) ?? -Infinity))
      continue;
    const list = [...w.byTime.values()].sort((a, b) => a.time - b.time);
    rows.set(id, summarize(w.location, w.start, list));
  }
  return { rows, late: lateIndexes.length, lateIndexes };
}
