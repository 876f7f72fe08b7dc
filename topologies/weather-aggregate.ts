import type { WeatherAggregate } from '../src/serde/index.ts';

// The weather aggregation of topologies/weather.ts: per location and window, the distinct
// observations by time (a repeated observation of the same time replaces the earlier one, so a
// source that delivers a row twice does not change the result), then their statistics.

/** An observation as the aggregate needs it (the fields of schemas/observation.avsc). */
export interface ObservationValues {
  time: number;
  temperature_2m: number | null;
  relative_humidity_2m: number | null;
  precipitation: number | null;
  wind_speed_10m: number | null;
}

/** Per observation time (ms, as a string key): temperature, humidity, precipitation, wind. */
export interface WeatherAccumulator {
  byTime: Record<string, [number | null, number | null, number | null, number | null]>;
}

/** The statistics of one location and window; null where no observation had the value. */
export type WeatherStats = Omit<WeatherAggregate, 'location' | 'window_start' | 'window_end'>;

function stats(
  values: (number | null)[],
): { min: number; max: number; sum: number; n: number } | null {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    n++;
  }
  return n === 0 ? null : { min, max, sum, n };
}

export const weatherAggregator = {
  init: (): WeatherAccumulator => ({ byTime: {} }),
  add: (acc: WeatherAccumulator, o: ObservationValues): WeatherAccumulator => ({
    byTime: {
      ...acc.byTime,
      [String(o.time)]: [
        o.temperature_2m,
        o.relative_humidity_2m,
        o.precipitation,
        o.wind_speed_10m,
      ],
    },
  }),
  result: (acc: WeatherAccumulator): WeatherStats => {
    // Sorted by time, so sums add in the same order however the records arrived.
    const rows = Object.entries(acc.byTime)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, row]) => row);
    const t = stats(rows.map((r) => r[0]));
    const h = stats(rows.map((r) => r[1]));
    const p = stats(rows.map((r) => r[2]));
    const w = stats(rows.map((r) => r[3]));
    return {
      count: rows.length,
      temperature_min: t?.min ?? null,
      temperature_max: t?.max ?? null,
      temperature_mean: t === null ? null : t.sum / t.n,
      humidity_mean: h === null ? null : h.sum / h.n,
      precipitation_total: p?.sum ?? null,
      wind_speed_max: w?.max ?? null,
    };
  },
};
