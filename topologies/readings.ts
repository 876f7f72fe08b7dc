// Sensor readings -> hourly aggregates per sensor: the topology the Docker image runs by default
// and the one `npm run produce -- readings` feeds. Records that fail the schema (out-of-range
// values, wrong types, not JSON) go to the dead-letter topic `readings-hourly-dlq` with the reason.
//
//   tributary describe topologies/readings.ts
//   tributary run topologies/readings.ts
//
// Topics: READINGS_TOPIC (default `readings`) in, READINGS_HOURLY_TOPIC (default
// `readings-hourly`) out.
import { z } from 'zod';

import { hours, json, minutes, string, topology, tumbling } from 'tributary';
import type { Windowed } from 'tributary';

export const reading = z.object({
  sensorId: z.string().min(1),
  /** Degrees Celsius; outside what a sensor can measure is a fault, not weather. */
  temperature: z.number().min(-60).max(70),
  /** Relative humidity, percent. */
  humidity: z.number().min(0).max(100),
  /** Event time, ms since the epoch. */
  timestamp: z.number().int().nonnegative(),
});
export type Reading = z.infer<typeof reading>;

export interface HourlyReadings {
  count: number;
  temperature: { min: number; max: number; mean: number };
  humidity: { mean: number };
}

interface Sums {
  count: number;
  tMin: number;
  tMax: number;
  tSum: number;
  hSum: number;
}

const input = process.env['READINGS_TOPIC'] ?? 'readings';
const output = process.env['READINGS_HOURLY_TOPIC'] ?? 'readings-hourly';

const t = topology('readings-hourly');
t.stream(
  input,
  { key: string(), value: json({ schema: reading }) },
  { name: 'readings', timestamp: (value) => value.timestamp },
)
  .groupByKey()
  .windowedBy(tumbling(hours(1), { grace: minutes(5) }))
  .aggregate(
    {
      init: (): Sums => ({ count: 0, tMin: Infinity, tMax: -Infinity, tSum: 0, hSum: 0 }),
      add: (a: Sums, r: Reading): Sums => ({
        count: a.count + 1,
        tMin: Math.min(a.tMin, r.temperature),
        tMax: Math.max(a.tMax, r.temperature),
        tSum: a.tSum + r.temperature,
        hSum: a.hSum + r.humidity,
      }),
      result: (a: Sums): HourlyReadings => ({
        count: a.count,
        temperature: { min: a.tMin, max: a.tMax, mean: a.tSum / a.count },
        humidity: { mean: a.hSum / a.count },
      }),
    },
    { store: 'hourly', name: 'hourly' },
  )
  .to(
    output,
    { key: string(), value: json<Windowed<string, HourlyReadings>>() },
    { name: 'to-hourly' },
  );

export default t.build();
