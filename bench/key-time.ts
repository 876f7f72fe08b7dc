// Per-key vs per-partition event time, in-process: the windowed aggregate operator driven by hand
// over a MemoryStore and a manual clock (as test/unit/window-fixtures.ts does), no broker.
//
//   node --import tsx bench/key-time.ts [--keys 1000000] [--reps 9] [--records 1000000] [--rounds 5]
//
// (1) The duration of ONE punctuation of an hourly tumbling aggregate holding `keys` keys:
//     - key-idle-closed: per key, idle timeout 60 s, every key's window already closed by the
//       idle timeout (the keys hold no open window; their times are retained for a day of event
//       time, see src/operators/key-clock.ts);
//     - key-open-not-due: per key, idle timeout 60 s, every key has an open window, none due;
//     - partition-open: per partition, idle timeout 60 s, every key has an open window;
//     - partition-closed: per partition, every key's window closed by a later record;
//     each the median of `reps` punctuations at successive wall-clock seconds, plus the one-off
//     work that set the state up (the punctuation that closed `keys` idle keys at once; the
//     record that closed `keys` windows per partition; the punctuation that re-checks `keys`
//     keys which all got a record since they were queued), and the V8 heap used after a full GC.
// (2) The cost per record, per key vs per partition: the W2 input of the side-by-side benchmark
//     (bench/compare/data.ts: `records` readings of 10,000 sensors over 25 hours, time-ordered),
//     hourly summary, the store flushed (values encoded, as a commit does) every 10,000 records;
//     CPU ns per record, in `rounds` interleaved rounds (partition, key, partition, key, ...), each
//     in a fresh process; the median of the per-round ratios key / partition.
// Each scenario runs in a process of its own (started with --expose-gc). Writes
// bench/results/key-time.json.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ProcessorContext, StreamRecord } from '../src/core/index.ts';
import { aggregateOperator } from '../src/operators/index.ts';
import type { AggregateSpec } from '../src/operators/index.ts';
import { json, string } from '../src/serde/index.ts';
import { jsonCodec, MemoryStore } from '../src/state/index.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { hours, summary, topology, tumbling } from '../src/topology/index.ts';
import { oracle, reading } from './compare/data.ts';
import type { Reading } from './compare/data.ts';
import { machine } from './kafka-load.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const keys = Number(option('keys', '1000000'));
const reps = Number(option('reps', '9'));
const records = Number(option('records', '1000000'));
const rounds = Number(option('rounds', '5'));
const idleTimeoutMs = 60_000;
const hour = 3_600_000;
/** 2026-11-01T00:00:00Z. */
const epoch = Date.UTC(2026, 10, 1);
const wallStart = 1_000_000;

function spec(time: 'key' | 'partition', idle: boolean): AggregateSpec {
  const t = topology('bench');
  t.stream('readings', { key: string(), value: json<Reading>() })
    .groupByKey()
    .windowedBy(tumbling(hours(1)))
    .aggregate(
      summary((r: Reading) => r.temperature),
      { store: 'hourly', name: 'agg', time, ...(idle ? { idleTimeoutMs } : {}) },
    );
  const found = t
    .build()
    .plan.subtopologies.flatMap((s) => s.nodes)
    .find((n) => n.name === 'agg');
  if (found?.kind !== 'process' || found.label !== 'aggregate')
    throw new Error('no aggregate node named agg');
  return found;
}

