import type { SensorReading } from '../../tools/mqtt-sensors/index.ts';
// The sensor pipeline's expected hourly rows, computed directly from the readings the simulator
// published, as a batch job would, independently of topologies/sensors.ts: readings outside
// what a sensor can measure are left out (flagged), a reading repeated with the same sensor and
// timestamp counts once, and each sensor's own event time decides which readings are late and
// which hours have closed (the topology's time: 'key'). Shared by the sensor integration test
// and `npm run demo:sensors`.

/** The hourly aggregation of topologies/sensors.ts: tumbling hours, 5 minutes of grace. */
export const sensorHourly = { sizeMs: 3_600_000, graceMs: 5 * 60_000 } as const;

/** What a sensor can measure (°C, %); outside it a reading is flagged and left out. */
export const sensorRange = { temperature: [-40, 85], humidity: [0, 100] } as const;

export interface SensorHourRow {
  count: number;
  temperature_mean: number;
  temperature_min: number;
  temperature_max: number;
  humidity_mean: number;
  humidity_min: number;
  humidity_max: number;
}

export interface SensorOracle {
  /** `sensorId@hourStart` -> row, for every hour that closed by its sensor's time. */
  rows: Map<string, SensorHourRow>;
  /** `sensorId@hourStart` of hours with readings that are still open (their sensor's time has not passed end + grace). */
  open: string[];
  /** Readings (in range) later than their hour's grace by their sensor's time. */
  late: number;
  /** Readings outside the range: flagged, never aggregated. */
  outOfRange: number;
}

export function outOfRange(r: SensorReading): boolean {
  const [tMin, tMax] = sensorRange.temperature;
  const [hMin, hMax] = sensorRange.humidity;
  return r.temperature < tMin || r.temperature > tMax || r.humidity < hMin || r.humidity > hMax;
}

/** The readings in the order each sensor published them (duplicates included). */
export function sensorOracle(readings: SensorReading[]): SensorOracle {
  const { sizeMs, graceMs } = sensorHourly;
  const sensorTime = new Map<string, number>();
  const windows = new Map<
    string,
    { sensorId: string; start: number; byTime: Map<number, SensorReading> }
  >();
  let late = 0;
  let flagged = 0;
  for (const r of readings) {
    // A flagged reading never reaches the aggregation, so it moves no time there.
    if (outOfRange(r)) {
      flagged++;
      continue;
    }
    const time = Math.max(sensorTime.get(r.sensorId) ?? -Infinity, r.timestamp);
    sensorTime.set(r.sensorId, time);
    const start = Math.floor(r.timestamp / sizeMs) * sizeMs;
    if (start + sizeMs + graceMs <= time) {
      late++;
      continue;
    }
    const id = `${r.sensorId}@${start}`;
    const w = windows.get(id) ?? { sensorId: r.sensorId, start, byTime: new Map() };
    w.byTime.set(r.timestamp, r);
    windows.set(id, w);
  }
  const rows = new Map<string, SensorHourRow>();
  const open: string[] = [];
  for (const [id, w] of windows) {
    if (w.start + sizeMs + graceMs > (sensorTime.get(w.sensorId) ?? -Infinity)) {
      open.push(id);
      continue;
    }
    const list = [...w.byTime.values()].sort((a, b) => a.timestamp - b.timestamp);
    const t = list.map((r) => r.temperature);
    const h = list.map((r) => r.humidity);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    rows.set(id, {
      count: list.length,
      temperature_mean: mean(t),
      temperature_min: Math.min(...t),
      temperature_max: Math.max(...t),
      humidity_mean: mean(h),
      humidity_min: Math.min(...h),
      humidity_max: Math.max(...h),
    });
  }
  return { rows, open, late, outOfRange: flagged };
}
