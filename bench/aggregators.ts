// The sensor pipeline's state, in-process (no broker, no servers):
//
//   npm run bench:aggregators [-- --sensors 1000 --minutes 75]
//
// (1) sensorAggregator.add per reading, one sensor at 1 Hz, windows of 600 and 3,600 readings:
//     the aggregator shipped before issue 12 (kept below as it was) against topologies/sensors.ts;
// (2) changelog bytes per input record of topologies/sensors.ts's stores (dedup, minutely,
//     hourly): the simulator's readings of 1,000 sensors at 1 Hz in time order (0.5% sent twice,
//     1% bad payloads, 0.2% spikes) over 6 partitions; each round of `flushEvery` input records
//     is one fetched batch per partition, and each task flushes its stores after its batch, as
//     the at-least-once commit does. Windows closing by partition time and by key time (which
//     writes the key's time into each window entry). Also CPU per record of the tasks alone;
// (3) the dedup store for 1,000 sensors at 1 Hz after 70 minutes of event time, with the
//     topology's 65-minute retention: entries, heap, and the same entries in a MemoryStore (at a
//     tenth of the count, scaled), and the rate at which restore applies its entries.
// Writes bench/results/aggregators.json. Run with --expose-gc (the npm script does) for heap
// figures after a full collection.
import { writeFileSync } from 'node:fs';

import type { TopologyContext } from '../src/app/index.ts';
import { loadSettings, topologyContext } from '../src/app/index.ts';
import { silentLogger, taskId } from '../src/core/index.ts';
import type { StreamRecord } from '../src/core/index.ts';
import { partitionForKey } from '../src/kafka/index.ts';
import type { FetchedRecord } from '../src/kafka/index.ts';
import { dedupOperator, windowKey } from '../src/operators/index.ts';
import { Task } from '../src/runtime/index.ts';
import { string } from '../src/serde/index.ts';
import type { Serde } from '../src/serde/index.ts';
import { jsonCodec, MemoryStore, SeenStore } from '../src/state/index.ts';
import { ManualClock } from '../src/testing/index.ts';
import type { Plan } from '../src/topology/index.ts';
import sensors, { sensorAggregator } from '../topologies/sensors.ts';
import type { SensorReading, SensorStats } from '../topologies/sensors.ts';
import { machine } from './kafka-load.ts';
import { sensorMessages } from '../tools/mqtt-sensors/index.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const sensorCount = arg('sensors', 1000);
const minutes = arg('minutes', 75);
/** Bytes are counted over the last minutes, once the dedup store has reached its retention. */
const steadyMinutes = Math.min(10, minutes);
const partitions = 6;
const start = Date.UTC(2026, 8, 10);
const gc = (globalThis as { gc?: () => void }).gc;

// --- (1) -----------------------------------------------------------------------------------

/** topologies/sensors.ts's aggregator before issue 12: every reading of the window, by time. */
const oldSensorAggregator = {
  init: (): { byTime: Record<string, [number, number]> } => ({ byTime: {} }),
  add: (
    acc: { byTime: Record<string, [number, number]> },
    r: SensorReading,
  ): { byTime: Record<string, [number, number]> } => ({
    byTime: { ...acc.byTime, [String(r.timestamp)]: [r.temperature, r.humidity] },
  }),
  result: (acc: { byTime: Record<string, [number, number]> }): SensorStats => {
    const rows = Object.entries(acc.byTime)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, row]) => row);
    const stat = (i: 0 | 1) => {
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const row of rows) {
        const v = row[i];
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      return { mean: sum / rows.length, min, max };
    };
    return { count: rows.length, temperature: stat(0), humidity: stat(1) };
  },
};

interface AnyAggregator {
  init(): unknown;
  add(acc: never, r: SensorReading): unknown;
  result(acc: never): SensorStats;
}

/** Microseconds per reading to fold one window of `n` readings (best of `rounds`). */
function perReading(aggregator: AnyAggregator, n: number, rounds: number): number {
  const readings = Array.from({ length: n }, (_, i) => ({
    sensorId: 'sensor-0001',
    timestamp: start + i * 1000,
    temperature: Math.round((20 + Math.sin(i / 60)) * 100) / 100,
    humidity: Math.round((50 + Math.cos(i / 60) * 5) * 10) / 10,
  }));
  const add = aggregator.add as (acc: unknown, r: SensorReading) => unknown;
  const result = aggregator.result as (acc: unknown) => SensorStats;
  let best = Infinity;
  let check = 0;
  for (let round = 0; round < rounds; round++) {
    const began = process.hrtime.bigint();
    let acc = aggregator.init();
    for (const r of readings) acc = add(acc, r);
    check += result(acc).count;
    const us = Number(process.hrtime.bigint() - began) / 1000 / n;
    best = Math.min(best, us);
  }
  if (check !== n * rounds) throw new Error('the aggregators disagree on the count');
  return best;
}

