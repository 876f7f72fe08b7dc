import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from '../../src/core/index.ts';
import { avro } from '../../src/serde/index.ts';
import { weatherSchemaFiles } from '../../src/connectors/open-meteo/index.ts';
import type { Observation } from '../../src/connectors/open-meteo/index.ts';
import type { KafkaSettings, Settings } from '../../src/app/config.ts';
import { createLogger } from '../../src/app/logger.ts';
import { toolClient } from '../../src/app/operations.ts';

/** One generated record: key, value bytes (or text) and event time. */
export interface GeneratedRecord {
  key: string;
  /** Encoded value (a Buffer), or text sent as UTF-8. */
  value: string | Buffer;
  timestamp: number;
}

export interface ReadingsOptions {
  sensors: number;
  count: number;
  /** Event time of the first reading; readings of one sensor are `intervalMs` apart. */
  startMs: number;
  intervalMs: number;
  /** Share of records that are malformed (not JSON, a string for a number, out of range). */
  malformed: number;
  /** Seed of the pseudo-random sequence: the same options give the same records. */
  seed: number;
}

/** A small, fast, seeded PRNG (mulberry32): generated data is reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hourMs = 3_600_000;

/**
 * Sensor readings as topologies/readings.ts reads them: `{ sensorId, temperature, humidity,
 * timestamp }` keyed by sensor, a daily temperature cycle around each sensor's own mean with
 * noise, humidity moving against temperature. Sensors take turns, so event time rises evenly.
 */
