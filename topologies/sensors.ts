// The sensor pipeline: readings from MQTT (bridged into Kafka by `tributary source sensors`) ->
// joined with each sensor's metadata (calibration offset, location, unit; the compacted topic
// SENSORS_METADATA_TOPIC, default `sensor-metadata`, as a table) and calibrated ->
// cleaning (schema check, out-of-range values flagged to their own topic, duplicates by sensor
// and timestamp dropped by a dedup step) -> 1-minute and hourly tumbling aggregates ->
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

import { hours, json, minutes, seconds, string, topology, tumbling } from 'tributary';
import type { TopologyContext, Windowed } from 'tributary';
import { cassandraSink } from 'tributary/connectors/cassandra';
import { predict } from 'tributary/models';
import type { Prediction } from 'tributary/models';

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

/** What the device registry publishes per sensor to the metadata topic (key: the sensor id). */
export const metadataSchema = z.object({
  sensorId: z.string().min(1),
  /** °C added to the sensor's temperature, after conversion from its unit. */
  calibrationOffset: z.number(),
  location: z.string(),
  /** The unit the sensor reports temperature in. */
  unit: z.enum(['C', 'F']),
});
export type SensorMetadata = z.infer<typeof metadataSchema>;

/** A reading calibrated with its sensor's metadata, and where the sensor is (null: no metadata). */
export type CalibratedReading = SensorReading & { location: string | null };

/**
 * The reading in calibrated °C, with its sensor's location: the metadata as the table has it
 * when the reading is processed, so a recalibration applies to the readings after it. A reading
 * of a sensor without metadata keeps its raw value and no location, and is flagged.
 */
export function calibrate(r: SensorReading, m: SensorMetadata | null): CalibratedReading {
  if (m === null) return { ...r, location: null };
  const celsius = m.unit === 'F' ? (r.temperature - 32) / 1.8 : r.temperature;
  return { ...r, temperature: celsius + m.calibrationOffset, location: m.location };
}

/** What a sensor can measure; outside it a value is a fault, flagged and left out. */
export const validRange = { temperature: [-40, 85], humidity: [0, 100] } as const;

export function flagOf(r: CalibratedReading): string | undefined {
  if (r.location === null) return `no metadata for sensor ${r.sensorId}`;
  const [tMin, tMax] = validRange.temperature;
  const [hMin, hMax] = validRange.humidity;
  if (r.temperature < tMin || r.temperature > tMax)
    return `temperature ${r.temperature} outside [${tMin}, ${tMax}]`;
  if (r.humidity < hMin || r.humidity > hMax)
    return `humidity ${r.humidity} outside [${hMin}, ${hMax}]`;
  return undefined;
}

export interface SensorStats {
  count: number;
  temperature: { mean: number; min: number; max: number };
  humidity: { mean: number; min: number; max: number };
}

/**
 * A sensor's readings in a window: count, then sum, min and max of temperature and of humidity
 * (min and max mean nothing while count is 0). Constant size, so adding a reading costs the
 * same however full the window is. A tuple rather than an object because it is the window
 * store's value, written to the changelog as JSON on every update: seven numbers are about 50
 * bytes, with field names it would be twice that. Duplicates were dropped upstream (dedup).
 */
export type SensorAccumulator = [
  count: number,
  temperatureSum: number,
  temperatureMin: number,
  temperatureMax: number,
  humiditySum: number,
  humidityMin: number,
  humidityMax: number,
];

export const sensorAggregator = {
  init: (): SensorAccumulator => [0, 0, 0, 0, 0, 0, 0],
  add: (acc: SensorAccumulator, r: SensorReading): SensorAccumulator => {
    const [count, tSum, tMin, tMax, hSum, hMin, hMax] = acc;
    const t = r.temperature;
    const h = r.humidity;
    if (count === 0) return [1, t, t, t, h, h, h];
    return [
      count + 1,
      tSum + t,
      Math.min(tMin, t),
      Math.max(tMax, t),
      hSum + h,
      Math.min(hMin, h),
      Math.max(hMax, h),
    ];
  },
  result: ([count, tSum, tMin, tMax, hSum, hMin, hMax]: SensorAccumulator): SensorStats => ({
    count,
    temperature: { mean: tSum / count, min: tMin, max: tMax },
    humidity: { mean: hSum / count, min: hMin, max: hMax },
  }),
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
  // The sensors' metadata as a table (its store restores from the compacted topic itself).
  const metadata = t.table(
    env('SENSORS_METADATA_TOPIC', 'sensor-metadata'),
    { key: string(), value: json({ schema: metadataSchema }) },
    { store: 'sensor-metadata', name: 'metadata' },
  );
  const calibrated = readings.leftJoin(metadata, (r, m) => calibrate(r, m), { name: 'calibrate' });
  const [flagged, clean] = calibrated.branch([(_k, r) => flagOf(r) !== undefined, () => true], {
    name: 'check-range',
  });
  flagged
    .mapValues((r) => ({ ...r, flag: flagOf(r) ?? '' }), { name: 'flag' })
    .to(
      env('SENSORS_FLAGGED_TOPIC', 'sensor-flagged'),
      { key: string(), value: json<CalibratedReading & { flag: string }>() },
      { name: 'to-flagged' },
    );

  // A reading sent twice (an MQTT redelivery, the source retrying after a crash) counts once:
  // each sensor's (sensor, timestamp) pairs are remembered for 65 minutes of that sensor's own
  // event time, the hourly window's size + grace. That is as long as any window a reading counts
  // in stays open, so no duplicate reaches an open window; one arriving later finds its window
  // closed and is late, as it would be without deduplication. At 1 Hz that is 3,900 entries per
  // sensor, 8 bytes each in memory: about 33 MiB for 1,000 sensors (bench/aggregators.ts). A
  // shorter retention would save memory but let a late duplicate into the hourly window.
  const readingsOnce = clean.dedup({
    store: 'seen-readings',
    name: 'dedup',
    retentionMs: hours(1) + minutes(5),
  });

  readingsOnce
    .groupByKey()
    .windowedBy(tumbling(minutes(1), { grace: seconds(30) }))
    .aggregate(sensorAggregator, { store: 'minutely', name: 'minutely', time: 'key' })
    .to(
      env('SENSORS_MINUTELY_TOPIC', 'sensor-minutely'),
      { key: string(), value: json<Windowed<string, SensorStats>>() },
      { name: 'to-minutely' },
    );

  const hourly = readingsOnce
    .groupByKey()
    .windowedBy(tumbling(hours(1), { grace: minutes(5) }))
    .aggregate(sensorAggregator, { store: 'hourly', name: 'hourly', time: 'key' });
  const replication = { class: 'SimpleStrategy', replication_factor: 1 };
  // Each row carries the sensor's location as the metadata has it when the hour closes.
  const located = hourly.leftJoin(metadata, (w, m) => ({ ...w, location: m?.location ?? null }), {
    name: 'locate',
  });
  located.sinkTo(
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
          location: 'text',
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
        location: w.location,
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
