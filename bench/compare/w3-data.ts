// The input of W3 (stream-table join) and the check of its output.
//
// 10,000 metadata rows, one per sensor (key `s-00000`..`s-09999`, value {sensorId,
// calibrationOffset, location, unit}), go to a compacted topic; 1,000,000 readings (key the sensor,
// value {sensorId, timestamp, temperature, humidity}) go to a topic with the same partition count.
// Reading i belongs to sensor i mod 10,000 and its timestamp is epoch + i * 100 ms, so the
// timestamp names the reading: the check finds each reading once by it.
//
// W3: every reading joined with its sensor's row: {...reading, temperature: temperature +
// calibrationOffset, location}. Every sensor has a row, so an inner join outputs every reading.
import { epoch, sensorId, sensorsFor } from './data.ts';

export interface Meta {
  sensorId: string;
  calibrationOffset: number;
  location: string;
  unit: string;
}

export interface W3Reading {
  sensorId: string;
  timestamp: number;
  temperature: number;
  humidity: number;
}

export interface W3Output extends W3Reading {
  location: string;
}

/** A 32-bit integer hash (deterministic noise, as data.ts). */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 15), 0x297a2d39);
  return (h ^ (h >>> 16)) >>> 0;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Sensor k's metadata row: offsets in -2.00..+1.99 degrees, 40 locations. */
export function meta(k: number): Meta {
  return {
    sensorId: sensorId(k),
    calibrationOffset: round2(((mix(k) % 400) - 200) / 100),
    location: `plant-${String(k % 40).padStart(2, '0')}/hall-${(k >>> 3) % 6}`,
    unit: 'celsius',
  };
}

/** Reading i of a run of `total` (sensors as W1/W2: 10,000 for 1,000,000 readings). */
export function w3Reading(i: number, total: number): W3Reading {
  const k = i % sensorsFor(total);
  const noise = mix(i + 7_919);
  return {
    sensorId: sensorId(k),
    timestamp: epoch + i * 100,
    temperature: round2(10 + (k % 9) + (noise % 1500) / 100),
    humidity: round2(35 + ((noise >>> 11) % 5000) / 100),
  };
}

/** A metadata pre-load line (key, record timestamp, value), stamped a day before any reading. */
export function metaLine(k: number): string {
  return `${sensorId(k)}\t${epoch - 86_400_000}\t${JSON.stringify(meta(k))}`;
}

export function w3Line(i: number, total: number): string {
  const r = w3Reading(i, total);
  return `${r.sensorId}\t${r.timestamp}\t${JSON.stringify(r)}`;
}

/** Tributary's joiner (Kafka Streams' Main.java does the same double addition). */
export const enrich = (r: W3Reading, m: Meta): W3Output => ({
  ...r,
  temperature: r.temperature + m.calibrationOffset,
  location: m.location,
});

/**
 * Differences between W3 output values and the oracle (empty when equal): every reading exactly
 * once, its calibrated temperature equal as a number (the same IEEE addition on both sides), its
 * location, sensor and humidity.
 */
export function compareW3(values: W3Output[], total: number): string[] {
  const problems: string[] = [];
  const seen = new Uint8Array(total);
  let unexpected = 0;
  let twice = 0;
  for (const v of values) {
    const i = (v.timestamp - epoch) / 100;
    if (!Number.isInteger(i) || i < 0 || i >= total) {
      unexpected++;
      continue;
    }
    if (seen[i] === 1) twice++;
    seen[i] = 1;
    // Written out here rather than calling enrich (the topology's joiner), so a wrong joiner
    // fails the check too.
    const r = w3Reading(i, total);
    const m = meta(Number(r.sensorId.slice(2)));
    const e = { ...r, temperature: r.temperature + m.calibrationOffset, location: m.location };
    if (
      v.sensorId !== e.sensorId ||
      v.temperature !== e.temperature ||
      v.humidity !== e.humidity ||
      v.location !== e.location
    ) {
      if (problems.length < 5)
        problems.push(`reading ${i}: ${JSON.stringify(v)} != ${JSON.stringify(e)}`);
    }
  }
  const missing = total - seen.reduce((n, x) => n + x, 0);
  if (missing > 0) problems.push(`${missing} readings missing (no metadata found, or lost)`);
  if (twice > 0) problems.push(`${twice} readings output more than once`);
  if (unexpected > 0) problems.push(`${unexpected} records not in the input`);
  return problems;
}
