// The demo's own types (not part of the package's API).
import type { WeatherAggregate } from 'tributary/connectors/open-meteo';

// The weather aggregation of topologies/weather.ts: per location and window, the count of
// observations and, per field, how many had a value and their sum, min and max. Constant size,
// so an observation costs the same however full the window is. A source that delivers a row
// twice is handled upstream: the topology drops repeated (location, time) pairs with a dedup
// step before the windows.

/** An observation as the aggregate needs it (the fields of schemas/observation.avsc). */
export interface ObservationValues {
  time: number;
  temperature_2m: number | null;
  relative_humidity_2m: number | null;
  precipitation: number | null;
  wind_speed_10m: number | null;
}

/** One field's non-null values: how many, their sum, min and max (meaningless while n is 0). */
export interface FieldStats {
  n: number;
  sum: number;
  min: number;
  max: number;
}

export interface WeatherAccumulator {
  count: number;
  temperature: FieldStats;
  humidity: FieldStats;
  precipitation: FieldStats;
  wind: FieldStats;
}

/** The statistics of one location and window; null where no observation had the value. */
export type WeatherStats = Omit<WeatherAggregate, 'location' | 'window_start' | 'window_end'>;

const noValues: FieldStats = { n: 0, sum: 0, min: 0, max: 0 };

// Starts min and max from the first value: ±Infinity would not survive the store's JSON.
function addValue(stats: FieldStats, v: number | null): FieldStats {
  if (v === null) return stats;
  if (stats.n === 0) return { n: 1, sum: v, min: v, max: v };
  return {
    n: stats.n + 1,
    sum: stats.sum + v,
    min: Math.min(stats.min, v),
    max: Math.max(stats.max, v),
  };
}

export const weatherAggregator = {
  init: (): WeatherAccumulator => ({
    count: 0,
    temperature: noValues,
    humidity: noValues,
    precipitation: noValues,
    wind: noValues,
  }),
  add: (acc: WeatherAccumulator, o: ObservationValues): WeatherAccumulator => ({
    count: acc.count + 1,
    temperature: addValue(acc.temperature, o.temperature_2m),
    humidity: addValue(acc.humidity, o.relative_humidity_2m),
    precipitation: addValue(acc.precipitation, o.precipitation),
    wind: addValue(acc.wind, o.wind_speed_10m),
  }),
  result: (acc: WeatherAccumulator): WeatherStats => {
    const { temperature: t, humidity: h, precipitation: p, wind: w } = acc;
    return {
      count: acc.count,
      temperature_min: t.n === 0 ? null : t.min,
      temperature_max: t.n === 0 ? null : t.max,
      temperature_mean: t.n === 0 ? null : t.sum / t.n,
      humidity_mean: h.n === 0 ? null : h.sum / h.n,
      precipitation_total: p.n === 0 ? null : p.sum,
      wind_speed_max: w.n === 0 ? null : w.max,
    };
  },
};
