// Seeded inputs with the disorder real sources have, each a list of readings in the order they
// are published (the same order as the offsets of each partition). Within a device, readings
// arrive at most `maxDelayMs` (<= the scenario's grace) after readings with later event time,
// so no reading is late by its own device's time; only the shape of the whole stream (device
// after device, a reconnect burst, a clock running ahead) makes readings late by a partition's
// time.
//
// Every input ends with one marker reading per device at the same time, far after all data (see
// `withMarkers`): it closes each device's last windows by event time alone.
import type { Reading } from './disorder-scenarios.ts';

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

/** A small deterministic PRNG (mulberry32), its seed scrambled so nearby seeds differ at once. */
export function seeded(seed: number): () => number {
  let a = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  a ^= a >>> 13;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A whole number in [0, n). */
const below = (random: () => number, n: number): number => Math.floor(random() * n);

/** Values from -50 to 149: whole, so sums are exact; negative, so min/max are not trivial. */
const valueOf = (random: () => number): number => below(random, 200) - 50;

const deviceName = (i: number): string => `dev-${String(i).padStart(3, '0')}`;

/** A latency per device, spread evenly over [0, maxMs) in a random order. */
function latencies(random: () => number, devices: number, maxMs: number): number[] {
  const list = Array.from({ length: devices }, (_, i) => Math.floor((i * maxMs) / devices));
  for (let i = list.length - 1; i > 0; i--) {
    const j = below(random, i + 1);
    [list[i], list[j]] = [list[j] as number, list[i] as number];
  }
  return list;
}

/** A reading with the wall-clock-like time at which it reaches the producer. */
interface Arrival {
  reading: Reading;
  arrival: number;
}

/** In arrival order; ties keep the order they were generated in (Array.sort is stable). */
function byArrival(list: Arrival[]): Reading[] {
  return [...list].sort((a, b) => a.arrival - b.arrival).map((a) => a.reading);
}

/** One reading per `intervalMs` slot of [from, to), at a random moment inside the slot. */
function slots(
  random: () => number,
  device: string,
  from: number,
  to: number,
  intervalMs: number,
): Reading[] {
  const list: Reading[] = [];
  for (let slot = from; slot < to; slot += intervalMs) {
    list.push({ device, time: slot + below(random, intervalMs), value: valueOf(random) });
  }
  return list;
}

/**
 * Each reading arrives its device's latency plus a random delay of up to `maxDelayMs` after its
 * event time. Latencies differ between devices (a slow link, a gateway that batches): a device
 * is never late by its own time, but one that lags more than the grace behind another of its
 * partition has the readings at the end of each window late by partition time, close to the
 * rule's edge.
 */
function delayed(
  random: () => number,
  readings: Reading[],
  maxDelayMs: number,
  latencyMs = 0,
): Arrival[] {
  return readings.map((reading) => ({
    reading,
    arrival: reading.time + latencyMs + random() * maxDelayMs,
  }));
}

/**
 * Appends one marker per device (value 0) at the same event time, 30 days after the last
 * reading. By either clock the marker passes every window of the data (each device's by its own
 * time; each partition's at its first marker), while the markers' own windows never close and
 * are never emitted. Markers at one time are never late, whatever their order. Markers rather
 * than an idle timeout: an idle timeout closes by the wall clock, so what closes (and what is
 * late afterwards) would depend on how fast a loaded machine runs the test, on a worker's
 * restart after kill -9, and on how long a device's pause takes in wall time.
 */
export function withMarkers(readings: Reading[]): Reading[] {
  const last = Math.max(...readings.map((r) => r.time));
  const devices = [...new Set(readings.map((r) => r.device))];
  const at = last + 30 * dayMs;
  return [...readings, ...devices.map((device) => ({ device, time: at, value: 0 }))];
}

export interface Generated {
  /** In publish order, markers last. */
  readings: Reading[];
  /** The device the scenario singles out (offline, clock ahead), if any. */
  focus?: string;
  /** What the scenario did, for the test's diagnostics. */
  description: string;
}

/**
 * (a) An entity-major backfill: device after device (in a random order), each device's history
 * in its own time order (up to `maxDelayMs` of jitter), as an archive is read. Each device's
 * history starts up to a day after the range start and ends up to a day before its end.
 */
export function backfill(
  seed: number,
  options = { devices: 40, days: 6, intervalMs: 10 * minuteMs, maxDelayMs: 15 * minuteMs },
): Generated {
  const random = seeded(seed);
  const start = Date.UTC(2026, 1, 1);
  const end = start + options.days * dayMs;
  const order = Array.from({ length: options.devices }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = below(random, i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const readings: Reading[] = [];
  for (const i of order) {
    const from = start + below(random, 24) * hourMs + below(random, 60) * minuteMs;
    const to = end - below(random, 24) * hourMs;
    const own = slots(random, deviceName(i), from, to, options.intervalMs);
    readings.push(...byArrival(delayed(random, own, options.maxDelayMs)));
  }
  return {
    readings: withMarkers(readings),
    description: `${options.devices} devices x ${options.days} days, one reading per ${options.intervalMs / minuteMs} min, device after device`,
  };
}

/**
 * (b) Live devices publishing in time order (each with its own latency of up to
 * `maxLatencyMs`, and up to `maxDelayMs` of jitter); one device goes
 * offline for `offlineMs` and then publishes its buffered readings in a burst spread over
 * `burstMs` of the live stream, in its own time order, before its live readings resume.
 */
export function reconnect(
  seed: number,
  options = {
    devices: 16,
    hours: 8,
    intervalMs: minuteMs,
    maxDelayMs: 3 * minuteMs,
    offlineMs: 2 * hourMs,
    burstMs: 5 * minuteMs,
    maxLatencyMs: 10 * minuteMs,
  },
): Generated {
  const random = seeded(seed);
  const start = Date.UTC(2026, 2, 1);
  const end = start + options.hours * hourMs;
  const offline = below(random, options.devices);
  // Offline from a random minute of [1 h, end - offline - 1 h).
  const latest = options.hours * hourMs - options.offlineMs - 2 * hourMs;
  const from = start + hourMs + below(random, latest / minuteMs) * minuteMs;
  const back = from + options.offlineMs;
  const lag = latencies(random, options.devices, options.maxLatencyMs);
  const arrivals: Arrival[] = [];
  for (let i = 0; i < options.devices; i++) {
    const own = delayed(
      random,
      slots(random, deviceName(i), start, end, options.intervalMs),
      options.maxDelayMs,
      lag[i],
    );
    if (i !== offline) {
      arrivals.push(...own);
      continue;
    }
    const buffered = own.filter((a) => a.reading.time >= from && a.reading.time < back);
    const flushed = back + options.burstMs;
    buffered.forEach((a, n) => {
      a.arrival = back + (n / buffered.length) * options.burstMs;
    });
    for (const a of own) {
      // Live again after the buffer is out, in the order generated (its own time order).
      if (a.reading.time >= back) a.arrival = Math.max(a.arrival, flushed);
    }
    arrivals.push(...own);
  }
  return {
    readings: withMarkers(byArrival(arrivals)),
    focus: deviceName(offline),
    description: `${options.devices} devices x ${options.hours} h, one reading per ${options.intervalMs / minuteMs} min, latencies up to ${options.maxLatencyMs / minuteMs} min; ${deviceName(offline)} offline ${new Date(from).toISOString()} for ${options.offlineMs / hourMs} h, then a burst of its buffer`,
  };
}

/**
 * (c) Live devices publishing in time order (each with its own latency of up to
 * `maxLatencyMs`, and up to `maxDelayMs` of jitter); one device's clock
 * runs `skewMs` (2 to 5 hours, random) ahead, so its readings carry event times that far ahead.
 */
export function skew(
  seed: number,
  options = {
    devices: 16,
    hours: 10,
    intervalMs: 2 * minuteMs,
    maxDelayMs: 5 * minuteMs,
    maxLatencyMs: 20 * minuteMs,
  },
): Generated {
  const random = seeded(seed);
  const start = Date.UTC(2026, 3, 1);
  const end = start + options.hours * hourMs;
  const ahead = below(random, options.devices);
  const skewMs = 2 * hourMs + below(random, 180) * minuteMs;
  const lag = latencies(random, options.devices, options.maxLatencyMs);
  const arrivals: Arrival[] = [];
  for (let i = 0; i < options.devices; i++) {
    const own = delayed(
      random,
      slots(random, deviceName(i), start, end, options.intervalMs),
      options.maxDelayMs,
      lag[i],
    );
    if (i === ahead) for (const a of own) a.reading.time += skewMs;
    arrivals.push(...own);
  }
  return {
    readings: withMarkers(byArrival(arrivals)),
    focus: deviceName(ahead),
    description: `${options.devices} devices x ${options.hours} h, one reading per ${options.intervalMs / minuteMs} min, latencies up to ${options.maxLatencyMs / minuteMs} min; ${deviceName(ahead)}'s clock ${skewMs / minuteMs} min ahead`,
  };
}

/**
 * (d) Devices that send some readings again, as an MQTT QoS 1 link or a gateway unsure of what
 * went out does: each reading (not a marker, nor one of the focus device's: its reconnect burst
 * moves its time hours in minutes) is repeated with probability `fraction`, the copy arriving 1
 * to `maxLaterReadings` readings of the whole stream later (with 40 devices at one reading a
 * minute, 200 readings are about 5 minutes). The copies are marked `duplicate`; a topology
 * deduplicating with a retention of the window's size plus grace drops every one, since its
 * device's time moves on far less than that before it comes.
 */
export function withDuplicates(
  generated: Generated,
  seed: number,
  fraction: number,
  maxLaterReadings: number,
): Generated {
  const random = seeded(seed);
  const markerTime = generated.readings.at(-1)?.time;
  const data = generated.readings.filter((r) => r.time !== markerTime);
  const markers = generated.readings.filter((r) => r.time === markerTime);
  const copies = new Map<number, Reading[]>();
  let count = 0;
  data.forEach((reading, i) => {
    if (random() >= fraction || reading.device === generated.focus) return;
    const at = Math.min(data.length - 1, i + 1 + below(random, maxLaterReadings));
    copies.set(at, [...(copies.get(at) ?? []), { ...reading, duplicate: true }]);
    count++;
  });
  const readings = data.flatMap((reading, i) => [reading, ...(copies.get(i) ?? [])]);
  return {
    ...generated,
    readings: [...readings, ...markers],
    description: `${generated.description}; ${count} readings sent again up to ${maxLaterReadings} readings later`,
  };
}
