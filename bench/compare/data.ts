// The input of the side-by-side benchmark and what each workload must output for it.
//
// 1,000,000 JSON readings (~200 bytes) of 10,000 sensors, keyed by sensor, with the Kafka record
// timestamp equal to the reading's `ts`. Record i belongs to sensor i mod 10,000 and its event time
// grows with i over 25 hours, so every sensor reads every 15 minutes, every partition's stream
// time only moves forward (nothing is late under any grace), and every sensor still reads in the
// 25th hour: the windows of hours 0 to 23 are closed at the end whether an implementation closes
// windows per key or per partition, and those of the 25th hour are open under both.
//
// W1 (stateless): keep readings with status "ok" and -40 <= temperature <= 85, map them to
//   {sensor, ts, temperatureF, humidity}.
// W2 (keyed hourly tumbling aggregate, no grace, final results only): per sensor and hour of all
//   readings, {sensor, start, end, count, sum, min, max} of the temperature.

/**
 * 10,000 sensors for 1,000,000 readings; fewer for a smaller run, so each still reads every 15
 * minutes. BENCH_SENSORS (`npm run bench -- --sensors N`) sets another count, for state of many
 * keys: with as many sensors as readings, each reads once and opens a window of its own.
 */
export const sensorsFor = (total: number): number => {
  const chosen = Number(process.env['BENCH_SENSORS'] ?? 0);
  if (chosen > 0) return Math.min(chosen, total);
  return Math.max(1, Math.min(10_000, Math.floor(total / 100)));
};
export const partitions = 12;
export const hour = 3_600_000;
/** 2026-11-01T00:00:00Z: event time starts at an hour boundary. */
export const epoch = Date.UTC(2026, 10, 1);
export const spanHours = 25;

export interface Reading {
  sensor: string;
  ts: number;
  temperature: number;
  humidity: number;
  pressure: number;
  battery: number;
  site: string;
  firmware: string;
  status: 'ok' | 'error';
  seq: number;
}

export interface W1Output {
  sensor: string;
  ts: number;
  temperatureF: number;
  humidity: number;
}

