// The input of the sensor benchmark (bench/sensors.ts) and what topologies/sensors.ts must output
// for it, computed here from the readings alone, independently of the topology.
//
// A fleet of `sensors` sensors reading once a second (event time) for `minutes` minutes from an
// hour boundary, sent as a live fleet would: in time order (each sensor reads at its own
// millisecond offset within the second), plus, deterministically:
// - a few duplicates (1 reading in `dupEvery`): the same reading again 1-3 s later, as an MQTT
//   QoS 1 redelivery would;
// - a little disorder (1 reading in `delayEvery`): sent 1-5 s late, behind newer readings of its
//   sensor (within the 1-minute window's grace of 30 s, so per-key time accepts it);
// - a few faulty readings (1 in `faultEvery`): temperature 120 °C, flagged by the topology.
import type { SensorReading } from '../topologies/sensors.ts';

export interface FleetOptions {
  sensors: number;
  minutes: number;
  /** Event time of the first second (an hour boundary). */
  start: number;
  dupEvery: number;
  delayEvery: number;
  faultEvery: number;
}

export const fleetDefaults = {
  sensors: 1000,
  start: Date.UTC(2026, 10, 2),
  dupEvery: 500,
  delayEvery: 1000,
  faultEvery: 2000,
} as const;

export const sensorName = (k: number): string => `sensor-${String(k).padStart(5, '0')}`;

