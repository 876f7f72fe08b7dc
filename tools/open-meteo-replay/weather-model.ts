import { dayMs, hourMs } from '../../src/connectors/open-meteo/hours.ts';

/** One hour's values, as Open-Meteo reports them (null where a value is missing). */
export interface WeatherValues {
  temperature_2m: number | null;
  relative_humidity_2m: number | null;
  precipitation: number | null;
  wind_speed_10m: number | null;
}

/** A 32-bit integer mix of the inputs (murmur3's finalizer per step), as a number in [0, 1). */
function unit(...inputs: number[]): number {
  let h = 0x9e3779b9;
  for (const n of inputs) {
    h = Math.imul(h ^ (n | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 2 ** 32;
}

// + 0 turns -0 into 0, so a value survives JSON and a strict comparison alike.
const round1 = (x: number): number => Math.round(x * 10) / 10 + 0;
const clamp = (x: number, low: number, high: number): number => Math.min(high, Math.max(low, x));

/**
 * The replay server's weather: a pure function of (latitude, longitude, hour), so a test oracle
 * recomputes exactly what the server sent. Plausible, not meteorology:
 *
 * - temperature: a mean falling with latitude, a seasonal swing (coldest mid-January north of the
 *   equator, mid-July south of it), a day-to-day anomaly interpolated hour by hour, and a daily
 *   cycle peaking at 15:00 local solar time, damped on cloudy days;
 * - humidity: high at night and on cloudy days, at least 88 % while it rains;
 * - precipitation: more likely the cloudier the day, 0.1 to 6.1 mm in an hour;
 * - wind: a windiness per day plus an afternoon rise;
 * - about 1 hour in 500 lacks one of the four values (null), as real feeds do.
 *
 * Values are rounded as Open-Meteo rounds them: 0.1 °C, 1 %, 0.1 mm, 0.1 km/h.
 */
export function modelledWeather(latitude: number, longitude: number, time: number): WeatherValues {
  const hour = Math.floor(time / hourMs);
  const day = Math.floor(hour / 24);
  const lat = Math.round(latitude * 1e4);
  const lon = Math.round(longitude * 1e4);
  const u = (salt: number, index: number): number => unit(lat, lon, index, salt);

  const yearFraction = (time / dayMs / 365.2425) % 1;
  const season = -Math.cos(2 * Math.PI * (yearFraction - 15 / 365)) * Math.sign(latitude);
  const mean = 27 - 0.35 * Math.abs(latitude) + 0.2 * Math.abs(latitude) * season;
  const anomalyOf = (d: number): number => (u(1, d) - 0.5) * 8;
  const anomaly = anomalyOf(day) + (anomalyOf(day + 1) - anomalyOf(day)) * ((hour % 24) / 24);
  const solarHour = ((((hour % 24) + longitude / 15) % 24) + 24) % 24;
  const daily = Math.cos((2 * Math.PI * (solarHour - 15)) / 24);
  const cloud = u(2, day);
  const temperature = mean + anomaly + (3 + 4 * (1 - cloud)) * daily + (u(3, hour) - 0.5) * 0.8;

  const raining = u(5, hour) < 0.02 + 0.25 * cloud ** 3;
  const precipitation = raining ? 0.1 + 6 * u(6, hour) ** 3 : 0;
  let humidity = 68 + 20 * cloud - 15 * (1 - cloud) * daily + (u(4, hour) - 0.5) * 8;
  if (raining) humidity = Math.max(humidity, 88);
  const wind = 6 + 14 * u(7, day) + 4 * Math.max(0, daily) + (u(8, hour) - 0.5) * 5;

  const values: WeatherValues = {
    temperature_2m: round1(temperature),
    relative_humidity_2m: Math.round(clamp(humidity, 8, 100)),
    precipitation: round1(precipitation),
    wind_speed_10m: round1(Math.max(0, wind)),
  };
  if (u(9, hour) < 0.002) {
    const missing = (
      ['temperature_2m', 'relative_humidity_2m', 'precipitation', 'wind_speed_10m'] as const
    )[Math.floor(u(10, hour) * 4)];
    if (missing !== undefined) values[missing] = null;
  }
  return values;
}
