import { TributaryError } from '../../src/core/index.ts';

/** One reading, the JSON a sensor publishes. */
export interface SensorReading {
  sensorId: string;
  /** Epoch milliseconds. */
  timestamp: number;
  /** Degrees Celsius; a spike is 999 or -273 (a faulty sensor), which the pipeline must flag. */
  temperature: number;
  /** Relative humidity, percent. */
  humidity: number;
}

/**
 * What a simulated message is. A `reading` is a plausible reading; a `spike` a reading with an
 * impossible temperature; a `duplicate` the reading or spike just before it sent again (same
 * payload: same sensor and timestamp). The rest are bad payloads: `not-json`, `not-utf8`
 * and `not-object` (an array) go to the source's dead-letter topic; `missing-field` and
 * `wrong-type` (a string where a number belongs) are JSON objects, for the topology's serde to
 * reject.
 */
export type SimulatedKind =
  | 'reading'
  | 'spike'
  | 'duplicate'
  | 'not-json'
  | 'not-utf8'
  | 'not-object'
  | 'missing-field'
  | 'wrong-type';

export const simulatedKinds: readonly SimulatedKind[] = [
  'reading',
  'spike',
  'duplicate',
  'not-json',
  'not-utf8',
  'not-object',
  'missing-field',
  'wrong-type',
];

export interface SimulatedMessage {
  /** Position in the sequence, from 0. */
  index: number;
  /** `<topicPrefix>/<sensorId>/data`. */
  topic: string;
  sensorId: string;
  payload: Buffer;
  kind: SimulatedKind;
  /** The time of the reading slot (bad payloads have one too). */
  timestamp: number;
  /** The reading the payload carries (reading, spike, duplicate); undefined for bad payloads. */
  reading?: SensorReading;
}

export interface SensorModelOptions {
  /** Number of sensors (default 100), ids `sensor-000` ... */
  sensors?: number;
  /** Same seed, same sensors and same sequence of messages (default 1). */
  seed?: number;
  /** Default `sensors`. */
  topicPrefix?: string;
  /** Share of reading slots sent as a bad payload (default 0.01). */
  badShare?: number;
  /** Share of messages sent twice (default 0.005). */
  duplicateShare?: number;
  /** Share of readings with an impossible temperature (default 0.002). */
  spikeShare?: number;
}

/** Where the readings of a historical run fall: sensor i's n-th reading is near start + n * interval. */
export interface HistoricalTime {
  /** Epoch ms of the first reading slot. */
  start: number;
  /** Time between two readings of one sensor. */
  intervalMs: number;
}

/** A reading slot: the tick (0, 1, ...), the sensor, and its fixed phase within the interval. */
export interface Slot {
  tick: number;
  sensor: number;
  /** In [0, 1): where in each interval the sensor reports, so sensors do not report together. */
  phase: number;
}

const hourMs = 3_600_000;

/** A small, fast, seedable generator (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

/** The sensor ids: `sensor-000` ... (at least three digits). */
export function sensorIds(sensors: number): string[] {
  const width = Math.max(3, String(sensors - 1).length);
  return Array.from({ length: sensors }, (_, i) => `sensor-${String(i).padStart(width, '0')}`);
}

interface SensorProfile {
  id: string;
  /** The sensor's mean temperature (site and calibration offset). */
  mean: number;
  /** Half the daily swing. */
  amplitude: number;
  humidity: number;
  phase: number;
}

export interface ResolvedModel {
  sensors: number;
  seed: number;
  topicPrefix: string;
  badShare: number;
  duplicateShare: number;
  spikeShare: number;
}