export interface W2Output {
  sensor: string;
  start: number;
  end: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** A 32-bit integer hash (deterministic noise without a random generator to keep in step). */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

export const sensorId = (k: number): string => `s-${String(k).padStart(5, '0')}`;

/** Reading i of a run of `total`. */
export function reading(i: number, total: number): Reading {
  const k = i % sensorsFor(total);
  const ts = epoch + Math.floor((i * spanHours * hour) / total);
  const noise = mix(i);
  const hourOfDay = ((ts - epoch) / hour) % 24;
  // A daily cycle per site, noise, and one reading in 200 out of range (a faulty probe).
  const faulty = noise % 200 === 0;
  const temperature = faulty
    ? 99.5
    : round2(12 + (k % 7) + 8 * Math.sin(((hourOfDay - 9) * Math.PI) / 12) + (noise % 400) / 100);
  return {
    sensor: sensorId(k),
    ts,
    temperature,
    humidity: round2(40 + ((noise >>> 9) % 4000) / 100),
    pressure: round2(1000 + ((noise >>> 3) % 300) / 10),
    battery: round2(3.3 + ((noise >>> 5) % 90) / 100),
    site: `plant-${String(k % 40).padStart(2, '0')}`,
    firmware: `1.${k % 5}.${k % 3}`,
    status: (noise >>> 12) % 25 === 0 ? 'error' : 'ok',
    seq: i,
  };
}

/** The pre-load line: key, record timestamp and value, tab-separated. */
export function line(i: number, total: number): string {
  const r = reading(i, total);
  return `${r.sensor}\t${r.ts}\t${JSON.stringify(r)}`;
}

export const keepW1 = (r: Reading): boolean =>
  r.status === 'ok' && r.temperature >= -40 && r.temperature <= 85;

export const mapW1 = (r: Reading): W1Output => ({
  sensor: r.sensor,
  ts: r.ts,
  temperatureF: (r.temperature * 9) / 5 + 32,
  humidity: r.humidity,
});

export interface Oracle {
  /** How many readings W1 outputs. */
  w1: number;
  /** W2's closed windows by `sensor@start`, event time per partition. */
  w2: Map<string, W2Output>;
  /** The same, event time per key: a window closes when its own sensor's time passes its end. */
  w2ByKey: Map<string, W2Output>;
}

/** What W1 and W2 must output for `total` readings, computed in one pass over the generator. */
export function oracle(total: number): Oracle {
  let w1 = 0;
  const open = new Map<string, W2Output>();
  let maxTs = -Infinity;
  const sensorTime = new Map<string, number>();
  for (let i = 0; i < total; i++) {
    const r = reading(i, total);
    if (keepW1(r)) w1++;
    maxTs = Math.max(maxTs, r.ts);
    sensorTime.set(r.sensor, Math.max(sensorTime.get(r.sensor) ?? -Infinity, r.ts));
    const start = r.ts - (r.ts % hour);
    const id = `${r.sensor}@${start}`;
    const w = open.get(id);
    if (w === undefined) {
      const x = r.temperature;
      open.set(id, {
        sensor: r.sensor,
        start,
        end: start + hour,
        count: 1,
        sum: x,
        min: x,
        max: x,
      });
    } else {
      w.count++;
      w.sum += r.temperature;
      w.min = Math.min(w.min, r.temperature);
      w.max = Math.max(w.max, r.temperature);
    }
  }
  // Closed per partition: the window's end is at or before the last event time of its partition
  // (no grace); every partition reads in the last hour, so that is the last hour's start.
  const lastHourStart = maxTs - (maxTs % hour);
  const w2 = new Map([...open].filter(([, w]) => w.end <= lastHourStart));
  // Closed per key: the window's end is at or before its sensor's last event time. Every sensor
  // reads in the last hour, so the two agree (the unit test checks it).
  const w2ByKey = new Map(
    [...open].filter(([, w]) => w.end <= (sensorTime.get(w.sensor) ?? -Infinity)),
  );
  return { w1, w2, w2ByKey };
}

/** Differences between W2 results and the oracle (empty when equal); sums within 1e-9 relative. */
export function compareW2(results: W2Output[], expected: Map<string, W2Output>): string[] {
  const check = w2Check(expected);
  for (const w of results) check.add(w);
  return check.problems();
}

/**
 * compareW2 one window at a time (`add`), for outputs too large to hold as a list: the problems
 * once every window is added, and how many were.
 */
export function w2Check(expected: Map<string, W2Output>): {
  add(w: W2Output): void;
  problems(): string[];
  readonly count: number;
} {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  let count = 0;
  const close = (a: number, b: number): boolean =>
    Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  return {
    add(w) {
      count++;
      const id = `${w.sensor}@${w.start}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const e = expected.get(id);
      if (e === undefined) {
        if (problems.length < 5) problems.push(`unexpected window ${id}`);
        return;
      }
      if (
        w.end !== e.end ||
        w.count !== e.count ||
        !close(w.sum, e.sum) ||
        w.min !== e.min ||
        w.max !== e.max
      ) {
        if (problems.length < 5)
          problems.push(`window ${id}: ${JSON.stringify(w)} != ${JSON.stringify(e)}`);
      }
    },
    problems() {
      const all = [...problems];
      let missing = 0;
      for (const id of expected.keys()) if (!seen.has(id)) missing++;
      let twice = 0;
      let unexpected = 0;
      for (const [id, n] of seen) {
        if (n > 1) twice++;
        if (!expected.has(id)) unexpected++;
      }
      if (missing > 0) all.push(`${missing} windows missing`);
      if (twice > 0) all.push(`${twice} windows emitted more than once`);
      if (unexpected > 0) all.push(`${unexpected} windows not in the oracle`);
      return all;
    },
    get count() {
      return count;
    },
  };
}
