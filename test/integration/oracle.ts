import { partitionForKey } from '../../src/kafka/index.ts';
import type { Reading, Summary } from './fixtures/worker.ts';
import { random } from '../random.ts';

export const hourMs = 3_600_000;
export const graceMs = 10 * 60_000;
/** 2026-11-01T00:00Z: the first window starts here. */
export const startTime = Date.UTC(2026, 10, 1);

/**
 * `count` readings over `keys` sensors, one per sensor per minute of event time, shuffled within
 * blocks so that event time runs up to 5 minutes out of order (inside the 10-minute grace), and
 * every 2,000th reading replaced by one 3 hours in the past (later than the grace: late).
 * Celsius values are whole numbers, so sums and means are exact.
 */
export function readings(count: number, keys: number, seed = 42): Reading[] {
  const next = random(seed);
  const list: Reading[] = [];
  for (let i = 0; i < count; i++) {
    const minute = Math.floor(i / keys);
    const sensor = `sensor-${String(i % keys).padStart(2, '0')}`;
    list.push({
      sensor,
      time: startTime + minute * 60_000 + Math.floor(next() * 1000),
      celsius: Math.floor(next() * 60) - 20,
    });
  }
  const block = keys * 5;
  for (let b = 0; b < list.length; b += block) {
    for (let i = Math.min(list.length, b + block) - 1; i > b; i--) {
      const j = b + Math.floor(next() * (i - b + 1));
      [list[i], list[j]] = [list[j] as Reading, list[i] as Reading];
    }
  }
  for (let i = 2000; i < list.length; i += 2000) {
    const r = list[i] as Reading;
    list[i] = { ...r, time: r.time - 3 * hourMs };
  }
  return list;
}

export interface Oracle {
  /** `sensor@windowStart` -> summary, for every window that closed. */
  windows: Map<string, Summary>;
  late: number;
}

/**
 * The result computed directly from the input, as a batch job would: per partition (as Kafka
 * places the sensors), in order, with the per-task stream time deciding what is late and which
 * hourly windows have closed (end + grace <= the partition's final stream time).
 */
export function oracle(input: Reading[], partitions: number): Oracle {
  const streamTime = new Map<number, number>();
  const open = new Map<string, Summary & { partition: number; end: number }>();
  let late = 0;
  for (const r of input) {
    const partition = partitionForKey(r.sensor, partitions);
    const time = Math.max(streamTime.get(partition) ?? -Infinity, r.time);
    streamTime.set(partition, time);
    const start = Math.floor(r.time / hourMs) * hourMs;
    if (start + hourMs + graceMs <= time) {
      late++;
      continue;
    }
    const id = `${r.sensor}@${start}`;
    const w = open.get(id) ?? {
      partition,
      end: start + hourMs,
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      mean: 0,
    };
    w.count++;
    w.sum += r.celsius;
    w.min = Math.min(w.min, r.celsius);
    w.max = Math.max(w.max, r.celsius);
    w.mean = w.sum / w.count;
    open.set(id, w);
  }
  const windows = new Map<string, Summary>();
  for (const [id, w] of open) {
    if (w.end + graceMs <= (streamTime.get(w.partition) ?? -Infinity)) {
      windows.set(id, { count: w.count, sum: w.sum, min: w.min, max: w.max, mean: w.mean });
    }
  }
  return { windows, late };
}