/** One operator instance over a MemoryStore, driven by hand. */
function harness(time: 'key' | 'partition', idle: boolean) {
  const clock = new ManualClock(wallStart);
  const store = new MemoryStore<unknown>('hourly', jsonCodec<unknown>());
  let forwarded = 0;
  const context: ProcessorContext<unknown, unknown> = {
    forward: () => void forwarded++,
    taskId: '0_0',
    operator: 'agg',
    clock,
    source: undefined,
    getStore: (() => {
      throw new Error('this harness gives the operator its store directly');
    }) as ProcessorContext<unknown, unknown>['getStore'],
    get timers(): never {
      throw new Error('this harness has no timers');
    },
  };
  const operator = aggregateOperator(spec(time, idle), store);
  void operator.init?.(context);
  const record = (key: string, timestamp: number, value: Reading): StreamRecord<unknown, unknown> =>
    ({ key, value, timestamp, headers: {} }) satisfies StreamRecord<unknown, unknown>;
  return {
    clock,
    store,
    forwarded: () => forwarded,
    send: (key: string, timestamp: number, value: Reading) =>
      operator.process(record(key, timestamp, value), context),
    punctuate: () => operator.punctuate?.(clock.now(), context),
    /** Store changes encoded and handed over, as a commit does; returns their bytes. */
    commit: (): number => {
      let bytes = 0;
      for (const c of store.flush()) bytes += c.key.length + (c.value?.length ?? 0);
      return bytes;
    },
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
const heapMiB = (): number => {
  gc?.();
  return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
};
const ms = (f: () => void): number => {
  const start = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

const value = (k: number): Reading => reading(k, keys);
const keyOf = (k: number): string => `k-${k}`;

/** Sends one record for each key, a millisecond of event time apart, all in the first hour. */
function loadKeys(h: ReturnType<typeof harness>): number {
  return ms(() => {
    for (let k = 0; k < keys; k++) h.send(keyOf(k), epoch + (k % hour), value(k));
    h.commit();
  });
}

/** `reps` punctuations one wall-clock second apart: their durations (ms) and what they emitted. */
function punctuations(h: ReturnType<typeof harness>): { median: number; all: number[] } {
  const all: number[] = [];
  const before = h.forwarded();
  for (let i = 0; i < reps; i++) {
    h.clock.advance(1000);
    all.push(ms(() => h.punctuate()));
  }
  if (h.forwarded() !== before) throw new Error('a punctuation that should emit nothing emitted');
  return { median: round3(median(all)), all: all.map(round3) };
}

type Scenario = Record<string, unknown>;

const scenarios: Record<string, () => Scenario> = {
  'key-idle-closed': () => {
    const h = harness('key', true);
    const loadMs = loadKeys(h);
    const heapOpen = heapMiB();
    h.clock.advance(idleTimeoutMs);
    const closingMs = ms(() => h.punctuate());
    if (h.forwarded() !== keys) throw new Error(`closed ${h.forwarded()} of ${keys} windows`);
    const commitBytes = h.commit();
    return {
      what: 'per key, idle timeout 60 s: every key closed by the idle timeout, no open window',
      loadMs: round3(loadMs),
      heapMiBWithOpenWindows: heapOpen,
      closingPunctuationMs: round3(closingMs),
      windowsClosedByIt: keys,
      changelogBytesOfTheClose: commitBytes,
      punctuationMs: punctuations(h),
      heapMiB: heapMiB(),
      storeEntries: h.store.size,
    };
  },
  'key-open-not-due': () => {
    const h = harness('key', true);
    const loadMs = loadKeys(h);
    return {
      what: 'per key, idle timeout 60 s: every key has an open window, none due',
      loadMs: round3(loadMs),
      punctuationMs: punctuations(h),
      heapMiB: heapMiB(),
      storeEntries: h.store.size,
    };
  },
  'key-open-recheck': () => {
    const h = harness('key', true);
    loadKeys(h);
    // Every key gets a record 30 s later: when its first check comes due, it is pushed back.
    h.clock.advance(30_000);
    for (let k = 0; k < keys; k++) h.send(keyOf(k), epoch + (k % hour) + 1, value(k));
    h.commit();
    h.clock.advance(30_000);
    const recheckMs = ms(() => h.punctuate());
    if (h.forwarded() !== 0) throw new Error('the re-check emitted windows');
    return {
      what: 'per key, idle timeout 60 s: every key queued at once got a record since; the punctuation at their due time re-queues each (the worst punctuation of this mode)',
      recheckPunctuationMs: round3(recheckMs),
      punctuationMs: punctuations(h),
      heapMiB: heapMiB(),
    };
  },
  'partition-open': () => {
    const h = harness('partition', true);
    const loadMs = loadKeys(h);
    return {
      what: 'per partition, idle timeout 60 s: every key has an open window, none due',
      loadMs: round3(loadMs),
      punctuationMs: punctuations(h),
      heapMiB: heapMiB(),
      storeEntries: h.store.size,
    };
  },
  'partition-closed': () => {
    const h = harness('partition', true);
    loadKeys(h);
    const heapOpen = heapMiB();
    const closingMs = ms(() => h.send('k-late', epoch + hour, value(0)));
    if (h.forwarded() !== keys) throw new Error(`closed ${h.forwarded()} of ${keys} windows`);
    const commitBytes = h.commit();
    return {
      what: 'per partition: the window of every key closed by one later record (only its own window is open)',
      heapMiBWithOpenWindows: heapOpen,
      closingRecordMs: round3(closingMs),
      windowsClosedByIt: keys,
      changelogBytesOfTheClose: commitBytes,
      punctuationMs: punctuations(h),
      heapMiB: heapMiB(),
      storeEntries: h.store.size,
    };
  },
};

/** (2) One pass of the W2 input through the operator; CPU ns per record. */
function perRecord(time: 'key' | 'partition'): Scenario {
  const h = harness(time, false);
  const inputs: [string, number, Reading][] = [];
  for (let i = 0; i < records; i++) {
    const r = reading(i, records);
    inputs.push([r.sensor, r.ts, r]);
  }
  let changelogBytes = 0;
  const cpu = process.cpuUsage();
  const wall = ms(() => {
    for (let i = 0; i < inputs.length; i++) {
      const [key, ts, r] = inputs[i] as [string, number, Reading];
      h.send(key, ts, r);
      if (i % 10_000 === 9_999) changelogBytes += h.commit();
    }
    changelogBytes += h.commit();
  });
  const used = process.cpuUsage(cpu);
  const expected = oracle(records)[time === 'key' ? 'w2ByKey' : 'w2'].size;
  if (h.forwarded() !== expected)
    throw new Error(`${time}: ${h.forwarded()} windows, the oracle says ${expected}`);
  return {
    time,
    records,
    windows: h.forwarded(),
    wallNsPerRecord: Math.round((wall * 1e6) / records),
    cpuNsPerRecord: Math.round(((used.user + used.system) * 1000) / records),
    changelogBytesPerRecord: round3(changelogBytes / records),
    heapMiB: heapMiB(),
  };
}

/** Runs one scenario in a fresh process (with --expose-gc) and returns what it printed. */
async function inChild(name: string): Promise<Scenario> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', import.meta.filename]
      .concat(['--child', name, '--keys', String(keys), '--reps', String(reps)])
      .concat(['--records', String(records)]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`scenario ${name} exited ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Scenario;
}

async function main(): Promise<void> {
  const say = (text: string): void => console.error(`key-time: ${text}`);
  const punctuation: Record<string, Scenario> = {};
  for (const name of Object.keys(scenarios)) {
    punctuation[name] = await inChild(name);
    say(`${name}: ${JSON.stringify(punctuation[name])}`);
  }
  const runs: Scenario[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const time of ['partition', 'key'] as const) {
      const r = { round, ...(await inChild(`per-record-${time}`)) };
      runs.push(r);
      say(`per record: ${JSON.stringify(r)}`);
    }
  }
  const cpuOf = (round: number, time: string): number =>
    Number(runs.find((r) => r['round'] === round && r['time'] === time)?.['cpuNsPerRecord']);
  const ratios = [...Array(rounds).keys()].map((i) =>
    round3(cpuOf(i + 1, 'key') / cpuOf(i + 1, 'partition')),
  );
  const report = {
    benchmark: 'per-key vs per-partition event time, in-process (bench/key-time.ts)',
    date: new Date().toISOString(),
    machine: machine(),
    setup: { keys, reps, records, rounds, idleTimeoutMs, window: 'hourly tumbling, no grace' },
    punctuation,
    perRecord: {
      runs,
      cpuRatiosKeyOverPartition: ratios,
      medianCpuRatioKeyOverPartition: median(ratios),
      medianCpuNsPerRecord: {
        partition: median(
          runs.filter((r) => r['time'] === 'partition').map((r) => Number(r['cpuNsPerRecord'])),
        ),
        key: median(
          runs.filter((r) => r['time'] === 'key').map((r) => Number(r['cpuNsPerRecord'])),
        ),
      },
    },
  };
  const file = join(import.meta.dirname, 'results/key-time.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify({ punctuation, perRecord: report.perRecord }, null, 2));
  console.log(`figures in ${file}`);
}

const child = option('child', '');
if (child === '') {
  await main();
} else {
  const run = child.startsWith('per-record-')
    ? () => perRecord(child.slice('per-record-'.length) as 'key' | 'partition')
    : scenarios[child];
  if (run === undefined) throw new Error(`unknown scenario ${child}`);
  console.log(JSON.stringify(run()));
}