export function* readings(options: ReadingsOptions): Generator<GeneratedRecord> {
  const next = random(options.seed);
  const base = Array.from({ length: options.sensors }, () => ({
    temperature: 8 + next() * 16,
    humidity: 45 + next() * 30,
  }));
  for (let i = 0; i < options.count; i++) {
    const s = i % options.sensors;
    const sensorId = `sensor-${String(s).padStart(4, '0')}`;
    const timestamp = options.startMs + Math.floor(i / options.sensors) * options.intervalMs;
    const dayPhase = ((timestamp % (24 * hourMs)) / (24 * hourMs)) * 2 * Math.PI;
    const cycle = -Math.cos(dayPhase);
    const sensor = base[s] ?? { temperature: 15, humidity: 60 };
    const temperature = round(sensor.temperature + 5 * cycle + (next() - 0.5) * 1.5);
    const humidity = round(
      Math.min(100, Math.max(0, sensor.humidity - 12 * cycle + (next() - 0.5) * 4)),
    );
    let value = JSON.stringify({ sensorId, temperature, humidity, timestamp });
    if (next() < options.malformed) {
      const kind = Math.floor(next() * 3);
      value =
        kind === 0
          ? value.slice(0, Math.floor(value.length / 2))
          : kind === 1
            ? JSON.stringify({ sensorId, temperature: String(temperature), humidity, timestamp })
            : JSON.stringify({ sensorId, temperature: 999, humidity, timestamp });
    }
    yield { key: sensorId, value, timestamp };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export interface ProduceOptions {
  topic: string;
  /** Records per second; 0 sends as fast as the broker acknowledges. */
  rate: number;
  /** Created with this many partitions when missing. */
  partitions: number;
  /** Topic configs when it is created (a compacted topic: `cleanup.policy: compact`). */
  config?: Record<string, string>;
  logger: Logger;
}

/** Sends generated records to a topic (keyed, partitioned as Java clients do); returns the count. */
export async function produceRecords(
  kafka: KafkaSettings,
  records: Iterable<GeneratedRecord>,
  options: ProduceOptions,
): Promise<number> {
  const client = toolClient(kafka, 'tributary-produce');
  const admin = client.topicAdmin();
  await admin.connect();
  try {
    const counts = await admin.partitionCounts([options.topic]);
    if (!counts.has(options.topic)) {
      await admin.createTopics([
        {
          topic: options.topic,
          partitions: options.partitions,
          ...(options.config === undefined ? {} : { config: options.config }),
        },
      ]);
      options.logger.info(
        { topic: options.topic, partitions: options.partitions },
        'topic created',
      );
    }
  } finally {
    await admin.disconnect();
  }
  const producer = client.recordProducer();
  await producer.connect();
  let sent = 0;
  const began = Date.now();
  // With a rate, send every 100 ms what that rate allows; else batches of 5,000.
  const batchSize = options.rate > 0 ? Math.max(1, Math.round(options.rate / 10)) : 5000;
  try {
    let batch: GeneratedRecord[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await producer.send(
        batch.map((r) => ({
          topic: options.topic,
          key: Buffer.from(r.key),
          value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value,
          timestamp: r.timestamp,
          headers: {},
        })),
      );
      sent += batch.length;
      batch = [];
      if (options.rate > 0) {
        const due = began + (sent / options.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
    };
    for (const record of records) {
      batch.push(record);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return sent;
}

/** A weather station: id, coordinates and its climate (mean temperature, daily swing). */
export interface WeatherLocation {
  id: string;
  latitude: number;
  longitude: number;
}

/** Deterministic locations `loc-000`, ... spread over Europe. */
export function weatherLocations(count: number, seed = 1): WeatherLocation[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => ({
    id: `loc-${String(i).padStart(3, '0')}`,
    latitude: Math.round((36 + next() * 34) * 100) / 100,
    longitude: Math.round((-9 + next() * 38) * 100) / 100,
  }));
}

/** An observation as schemas/observation.avsc describes it. */
export type GeneratedObservation = Observation;

export interface WeatherOptions {
  locations: WeatherLocation[];
  /** First observation time (ms, UTC); observations every `intervalMs` for `days` days. */
  startMs: number;
  days: number;
  intervalMs: number;
  /** Share of observations delivered late (after up to `maxDelayMs` of later ones). */
  outOfOrder: number;
  maxDelayMs: number;
  /** Share of records that are malformed bytes instead of an observation. */
  malformed: number;
  seed: number;
  /**
   * `time` (default): all locations interleaved, time going forward, as a live fleet sends.
   * `location`: location after location, each in its own order, as a backfill from an archive
   * API is read (the same records, reordered).
   */
  order?: 'time' | 'location';
}

/**
 * One generated weather record: an observation, or (malformed) raw bytes that decode to nothing.
 * `outOfOrder` marks an observation held back on purpose and sent after later ones of its
 * location (see WeatherOptions.outOfOrder).
 */
export type WeatherRecord =
  | { key: string; timestamp: number; observation: GeneratedObservation; outOfOrder?: true }
  | { key: string; timestamp: number; malformed: Buffer };

/**
 * Realistic observations per location: temperature with a daily cycle (coldest near 05:00,
 * warmest near 15:00) around a mean that falls with latitude, noise, humidity moving against
 * temperature, showers in spells, wind with gusts; now and then a missing value (null). Time
 * goes forward location by location interleaved; some observations arrive late, and a few
 * records are garbage (for the dead-letter topic). Deterministic for a seed.
 */
export function* weatherObservations(options: WeatherOptions): Generator<WeatherRecord> {
  if (options.order !== 'location') {
    yield* timeOrdered(options);
    return;
  }
  const byLocation = new Map<string, WeatherRecord[]>(options.locations.map((l) => [l.id, []]));
  for (const record of timeOrdered(options)) byLocation.get(record.key)?.push(record);
  for (const records of byLocation.values()) yield* records;
}

function* timeOrdered(options: WeatherOptions): Generator<WeatherRecord> {
  const next = random(options.seed);
  const steps = Math.floor((options.days * 24 * hourMs) / options.intervalMs);
  const delayed: { due: number; record: WeatherRecord }[] = [];
  const rain = new Map<string, number>();
  for (let step = 0; step < steps; step++) {
    const time = options.startMs + step * options.intervalMs;
    for (const location of options.locations) {
      if (next() < options.malformed) {
        yield {
          key: location.id,
          timestamp: time,
          malformed: Buffer.from([0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]),
        };
      }
      const hourOfDay = (time % (24 * hourMs)) / hourMs;
      const mean = 27 - 0.45 * location.latitude;
      const cycle = Math.cos(((hourOfDay - 15) / 24) * 2 * Math.PI);
      const temperature = mean + 5 * cycle + (next() - 0.5) * 2;
      const spell = Math.max(0, (rain.get(location.id) ?? 0) + (next() < 0.02 ? 6 : 0) - 0.25);
      rain.set(location.id, spell);
      const missing = (): boolean => next() < 0.005;
      const observation: GeneratedObservation = {
        location: location.id,
        latitude: location.latitude,
        longitude: location.longitude,
        time,
        temperature_2m: missing() ? null : round(temperature),
        relative_humidity_2m: missing()
          ? null
          : round(
              Math.min(
                100,
                Math.max(5, 70 - 15 * cycle + (spell > 0 ? 20 : 0) + (next() - 0.5) * 6),
              ),
            ),
        precipitation: missing() ? null : spell > 0 ? round(next() * 1.2) : 0,
        wind_speed_10m: missing()
          ? null
          : round(Math.max(0, 12 + 8 * Math.sin(time / (9 * hourMs)) + (next() - 0.3) * 10)),
      };
      if (next() < options.outOfOrder) {
        const record: WeatherRecord = {
          key: location.id,
          timestamp: time,
          observation,
          outOfOrder: true,
        };
        delayed.push({ due: time + next() * options.maxDelayMs, record });
        continue;
      }
      yield { key: location.id, timestamp: time, observation };
    }
    for (let i = delayed.length - 1; i >= 0; i--) {
      const entry = delayed[i];
      if (entry !== undefined && entry.due <= time) {
        delayed.splice(i, 1);
        yield entry.record;
      }
    }
  }
  for (const entry of delayed) yield entry.record;
}

export interface ProduceWeatherOptions {
  topic: string;
  locations: number;
  startMs: number;
  days: number;
  intervalMs: number;
  outOfOrder: number;
  malformed: number;
  seed: number;
  rate: number;
  partitions: number;
  order?: 'time' | 'location';
  /**
   * Called with each record as it is handed to the producer, in the order sent: what a caller
   * needs to compute the result the records imply (which were garbage, which held back).
   */
  onRecord?: (record: WeatherRecord) => void;
}

/** What `produceWeather` sent, and how many records it made bad on purpose. */
export interface WeatherProduceReport {
  /** Records sent: observations and garbage. */
  sent: number;
  observations: number;
  /** Garbage records: they decode to nothing (dead letters with a SERDE_ code). */
  malformed: number;
  /** Observations held back and sent after later ones of their location. */
  outOfOrder: number;
}

/**
 * `tributary produce weather`: generated observations, Avro-encoded with the observation schema
 * (registered under `<topic>-value` with BACKWARD compatibility), garbage records as they are.
 */
export async function produceWeather(
  settings: Pick<Settings, 'kafka' | 'registry'>,
  options: ProduceWeatherOptions,
): Promise<WeatherProduceReport> {
  const { topic } = options;
  const serde = avro<Observation>({
    registry: settings.registry,
    schema: weatherSchemaFiles.observation,
    compatibility: 'BACKWARD',
  });
  await serde.init?.(topic);
  const counts = { observations: 0, malformed: 0, outOfOrder: 0 };
  const records = function* (): Generator<GeneratedRecord> {
    for (const r of weatherObservations({
      locations: weatherLocations(options.locations),
      startMs: options.startMs,
      days: options.days,
      intervalMs: options.intervalMs,
      outOfOrder: options.outOfOrder,
      maxDelayMs: 45 * 60_000,
      malformed: options.malformed,
      seed: options.seed,
      order: options.order ?? 'time',
    })) {
      let value: Buffer;
      if ('malformed' in r) {
        counts.malformed++;
        value = r.malformed;
      } else {
        counts.observations++;
        if (r.outOfOrder === true) counts.outOfOrder++;
        value = serde.serialize(r.observation, topic) ?? Buffer.alloc(0);
      }
      options.onRecord?.(r);
      yield { key: r.key, value, timestamp: r.timestamp };
    }
  };
  const sent = await produceRecords(settings.kafka, records(), {
    topic,
    rate: options.rate,
    partitions: options.partitions,
    logger: createLogger({ app: 'tributary-produce', worker: 'cli', level: 'warn' }),
  });
  return { sent, ...counts };
}
