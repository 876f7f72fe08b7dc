/**
 * TypeScript types of the weather pipeline's Avro schemas (schemas/*.avsc), written by hand to
 * match them; test/unit/serde-avro-weather-types.test.ts checks that they do. Timestamps
 * (`timestamp-millis`) are milliseconds since the epoch; a nullable measure is `number | null`.
 */

/** schemas/observation.avsc: one hourly observation at a location. */
export interface Observation {
  /** Location id, the record key. */
  location: string;
  latitude: number;
  longitude: number;
  /** Start of the observed hour, UTC, ms since the epoch. */
  time: number;
  /** °C */
  temperature_2m: number | null;
  /** % */
  relative_humidity_2m: number | null;
  /** mm */
  precipitation: number | null;
  /** km/h */
  wind_speed_10m: number | null;
}

/** The fields of both aggregates: a location's observations over one window. */
export interface WeatherAggregate {
  location: string;
  /** Start of the window, inclusive, ms since the epoch. */
  window_start: number;
  /** End of the window, exclusive, ms since the epoch. */
  window_end: number;
  /** Observations in the window. */
  count: number;
  /** °C; null when no observation in the window had a temperature. */
  temperature_min: number | null;
  temperature_max: number | null;
  temperature_mean: number | null;
  /** % */
  humidity_mean: number | null;
  /** mm, the sum over the window. */
  precipitation_total: number | null;
  /** km/h */
  wind_speed_max: number | null;
}

/** schemas/weather-hourly.avsc (record WeatherHourly). */
export type WeatherHourly = WeatherAggregate;

/** schemas/weather-daily.avsc (record WeatherDaily). */
export type WeatherDaily = WeatherAggregate;

/** Where the weather schemas are: pass one as `avro({ schema })`. */
export const weatherSchemaFiles = {
  observation: new URL('../../../schemas/observation.avsc', import.meta.url),
  hourly: new URL('../../../schemas/weather-hourly.avsc', import.meta.url),
  daily: new URL('../../../schemas/weather-daily.avsc', import.meta.url),
} as const;
