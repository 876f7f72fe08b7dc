import { z } from 'zod';

import { HttpSourceError } from './errors.ts';
import { hourMs } from './hours.ts';
import { hourlyVariables } from './observation.ts';
import type { Location, Observation } from './observation.ts';

const values = z.array(z.number().nullable());

/** Open-Meteo's answer to an hourly request (forecast and archive share it). */
export const openMeteoResponseSchema = z.object({
  latitude: z.number(),
  longitude: z.number(),
  generationtime_ms: z.number().optional(),
  utc_offset_seconds: z.number().int(),
  timezone: z.string().optional(),
  timezone_abbreviation: z.string().optional(),
  elevation: z.number().nullable().optional(),
  hourly_units: z.record(z.string()).optional(),
  hourly: z.object({
    time: z.array(z.string()),
    temperature_2m: values,
    relative_humidity_2m: values,
    precipitation: values,
    wind_speed_10m: values,
  }),
});

export type OpenMeteoResponse = z.infer<typeof openMeteoResponseSchema>;

const localTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** `2026-11-20T13:00` in a zone `utcOffsetSeconds` ahead of UTC, as ms UTC; NaN if not that form. */
export function parseLocalHour(text: string, utcOffsetSeconds: number): number {
  const m = localTime.exec(text);
  if (m === null) return NaN;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi) - utcOffsetSeconds * 1000;
  // Date.UTC rolls over (month 13, hour 25); a real timestamp prints back as itself.
  const back = new Date(time + utcOffsetSeconds * 1000).toISOString().slice(0, 16);
  return back === text ? time : NaN;
}

/**
 * Checks an Open-Meteo body and turns it into one observation per hour. Anything that does not
 * match (a missing variable, arrays of different lengths, a time that is not the start of an
 * hour) is an HTTP_RESPONSE_INVALID naming the location and the URL. Latitude and longitude
 * are the location's as configured, not the grid cell Open-Meteo answers with, so a location's
 * records keep the same coordinates whichever cell served them.
 */
export function observationsFrom(body: unknown, location: Location, url: string): Observation[] {
  const invalid = (why: string): HttpSourceError =>
    new HttpSourceError(
      'HTTP_RESPONSE_INVALID',
      `invalid Open-Meteo response for location '${location.id}' from ${url}: ${why}`,
    );
  const result = openMeteoResponseSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
    throw invalid(`${where}: ${issue?.message ?? 'does not match'}`);
  }
  const { hourly, utc_offset_seconds: offset } = result.data;
  const count = hourly.time.length;
  for (const variable of hourlyVariables) {
    if (hourly[variable].length !== count) {
      throw invalid(`hourly.${variable} has ${hourly[variable].length} values for ${count} times`);
    }
  }
  return hourly.time.map((text, i) => {
    const time = parseLocalHour(text, offset);
    if (Number.isNaN(time) || time % hourMs !== 0) {
      throw invalid(`hourly.time.${i}: '${text}' is not the start of an hour`);
    }
    return {
      location: location.id,
      latitude: location.latitude,
      longitude: location.longitude,
      time,
      temperature_2m: hourly.temperature_2m[i] ?? null,
      relative_humidity_2m: hourly.relative_humidity_2m[i] ?? null,
      precipitation: hourly.precipitation[i] ?? null,
      wind_speed_10m: hourly.wind_speed_10m[i] ?? null,
    };
  });
}