/** A 32-bit integer hash: deterministic noise without a generator state to keep in step. */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Reading n of sensor k at second s (n numbers the fleet's readings, for the noise). */
function readingAt(k: number, s: number, o: FleetOptions): SensorReading {
  const n = s * o.sensors + k;
  const noise = mix(n);
  const offset = mix(k + 0x9e3779b9) % 1000;
  const faulty = noise % o.faultEvery === 0;
  return {
    sensorId: sensorName(k),
    timestamp: o.start + s * 1000 + offset,
    temperature: faulty
      ? 120
      : round2(18 + (k % 11) + 4 * Math.sin((s + k) / 600) + (noise % 200) / 100),
    humidity: round2(45 + ((noise >>> 8) % 3000) / 100),
  };
}

/** The readings in the order they are sent. */
export function* fleet(o: FleetOptions): Generator<SensorReading> {
  // Within a second, sensors send in the order of their offsets: time order.
  const order = [...Array(o.sensors).keys()].sort(
    (a, b) => (mix(a + 0x9e3779b9) % 1000) - (mix(b + 0x9e3779b9) % 1000) || a - b,
  );
  /** Readings held back (delayed or repeated), by the second after which they are sent. */
  const held = new Map<number, SensorReading[]>();
  const hold = (second: number, r: SensorReading): void => {
    const list = held.get(second);
    if (list === undefined) held.set(second, [r]);
    else list.push(r);
  };
  const seconds = o.minutes * 60;
  for (let s = 0; s < seconds; s++) {
    for (const k of order) {
      const r = readingAt(k, s, o);
      const n = mix(s * o.sensors + k + 0x51ed27);
      if (n % o.delayEvery === 0) {
        hold(s + 1 + (n % 5), r);
        continue;
      }
      yield r;
      if ((n >>> 10) % o.dupEvery === 0) hold(s + 1 + ((n >>> 3) % 3), r);
    }
    yield* held.get(s) ?? [];
    held.delete(s);
  }
  for (const second of [...held.keys()].sort((a, b) => a - b)) yield* held.get(second) ?? [];
}

export interface Stats {
  count: number;
  temperature: { mean: number; min: number; max: number };
  humidity: { mean: number; min: number; max: number };
}

export interface WindowSpec {
  name: 'minutely' | 'hourly';
  sizeMs: number;
  graceMs: number;
}

/** topologies/sensors.ts: 1-minute windows with 30 s grace, hourly windows with 5 min grace. */
export const windowSpecs: WindowSpec[] = [
  { name: 'minutely', sizeMs: 60_000, graceMs: 30_000 },
  { name: 'hourly', sizeMs: 3_600_000, graceMs: 300_000 },
];

interface OpenWindow {
  sensorId: string;
  start: number;
  /** Offsets (ms from start) of readings already counted: a duplicate counts once. */
  seen: Set<number>;
  count: number;
  t: [sum: number, min: number, max: number];
  h: [sum: number, min: number, max: number];
}

export interface FleetOracle {
  readings: number;
  /** Readings out of range (flagged, left out of the aggregates). */
  flagged: number;
  /** Readings repeated with a (sensor, timestamp) already counted in a window. */
  duplicates: number;
  /** Clean readings later than the grace of their window, by their sensor's own time. */
  late: Record<string, number>;
  /** Per window kind, the windows closed at the end (by each sensor's own time), by `sensor@start`. */
  closed: Record<string, Map<string, Stats>>;
  /** Per window kind, windows still open at the end (their sensor's time has not passed them). */
  open: Record<string, number>;
}

/**
 * What the topology must emit: per sensor, its readings in arrival order (all of a sensor's
 * readings share a partition), out-of-range ones flagged; each clean reading counted once per
 * (sensor, timestamp) in its minute and its hour, unless its window has closed by its sensor's
 * own time (the largest timestamp of the sensor's clean readings so far, this one included:
 * time: 'key'); a window closes when that time reaches end + grace.
 */
export function fleetOracle(readings: Iterable<SensorReading>): FleetOracle {
  const time = new Map<string, number>();
  const open = windowSpecs.map(() => new Map<string, OpenWindow>());
  const closed = windowSpecs.map(() => new Map<string, Stats>());
  const late = windowSpecs.map(() => 0);
  /** Per window kind and sensor, its open windows' ids (to close them as its time passes). */
  const bySensor = windowSpecs.map(() => new Map<string, Set<string>>());
  let total = 0;
  let flagged = 0;
  let duplicates = 0;
  const finish = (w: OpenWindow): Stats => ({
    count: w.count,
    temperature: { mean: w.t[0] / w.count, min: w.t[1], max: w.t[2] },
    humidity: { mean: w.h[0] / w.count, min: w.h[1], max: w.h[2] },
  });
  const closeUpTo = (i: number, sensorId: string, now: number): void => {
    const spec = windowSpecs[i] as WindowSpec;
    const ids = bySensor[i]?.get(sensorId);
    if (ids === undefined) return;
    for (const id of ids) {
      const w = open[i]?.get(id) as OpenWindow;
      if (w.start + spec.sizeMs + spec.graceMs > now) continue;
      closed[i]?.set(id, finish(w));
      open[i]?.delete(id);
      ids.delete(id);
    }
  };
  for (const r of readings) {
    total++;
    const outOfRange =
      r.temperature < -40 || r.temperature > 85 || r.humidity < 0 || r.humidity > 100;
    if (outOfRange) {
      flagged++;
      continue;
    }
    const now = Math.max(time.get(r.sensorId) ?? -Infinity, r.timestamp);
    time.set(r.sensorId, now);
    let duplicate = false;
    windowSpecs.forEach((spec, i) => {
      const start = r.timestamp - (r.timestamp % spec.sizeMs);
      const id = `${r.sensorId}@${start}`;
      if (start + spec.sizeMs + spec.graceMs <= now) {
        late[i] = (late[i] ?? 0) + 1;
      } else {
        let w = open[i]?.get(id);
        if (w === undefined) {
          w = {
            sensorId: r.sensorId,
            start,
            seen: new Set(),
            count: 0,
            t: [0, Infinity, -Infinity],
            h: [0, Infinity, -Infinity],
          };
          open[i]?.set(id, w);
          const ids = bySensor[i]?.get(r.sensorId);
          if (ids === undefined) bySensor[i]?.set(r.sensorId, new Set([id]));
          else ids.add(id);
        }
        const offset = r.timestamp - start;
        if (w.seen.has(offset)) {
          duplicate = true;
        } else {
          w.seen.add(offset);
          w.count++;
          w.t = [
            w.t[0] + r.temperature,
            Math.min(w.t[1], r.temperature),
            Math.max(w.t[2], r.temperature),
          ];
          w.h = [w.h[0] + r.humidity, Math.min(w.h[1], r.humidity), Math.max(w.h[2], r.humidity)];
        }
      }
      closeUpTo(i, r.sensorId, now);
    });
    if (duplicate) duplicates++;
  }
  return {
    readings: total,
    flagged,
    duplicates,
    late: Object.fromEntries(windowSpecs.map((s, i) => [s.name, late[i] ?? 0])),
    closed: Object.fromEntries(
      windowSpecs.map((s, i) => [s.name, closed[i] as Map<string, Stats>]),
    ),
    open: Object.fromEntries(windowSpecs.map((s, i) => [s.name, open[i]?.size ?? 0])),
  };
}

/** Differences between emitted windows (`sensor@start` -> stats) and the oracle; empty when equal. */
export function compareWindows(
  emitted: [id: string, stats: Stats][],
  expected: Map<string, Stats>,
): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const close = (a: number, b: number): boolean =>
    Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  for (const [id, s] of emitted) {
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const e = expected.get(id);
    if (e === undefined) continue;
    const equal =
      s.count === e.count &&
      (['temperature', 'humidity'] as const).every(
        (m) => close(s[m].mean, e[m].mean) && s[m].min === e[m].min && s[m].max === e[m].max,
      );
    if (!equal && problems.length < 5)
      problems.push(`window ${id}: ${JSON.stringify(s)} != ${JSON.stringify(e)}`);
  }
  const missing = [...expected.keys()].filter((id) => !seen.has(id)).length;
  const twice = [...seen.values()].filter((n) => n > 1).length;
  const unexpected = [...seen.keys()].filter((id) => !expected.has(id)).length;
  if (missing > 0) problems.push(`${missing} windows missing`);
  if (twice > 0) problems.push(`${twice} windows emitted more than once`);
  if (unexpected > 0) problems.push(`${unexpected} windows not in the oracle`);
  return problems;
}
