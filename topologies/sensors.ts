// The sensor pipeline: readings from MQTT (bridged into Kafka by `tributary source sensors`) ->
// cleaning (schema check, out-of-range values flagged to their own topic, duplicates by sensor
// and timestamp removed inside each window) -> 1-minute and hourly tumbling aggregates ->
// model inference on the hourly aggregates -> Cassandra tables analytics.sensor_hourly and
// analytics.sensor_predictions. Windows close by each sensor's own event time (time: 'key'): a
// sensor that reconnects with hours of buffered readings, or whose clock runs ahead, never makes
// another sensor's readings late.
//
//   tributary describe topologies/sensors.ts
//   tributary run topologies/sensors.ts
//
// Topics: SENSORS_READINGS_TOPIC (default `sensor-readings`) in; SENSORS_FLAGGED_TOPIC
// (`sensor-flagged`) and SENSORS_MINUTELY_TOPIC (`sensor-minutely`) out. Cassandra:
// SENSORS_KEYSPACE (`analytics`). Model: SENSORS_MODEL (default models/sensor-model.json).
import { z } from 'zod';

import type { TopologyContext } from '../src/app/index.ts';
import { cassandraSink } from '../src/connectors/cassandra/index.ts';
import { predict } from '../src/operators/index.ts';
import type { Prediction } from '../src/operators/index.ts';
import { json, string } from '../src/serde/index.ts';
import { hours, minutes, seconds, topology, tumbling } from '../src/topology/index.ts';
import type { Windowed } from '../src/topology/index.ts';

export const readingSchema = z.object({
  sensorId: z.string().min(1),
  /** Event time, ms since the epoch. */
  timestamp: z.number().int().nonnegative(),
  /** °C */
  temperature: z.number(),
  /** % */
  humidity: z.number(),
});
export type SensorReading = z.infer<typeof readingSchema>;

/** What a sensor can measure; outside it a value is a fault, flagged and left out. */
export const validRange = { temperature: [-40, 85], humidity: [0, 100] } as const;

export function flagOf(r: SensorReading): string | undefined {
  const [tMin, tMax] = validRange.temperature;
  const [hMin, hMax] = validRange.humidity;
  if (r.temperature < tMin || r.temperature > tMax)
    return `temperature ${r.temperature} outside [${tMin}, ${tMax}]`;
  if (r.humidity < hMin || r.humidity > hMax)
    return `humidity ${r.humidity} outside [${hMin}, ${hMax}]`;
  return undefined;
}

/** A sensor's readings in a window, one per timestamp (a duplicate replaces itself). */
interface Readings {
  byTime: Record<string, [number, number]>;
}

export interface SensorStats {
  count: number;
  temperature: { mean: number; min: number; max: number };
  humidity: { mean: number; min: number; max: number };
}

export const sensorAggregator = {
  init: (): Readings => ({ byTime: {} }),
  add: (acc: Readings, r: SensorReading): Readings => ({
    byTime: { ...acc.byTime, [String(r.timestamp)]: [r.temperature, r.humidity] },
  }),
  result: (acc: Readings): SensorStats => {
    const rows = Object.entries(acc.byTime)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, row]) => row);
    const stat = (i: 0 | 1) => {
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const row of rows) {
        const v = row[i];
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      return { mean: sum / rows.length, min, max };
    };
    return { count: rows.length, temperature: stat(0), humidity: stat(1) };
  },
};

export interface SensorPrediction {
  sensorId: string;
  windowStart: number;
  value: number;
  label: boolean;
  modelVersion: string;
}

const env = (name: string, fallback: string): string => process.env[name] || fallback;

export default function sensors({ cassandra }: TopologyContext) {
  const keyspace = env('SENSORS_KEYSPACE', 'analytics');
  const modelPath =
    process.env['SENSORS_MODEL'] || new URL('../models/sensor-model.json', import.meta.url);
  const t = topology('sensors');
  const readings = t.stream(
    env('SENSORS_READINGS_TOPIC', 'sensor-readings'),
    { key: string(), value: json({ schema: readingSchema }) },
    { name: 'readings', timestamp: (value) => value.timestamp },
  );
  const [flagged, clean] = readings.branch([(_k, r) => flagOf(r) !== undefined, () => true], {
    name: 'check-range',
  });
  flagged
    .mapValues((r) => ({ ...r, flag: flagOf(r) ?? '' }), { name: 'flag' })
    .to(
      env('SENSORS_FLAGGED_TOPIC', 'sensor-flagged'),
      { key: string(), value: json<SensorReading & { flag: string }>() },
      { name: 'to-flagged' },
    );

  clean
    .groupByKey()
    .windowedBy(tumbling(minutes(1), { grace: seconds(30) }))
    .aggregate(sensorAggregator, { store: 'minutely', name: 'minutely', time: 'key' })
    .to(
      env('SENSORS_MINUTELY_TOPIC', 'sensor-minutely'),
      { key: string(), value: json<Windowed<string, SensorStats>>() },
      { name: 'to-minutely' },
    );

  const hourly = clean
    .groupByKey()
    .windowedBy(tumbling(hours(1), { grace: minutes(5) }))
    .aggregate(sensorAggregator, { store: 'hourly', name: 'hourly', time: 'key' });
  const replication = { class: 'SimpleStrategy', replication_factor: 1 };
  hourly.sinkTo(
    cassandraSink({
      client: cassandra,
      table: {
        keyspace,
        table: 'sensor_hourly',
        columns: {
          sensor_id: 'text',
          window_start: 'timestamp',
          window_end: 'timestamp',
          count: 'int',
          temperature_mean: 'double',
          temperature_min: 'double',
          temperature_max: 'double',
          humidity_mean: 'double',
          humidity_min: 'double',
          humidity_max: 'double',
        },
        primaryKey: '((sensor_id), window_start)',
        replication,
      },
      row: (key, w) => ({
        sensor_id: key,
        window_start: new Date(w.start),
        window_end: new Date(w.end),
        count: w.value.count,
        temperature_mean: w.value.temperature.mean,
        temperature_min: w.value.temperature.min,
        temperature_max: w.value.temperature.max,
        humidity_mean: w.value.humidity.mean,
        humidity_min: w.value.humidity.min,
        humidity_max: w.value.humidity.max,
      }),
    }),
    { name: 'to-hourly-table' },
  );
  hourly
    .process(
      predict({
        modelPath,
        features: (w: Windowed<string, SensorStats>) => ({
          temperature_mean: w.value.temperature.mean,
          temperature_min: w.value.temperature.min,
          temperature_max: w.value.temperature.max,
          humidity_mean: w.value.humidity.mean,
          count: w.value.count,
        }),
        output: (w: Windowed<string, SensorStats>, p: Prediction): SensorPrediction => ({
          sensorId: w.key,
          windowStart: w.start,
          value: p.value,
          label: p.label ?? false,
          modelVersion: p.modelVersion,
        }),
      }),
      { name: 'score' },
    )
    .sinkTo(
      cassandraSink({
        client: cassandra,
        table: {
          keyspace,
          table: 'sensor_predictions',
          columns: {
            sensor_id: 'text',
            window_start: 'timestamp',
            model_version: 'text',
            value: 'double',
            label: 'boolean',
          },
          // A new model version adds its predictions next to the earlier ones.
          primaryKey: '((sensor_id), window_start, model_version)',
          replication,
        },
        row: (_key, p) => ({
          sensor_id: p.sensorId,
          window_start: new Date(p.windowStart),
          model_version: p.modelVersion,
          value: p.value,
          label: p.label,
        }),
      }),
      { name: 'to-predictions-table' },
    );
  return t.build();
}
