import { TributaryError } from '../../core/index.ts';
import type { Observation } from './weather-types.ts';

/** One hourly observation at a location: the fields of schemas/observation.avsc. */
export type { Observation };

/** The hourly variables requested from Open-Meteo, in the order of schemas/observation.avsc. */
export const hourlyVariables = [
  'temperature_2m',
  'relative_humidity_2m',
  'precipitation',
  'wind_speed_10m',
] as const;

export type HourlyVariable = (typeof hourlyVariables)[number];

/** A place to poll. The id is the record key and names the location in progress and errors. */
export interface Location {
  id: string;
  latitude: number;
  longitude: number;
}

/** A keyed observation to publish: key = location id. */
export interface ObservationRecord {
  key: string;
  value: Observation;
}

/**
 * Writes the records to Kafka and resolves only once every one is acknowledged. A rejection
 * means the records may or may not have been written: the caller publishes them again later.
 */
export type Publish = (records: ObservationRecord[]) => Promise<void>;

/** Checks a list of locations: unique non-empty ids, coordinates in range. */
export function validateLocations(locations: readonly Location[], setting = 'locations'): void {
  if (locations.length === 0) {
    throw new TributaryError('CONFIG_INVALID', `${setting} must name at least one location`);
  }
  const seen = new Set<string>();
  for (const { id, latitude, longitude } of locations) {
    if (id.trim() === '' || /[\s/]/.test(id)) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `${setting}: a location id must be non-empty without spaces or '/', got '${id}'`,
      );
    }
    if (seen.has(id)) {
      throw new TributaryError('CONFIG_INVALID', `${setting}: location id '${id}' appears twice`);
    }
    seen.add(id);
    if (!Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `${setting}: latitude of '${id}' must be in [-90, 90], got ${latitude}`,
      );
    }
    if (!Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `${setting}: longitude of '${id}' must be in [-180, 180], got ${longitude}`,
      );
    }
  }
}

/**
 * Parses locations written as `id=latitude,longitude` separated by `;` or newlines, e.g.
 * `berlin=52.52,13.41;lisbon=38.72,-9.14` (the form a CLI flag or environment variable takes).
 */
export function parseLocations(text: string, setting = 'locations'): Location[] {
  const locations: Location[] = [];
  for (const entry of text.split(/[;\n]/)) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const match = /^([^=\s]+)\s*=\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)$/.exec(trimmed);
    if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `${setting} must be id=latitude,longitude[;...], got '${trimmed}'`,
      );
    }
    locations.push({ id: match[1], latitude: Number(match[2]), longitude: Number(match[3]) });
  }
  validateLocations(locations, setting);
  return locations;
}