export function resolveModel(options: SensorModelOptions): ResolvedModel {
  const model = {
    sensors: options.sensors ?? 100,
    seed: options.seed ?? 1,
    topicPrefix: options.topicPrefix ?? 'sensors',
    badShare: options.badShare ?? 0.01,
    duplicateShare: options.duplicateShare ?? 0.005,
    spikeShare: options.spikeShare ?? 0.002,
  };
  if (!Number.isInteger(model.sensors) || model.sensors < 1)
    throw new TributaryError(
      'CONFIG_INVALID',
      `sensors must be an integer >= 1, got ${model.sensors}`,
    );
  for (const name of ['badShare', 'duplicateShare', 'spikeShare'] as const) {
    const share = model[name];
    if (!(share >= 0 && share <= 1))
      throw new TributaryError('CONFIG_INVALID', `${name} must be in [0, 1], got ${share}`);
  }
  if (model.topicPrefix === '' || /[+#]/.test(model.topicPrefix))
    throw new TributaryError(
      'CONFIG_INVALID',
      `topicPrefix must be a topic without wildcards, got '${model.topicPrefix}'`,
    );
  return model;
}

/**
 * The sequence of messages for a model: an endless generator, reading slots tick after tick,
 * within a tick in the order of the sensors' phases (so timestamps rise), each slot a reading,
 * a spike or a bad payload, some followed by a duplicate. `timeOf` gives a slot's timestamp:
 * historical runs compute it, live runs read the clock. Pure for a pure `timeOf`.
 */
export function* messageSequence(
  model: ResolvedModel,
  timeOf: (slot: Slot) => number,
): Generator<SimulatedMessage> {
  const random = seededRandom(model.seed);
  const profiles: SensorProfile[] = sensorIds(model.sensors).map((id) => ({
    id,
    mean: 19 + 2.5 * gaussian(random),
    amplitude: 2 + 4 * random(),
    humidity: 40 + 30 * random(),
    phase: random(),
  }));
  const order = profiles
    .map((profile, sensor) => ({ profile, sensor }))
    .sort((a, b) => a.profile.phase - b.profile.phase);
  let index = 0;
  for (let tick = 0; ; tick++) {
    for (const { profile, sensor } of order) {
      const timestamp = Math.round(timeOf({ tick, sensor, phase: profile.phase }));
      const topic = `${model.topicPrefix}/${profile.id}/data`;
      // The same number of draws for every slot, so one choice never shifts the others.
      const badDraw = random();
      const spikeDraw = random();
      const dupDraw = random();
      const kindDraw = random();
      const noise1 = random();
      const noise2 = random();
      const reading = readingAt(profile, timestamp, noise1, noise2);
      let message: Omit<SimulatedMessage, 'index'>;
      if (badDraw < model.badShare) {
        message = badMessage(topic, reading, kindDraw);
      } else if (spikeDraw < model.spikeShare) {
        const spiked = { ...reading, temperature: kindDraw < 0.5 ? 999 : -273 };
        message = {
          topic,
          sensorId: profile.id,
          kind: 'spike',
          timestamp,
          reading: spiked,
          payload: json(spiked),
        };
      } else {
        message = {
          topic,
          sensorId: profile.id,
          kind: 'reading',
          timestamp,
          reading,
          payload: json(reading),
        };
      }
      yield { index: index++, ...message };
      // Only readings repeat (a device sending its last reading again), never garbage.
      if (dupDraw < model.duplicateShare && message.reading !== undefined) {
        yield { index: index++, ...message, kind: 'duplicate' };
      }
    }
  }
}

/** A daily cycle peaking at 15:00 UTC, the sensor's offset, and noise; humidity falls as it warms. */
function readingAt(
  profile: SensorProfile,
  timestamp: number,
  noise1: number,
  noise2: number,
): SensorReading {
  const hourOfDay = (((timestamp % (24 * hourMs)) + 24 * hourMs) % (24 * hourMs)) / hourMs;
  const cycle = Math.sin((2 * Math.PI * (hourOfDay - 9)) / 24);
  // Uniform noise, +-0.4 °C and +-2 % (a sensor's resolution and jitter).
  const temperature = profile.mean + profile.amplitude * cycle + (noise1 - 0.5) * 0.8;
  const humidity = profile.humidity - 3 * profile.amplitude * cycle + (noise2 - 0.5) * 4;
  return {
    sensorId: profile.id,
    timestamp,
    temperature: round(temperature, 2),
    humidity: round(Math.min(100, Math.max(0, humidity)), 1),
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function badMessage(
  topic: string,
  reading: SensorReading,
  draw: number,
): Omit<SimulatedMessage, 'index'> {
  const { sensorId, timestamp, temperature, humidity } = reading;
  const base = { topic, sensorId, timestamp };
  if (draw < 0.15) {
    return {
      ...base,
      kind: 'not-json',
      payload: Buffer.from(`sensorId=${sensorId};temperature=${temperature}`),
    };
  }
  if (draw < 0.3) {
    // A payload cut short in transmission.
    const text = JSON.stringify(reading);
    return {
      ...base,
      kind: 'not-json',
      payload: Buffer.from(text.slice(0, Math.floor(text.length / 2))),
    };
  }
  if (draw < 0.4) {
    return {
      ...base,
      kind: 'not-utf8',
      payload: Buffer.concat([
        Buffer.from(`{"sensorId":"${sensorId}","note":"`),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}'),
      ]),
    };
  }
  if (draw < 0.5) {
    return { ...base, kind: 'not-object', payload: json([timestamp, temperature, humidity]) };
  }
  if (draw < 0.75) {
    const drop =
      (['temperature', 'humidity', 'timestamp'] as const)[Math.floor(((draw - 0.5) / 0.25) * 3)] ??
      'temperature';
    const fields = Object.fromEntries(Object.entries(reading).filter(([name]) => name !== drop));
    return { ...base, kind: 'missing-field', payload: json(fields) };
  }
  const asString = draw < 0.875 ? String(temperature) : 'n/a';
  return { ...base, kind: 'wrong-type', payload: json({ ...reading, temperature: asString }) };
}

export interface HistoricalRunOptions extends SensorModelOptions {
  history: HistoricalTime;
  /** Reading slots in all (each sensor gets about count / sensors). */
  count?: number;
  /** Simulated time covered: each sensor gets floor(duration / interval) slots. */
  durationSeconds?: number;
}

/** How many reading slots a historical run has. */
export function historicalSlots(options: HistoricalRunOptions): number {
  const sensors = options.sensors ?? 100;
  if (options.count !== undefined) return options.count;
  if (options.durationSeconds !== undefined)
    return sensors * Math.floor((options.durationSeconds * 1000) / options.history.intervalMs);
  throw new TributaryError('CONFIG_INVALID', 'a historical run needs count or durationSeconds');
}

/**
 * The messages of a historical run, all of them (a pure function of the options): sensor i's
 * n-th slot at start + (n + phase_i) * intervalMs. An oracle recomputes what the simulator sent.
 */
export function* sensorMessages(options: HistoricalRunOptions): Generator<SimulatedMessage> {
  const model = resolveModel(options);
  const { start, intervalMs } = options.history;
  if (!(intervalMs > 0))
    throw new TributaryError('CONFIG_INVALID', `history.intervalMs must be > 0, got ${intervalMs}`);
  const slots = historicalSlots(options);
  let seen = 0;
  for (const message of messageSequence(model, (s) => start + (s.tick + s.phase) * intervalMs)) {
    if (message.kind !== 'duplicate') {
      if (seen === slots) return;
      seen++;
    }
    yield message;
  }
}