function aggregatorCosts() {
  const rows = [];
  for (const n of [600, 3600]) {
    const oldUs = perReading(oldSensorAggregator, n, n > 1000 ? 3 : 5);
    const newUs = perReading(sensorAggregator, n, 200);
    rows.push({
      windowReadings: n,
      oldMicrosecondsPerReading: round(oldUs, 2),
      newMicrosecondsPerReading: round(newUs, 3),
      speedup: Math.round(oldUs / newUs),
    });
  }
  return rows;
}

// --- (2) -----------------------------------------------------------------------------------

/** The shipped topology, its aggregates' windows closing by `time`. */
function sensorPlan(context: TopologyContext, time: 'partition' | 'key'): Plan {
  const plan = sensors(context).plan;
  for (const sub of plan.subtopologies)
    for (const node of sub.nodes)
      if (node.kind === 'process' && node.label === 'aggregate') node.time = time;
  return plan;
}

interface ChangelogFigures {
  windows: 'partition' | 'key';
  flushEvery: number;
  inputRecords: number;
  /** Over the last `steadyMinutes` of event time only: the dedup store is full and forgetting. */
  steady: {
    inputRecords: number;
    changelogRecords: Record<string, number>;
    bytesPerInputRecord: Record<string, number>;
    bytesPerInputRecordTotal: number;
    recordsPerInputRecordTotal: number;
  };
  /** The whole run. */
  bytesPerInputRecordTotal: number;
  cpuMicrosecondsPerRecord: number;
  dedupStoreEntries: number;
}

/** The simulator's messages as fetched records, generated as they are consumed. */
function* sensorInput(): Generator<FetchedRecord & { key: Buffer }> {
  let offset = 0;
  for (const m of sensorMessages({
    sensors: sensorCount,
    seed: 12,
    history: { start, intervalMs: 1000 },
    durationSeconds: minutes * 60,
  })) {
    const record = { key: Buffer.from(m.sensorId), value: m.payload, timestamp: m.timestamp };
    yield { ...record, headers: {}, offset: String(offset++) };
  }
}

async function changelogBytes(
  context: TopologyContext,
  time: 'partition' | 'key',
  flushEvery: number,
): Promise<ChangelogFigures> {
  const plan = sensorPlan(context, time);
  const sub = plan.subtopologies[0];
  if (sub === undefined || plan.subtopologies.length !== 1) throw new Error('one sub-topology');
  const clock = new ManualClock(start);
  const tasks: Task[] = [];
  for (let p = 0; p < partitions; p++) {
    const task = new Task({
      id: taskId(0, p),
      subtopology: sub,
      partition: p,
      dlqTopic: plan.dlqTopic,
      clock,
      logger: silentLogger,
    });
    await task.init();
    tasks.push(task);
  }
  const topic = sub.sourceTopics[0] ?? '';
  const byStore = new Map(sub.stores.map((s) => [s.changelogTopic, s.name]));
  const steadyFrom = start + (minutes - steadyMinutes) * 60_000;
  const records: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  let all = 0;
  let inputRecords = 0;
  let steadyInput = 0;
  let cpuMicros = 0;
  const input = sensorInput();
  for (let done = false; !done;) {
    const batches: FetchedRecord[][] = tasks.map(() => []);
    let roundStart = Infinity;
    for (let i = 0; i < flushEvery; i++) {
      const next = input.next();
      if (next.done === true) {
        done = true;
        break;
      }
      roundStart = Math.min(roundStart, next.value.timestamp);
      batches[partitionForKey(next.value.key, partitions)]?.push(next.value);
    }
    const steady = roundStart >= steadyFrom;
    const cpu = process.cpuUsage();
    batches.forEach((batch, p) => {
      const task = tasks[p] as Task;
      inputRecords += batch.length;
      if (steady) steadyInput += batch.length;
      if (batch.length > 0) task.process(topic, p, batch);
      task.takeExternal();
      for (const change of task.flushStores().records) {
        const size = (change.key?.length ?? 0) + (change.value?.length ?? 0);
        all += size;
        if (!steady) continue;
        const store = byStore.get(change.topic) ?? change.topic;
        records[store] = (records[store] ?? 0) + 1;
        bytes[store] = (bytes[store] ?? 0) + size;
      }
    });
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    clock.advance(100);
  }
  const seen = tasks.reduce((n, t) => n + (t.stores.get('seen-readings')?.memory.size ?? 0), 0);
  for (const task of tasks) await task.close();
  const steadyBytes = Object.values(bytes).reduce((a, b) => a + b, 0);
  const steadyRecords = Object.values(records).reduce((a, b) => a + b, 0);
  return {
    windows: time,
    flushEvery,
    inputRecords,
    steady: {
      inputRecords: steadyInput,
      changelogRecords: records,
      bytesPerInputRecord: Object.fromEntries(
        Object.entries(bytes).map(([s, b]) => [s, round(b / steadyInput, 1)]),
      ),
      bytesPerInputRecordTotal: round(steadyBytes / steadyInput, 1),
      recordsPerInputRecordTotal: round(steadyRecords / steadyInput, 3),
    },
    bytesPerInputRecordTotal: round(all / inputRecords, 1),
    cpuMicrosecondsPerRecord: round(cpuMicros / inputRecords, 2),
    dedupStoreEntries: seen,
  };
}

// --- (3) -----------------------------------------------------------------------------------

