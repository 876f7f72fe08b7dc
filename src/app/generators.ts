import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from '../core/index.ts';
import type { KafkaSettings } from './config.ts';
import { toolClient } from './operations.ts';

/** One generated record: key, value bytes (or text) and event time. */
export interface GeneratedRecord {
  key: string;
  value: string;
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
      await admin.createTopics([{ topic: options.topic, partitions: options.partitions }]);
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
          value: Buffer.from(r.value),
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