function heapBytes(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function dedupStore() {
  const retentionMs = 65 * 60_000;
  const seconds = 70 * 60;
  const ids = Array.from({ length: sensorCount }, (_, i) => `sensor-${String(i).padStart(4, '0')}`);
  const timeOf = (s: number, i: number): number => start + s * 1000 + i;

  // A MemoryStore (what aggregates use) with a tenth of the entries the dedup store will hold.
  const tenth = Math.floor((sensorCount * retentionMs) / 1000 / 10);
  let before = heapBytes();
  const memory = new MemoryStore<unknown>('memory', jsonCodec());
  for (let n = 0; n < tenth; n++) {
    const i = n % sensorCount;
    memory.put(windowKey(Buffer.from(ids[i] as string), timeOf(Math.floor(n / sensorCount), i)), 1);
  }
  memory.flush();
  const memoryBytes = heapBytes() - before;
  if (memory.size !== tenth) throw new Error('memory store lost entries');
  memory.clear();

  const store = new SeenStore('seen-readings', false);
  const key = string() as unknown as Serde<unknown>;
  const op = dedupOperator({ name: 'dedup', key, retentionMs, id: undefined }, store);
  const context = { forward: () => undefined } as never;
  before = heapBytes();
  const began = process.hrtime.bigint();
  let processed = 0;
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < sensorCount; i++) {
      const record: StreamRecord<unknown, unknown> = {
        key: ids[i],
        value: null,
        timestamp: timeOf(s, i),
        headers: {},
      };
      op.process(record, context);
      if (++processed % 2000 === 0) store.flush();
    }
  }
  store.flush();
  const processUs = Number(process.hrtime.bigint() - began) / 1000 / processed;
  const heap = heapBytes() - before;

  // Restore: each entry's changelog key made and applied to an empty store.
  const restored = new SeenStore('restored', false);
  const present = Buffer.from('1');
  const restoreBegan = process.hrtime.bigint();
  for (const e of store.entries()) restored.apply(windowKey(e.keyBytes, e.time), present);
  const applyUs = Number(process.hrtime.bigint() - restoreBegan) / 1000 / store.size;
  if (restored.size !== store.size) throw new Error('restore lost entries');
  return {
    sensors: sensorCount,
    eventMinutes: 70,
    retentionMinutes: 65,
    recordsProcessed: processed,
    entries: store.size,
    keys: store.keyCount,
    entriesPerSensor: Math.round(store.size / sensorCount),
    heapMiB: round(heap / 2 ** 20, 1),
    bytesPerEntry: round(heap / store.size, 1),
    processMicrosecondsPerRecord: round(processUs, 3),
    restoreApplyMicrosecondsPerEntry: round(applyUs, 3),
    memoryStoreComparison: {
      entries: tenth,
      heapMiB: round(memoryBytes / 2 ** 20, 1),
      bytesPerEntry: round(memoryBytes / tenth, 1),
      scaledToAllEntriesMiB: round((memoryBytes / tenth) * (store.size / 2 ** 20), 0),
    },
    gcExposed: gc !== undefined,
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function main(): Promise<void> {
  console.log('(1) sensorAggregator per reading ...');
  const aggregators = aggregatorCosts();
  console.table(aggregators);

  console.log(
    `(2) changelog bytes: ${sensorCount} sensors at 1 Hz, ${minutes} minutes of event time ...`,
  );
  const context = topologyContext(loadSettings({}));
  const changelog: ChangelogFigures[] = [];
  const runs = [
    ['key', 2000],
    ['partition', 2000],
    ['key', 500],
    ['key', 10_000],
  ] as const;
  for (const [time, flushEvery] of runs) {
    const figures = await changelogBytes(context, time, flushEvery);
    changelog.push(figures);
    console.log(
      `  windows by ${time}, flush every ${flushEvery}: last ${steadyMinutes} min ${figures.steady.bytesPerInputRecordTotal} B/record ${JSON.stringify(figures.steady.bytesPerInputRecord)}; whole run ${figures.bytesPerInputRecordTotal} B/record; ${figures.cpuMicrosecondsPerRecord} us CPU/record`,
    );
  }

  console.log('(3) the dedup store after 70 minutes of 1 Hz ...');
  const store = dedupStore();
  console.log(store);

  const result = {
    benchmark:
      'sensor pipeline state in-process: aggregator cost per reading, changelog bytes per input record, dedup store memory',
    date: new Date().toISOString(),
    machine: machine(),
    aggregatorPerReading: aggregators,
    changelog: {
      setup: {
        sensors: sensorCount,
        rateHz: 1,
        eventMinutes: minutes,
        steadyMinutes,
        partitions,
        input:
          'sensorMessages (the simulator), seed 12: 0.5% duplicates, 1% bad payloads, 0.2% spikes',
        bytes:
          'key + value bytes of the changelog records (Kafka adds ~10 bytes of framing per record)',
      },
      runs: changelog,
    },
    dedupStore: store,
  };
  writeFileSync(
    new URL('./results/aggregators.json', import.meta.url),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log('written to bench/results/aggregators.json');
}

await main();
