// The side-by-side benchmark: Tributary, Kafka Streams and Quix Streams on the same broker, the
// same pre-loaded input and the same machine, in one run, next to Kafka's own performance tools
// and a raw client comparison (kafkajs, @platformatic/kafka).
//
//   npm run bench                                  everything, 3 rounds (about 45 minutes on 2 cores)
//   npm run bench -- --impl tributary --workload w2-eos     one implementation, one workload
//   npm run bench -- --records 100000 --no-raw --no-clients   a quick run
//   npm run bench -- --impl tributary --workload w2-alos,w2-alos-key --rounds 5 --no-raw --no-clients
//                                                  per-key vs per-partition event time, interleaved
//   npm run bench -- --impl tributary,kafka-streams --workload w3-eos --rounds 3 --no-raw --no-clients
//                                                  only W3, the stream-table join (w3-data.ts)
//
// Options: --records N (default 1,000,000), --sensors N (the readings' keys, default 10,000;
// as many as the records for state of that many keys), --impl tributary,kafka-streams,quix (`tributary` is
// the worker on its default client, src/kafka/library.ts; also tributary-kafkajs and
// tributary-platformatic: the same worker on that client, TRIBUTARY_KAFKA_CLIENT; in results
// before 2026-12-06 `tributary` was kafkajs),
// --workload w1,w2-eos,w2-alos,w3-eos (also w2-eos-key and w2-alos-key: W2 with event time per
// key, Tributary only; w3-alos: W3 at-least-once; W3 runs Tributary and Kafka Streams only),
// --rounds N (default 3: every workload, implementation, perf tool and client N times,
// interleaved round by round; every figure is the median of its rounds with their min-max
// spread, and a ratio is the median of the per-round ratios: stats.ts), --no-raw (skip Kafka's perf tools), --no-clients (skip
// the client comparison), --no-stack (use the servers as they run, e.g. a stack started from
// another checkout), --limit-s S (per run, default 600), --keep-topics, --no-build (use the
// jar as built), --profile DIR (Tributary's runs with node --cpu-prof, a .cpuprofile per run in
// DIR), --out FILE (results file, default bench/results/<date>.json), --table FILE (print the
// table of an earlier results file and stop), --baseline DIR (adds the implementation
// tributary-baseline: the worker on its default client from another checkout, e.g. a `git
// worktree add` of the commit before a change with node_modules linked, interleaved with the
// rest, so a before/after ratio comes from one run).
//
// Needs Java 17 + Maven (Kafka Streams, the perf tools and the pre-loader) and Python 3.11 (Quix
// Streams, installed from PyPI into bench/quix/.venv). Starts the local stack if it is down and
// leaves it up. Writes bench/results/<date>.json and prints a markdown table with the ratios
// Tributary / peer.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackEndpoints } from '../../infra/stack/config.ts';
import { createKafkaClient, defaultKafkaLibrary } from '../../src/kafka/index.ts';
import type { KafkaLibrary } from '../../src/kafka/index.ts';
import { committedTotal, machine } from '../kafka-load.ts';
import { line, oracle, partitions, sensorsFor, w2Check } from './data.ts';
import type { W2Output } from './data.ts';
import { compareW3, metaLine, w3Line } from './w3-data.ts';
import type { W3Output } from './w3-data.ts';
import { startMeasured } from './measure.ts';
import { formatSpread, median, roundRatios, spread } from './stats.ts';
import type { Spread } from './stats.ts';
import type { Measured } from './measure.ts';

const repo = new URL('../../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const total = Number(option('records', '1000000'));
// --sensors N: the readings' keys (data.ts, sensorsFor); the oracle and the pre-load read it.
if (argv.includes('--sensors')) process.env['BENCH_SENSORS'] = option('sensors', '');
const impls = option('impl', 'tributary,kafka-streams,quix').split(',');
const workloads = option('workload', 'w1,w2-eos,w2-alos,w3-eos').split(',');
const rounds = Number(option('rounds', '3'));
const limitMs = Number(option('limit-s', '600')) * 1000;
/** --profile DIR: Tributary runs with --cpu-prof, its profiles written to DIR. */
const profileDir = argv.includes('--profile')
  ? option('profile', 'bench/results/profiles')
  : undefined;
/** --baseline DIR: another checkout, run as the implementation `tributary-baseline`. */
const baselineDir = argv.includes('--baseline') ? option('baseline', '') : undefined;
if (baselineDir === '') throw new Error('bench: --baseline needs a directory');
if (baselineDir !== undefined && !impls.includes('tributary-baseline'))
  impls.unshift('tributary-baseline');
const commitIntervalMs = 100;
const { kafkaBrokers } = stackEndpoints();
const brokers = kafkaBrokers.join(',');
const client = createKafkaClient({ brokers: kafkaBrokers, clientId: 'tributary-bench' });
const admin = client.admin();
const runId = `bench-${Date.now().toString(36)}`;
const jar = join(repo, 'bench/kafka-streams/target/tributary-bench-kafka-streams.jar');
const python = join(repo, 'bench/quix/.venv/bin/python');
const jvm = ['-Xmx1g'];

const say = (text: string): void => console.error(`bench: ${text}`);

/** Runs a command to its end with its output shown; throws on a non-zero exit. */
async function run(command: string, args: string[], what: string): Promise<void> {
  const child = spawn(command, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${what} failed (${command} exit ${code})`);
}

async function createTopic(topic: string, config: Record<string, string> = {}): Promise<void> {
  // A broker the run has just started may not know the new topic's leader yet: a retriable
  // error (UNKNOWN_TOPIC_OR_PARTITION), asked again a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await createTopicOnce(topic, config);
      return;
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || attempt >= 10) throw error;
      await sleep(1000);
    }
  }
}

async function createTopicOnce(topic: string, config: Record<string, string>): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: partitions,
        configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
      },
    ],
  });
}

/**
 * Pre-loads the input with Kafka's Java producer (keys, timestamps, murmur2 partitioning): the
 * W1/W2 readings, or `count` lines of another generator (W3).
 */
async function preload(
  topic: string,
  lineOf: (i: number) => string = (i) => line(i, total),
  count = total,
): Promise<void> {
  const loader = spawn(
    'java',
    [...jvm, '-jar', jar, 'load', '--brokers', brokers, '--topic', topic],
    {
      stdio: ['pipe', 'inherit', 'inherit'],
    },
  );
  const done = new Promise<number | null>((resolve) => loader.on('exit', resolve));
  // A loader that fails early closes its input: its exit code tells why, not the broken pipe.
  loader.stdin.on('error', () => undefined);
  for (let i = 0; i < count; i += 10_000) {
    let text = '';
    for (let j = i; j < Math.min(count, i + 10_000); j++) text += `${lineOf(j)}\n`;
    if (loader.exitCode !== null) break;
    if (!loader.stdin.write(text)) await new Promise((r) => loader.stdin.once('drain', r));
  }
  loader.stdin.end();
  if ((await done) !== 0) throw new Error(`pre-loading ${topic} failed`);
}

/** Records in a topic, from its offsets (no transaction markers: at-least-once writers only). */
async function countRecords(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/** A topic's committed records' values, read with kcat (read_committed). */
async function readValues(topic: string): Promise<string[]> {
  const values: string[] = [];
  await eachValue(topic, (value) => values.push(value));
  return values;
}

/**
 * Hands each committed record's value of a topic to `use`, line by line as kcat prints them
 * (read_committed): no string of the whole topic, which ten million windows would exceed.
 */
async function eachValue(topic: string, use: (value: string) => void): Promise<void> {
  const child = spawn(
    'kcat',
    [
      ...['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n'],
      ...['-X', 'isolation.level=read_committed'],
    ],
    { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0) use(line);
  const code =
    child.exitCode ?? (await new Promise<number | null>((resolve) => child.on('exit', resolve)));
  if (code !== 0) throw new Error(`kcat reading ${topic} exited ${code}`);
}

interface RunResult {
  impl: string;
  workload: string;
  /** With --rounds: which round (1-based). */
  round?: number | undefined;
  ok: boolean;
  error?: string | undefined;
  recordsPerSecond?: number | undefined;
  seconds?: number | undefined;
  /** CPU from the first record to the end (the measured window). */
  cpuSeconds?: number | undefined;
  /** CPU of the whole process, start-up included. */
  cpuSecondsTotal?: number | undefined;
  peakRssMiB?: number | undefined;
  /** W1: outputs counted; W2: compared with the oracle. */
  output?: string | undefined;
  correct?: boolean | undefined;
  exitCode?: number | null | undefined;
}

/** What one run is given. */
interface RunSpec {
  workload: 'w1' | 'w2' | 'w3';
  guarantee: string;
  /** W2: event time per partition (all implementations) or per key (Tributary only). */
  time: 'partition' | 'key';
  appId: string;
  output: string;
  stateDir: string;
}

/** W3's two input topics, pre-loaded once for all rounds. */
interface W3Topics {
  readings: string;
  meta: string;
}

interface Implementation {
  command: string;
  args: (w: RunSpec) => string[];
  env?: (w: RunSpec) => Record<string, string>;
}

/** The workload names: w1, w2-eos, w2-alos, w2-eos-key, w2-alos-key, w3-eos, w3-alos. */
function parseWorkload(name: string): Pick<RunSpec, 'workload' | 'guarantee' | 'time'> {
  if (name === 'w3-eos' || name === 'w3-alos')
    return {
      workload: 'w3',
      guarantee: name === 'w3-eos' ? 'exactly_once' : 'at_least_once',
      time: 'partition',
    };
  const match = /^(w1|w2-eos|w2-alos)(-key)?$/.exec(name);
  if (match === null || (match[1] === 'w1' && match[2] !== undefined))
    throw new Error(
      `unknown workload ${name} (w1, w2-eos, w2-alos, w2-eos-key, w2-alos-key, w3-eos, w3-alos)`,
    );
  return {
    workload: match[1] === 'w1' ? 'w1' : 'w2',
    guarantee: match[1] === 'w2-eos' ? 'exactly_once' : 'at_least_once',
    time: match[2] === undefined ? 'partition' : 'key',
  };
}

/** Tributary's implementations and the Kafka client each runs its worker on. */
const tributaryClients = new Map<string, KafkaLibrary>([
  ['tributary', defaultKafkaLibrary],
  ['tributary-kafkajs', 'kafkajs'],
  ['tributary-platformatic', 'platformatic'],
  ['tributary-baseline', defaultKafkaLibrary],
]);

function implementation(name: string, input: string, table?: string): Implementation {
  const common = (w: RunSpec): string[] => [
    ...['--workload', w.workload, '--guarantee', w.guarantee, '--brokers', brokers],
    ...['--input', input, '--output', w.output, '--app-id', w.appId],
    ...['--commit-interval-ms', String(commitIntervalMs), '--state-dir', w.stateDir],
    ...(table === undefined ? [] : ['--table', table]),
  ];
  if (tributaryClients.has(name)) {
    const root = name === 'tributary-baseline' ? (baselineDir ?? repo) : repo;
    return {
      command: process.execPath,
      args: () => [
        // As the command's shebang and the Docker image run a worker (see bin/tributary.js).
        '--max-semi-space-size=64',
        ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
        join(root, 'bin/tributary.js'),
        'run',
        join(root, 'bench/compare/tributary.ts'),
      ],
      env: (w) => ({
        TRIBUTARY_BROKERS: brokers,
        TRIBUTARY_APP_ID: w.appId,
        TRIBUTARY_GUARANTEE: w.guarantee,
        TRIBUTARY_COMMIT_INTERVAL_MS: String(commitIntervalMs),
        TRIBUTARY_STATE_DIR: w.stateDir,
        TRIBUTARY_METRICS_PORT: '0',
        TRIBUTARY_LOG_LEVEL: 'warn',
        // The client the implementation names (TRIBUTARY_KAFKA_CLIENT, decision 0001).
        TRIBUTARY_KAFKA_CLIENT: tributaryClients.get(name) as KafkaLibrary,
        BENCH_WORKLOAD: w.workload,
        BENCH_TIME: w.time,
        BENCH_INPUT: input,
        BENCH_OUTPUT: w.output,
        ...(table === undefined ? {} : { BENCH_TABLE: table }),
      }),
    };
  }
  if (name === 'kafka-streams') {
    return { command: 'java', args: (w) => [...jvm, '-jar', jar, 'streams', ...common(w)] };
  }
  if (name === 'quix') {
    return { command: python, args: (w) => [join(repo, 'bench/quix/app.py'), ...common(w)] };
  }
  throw new Error(
    `unknown implementation ${name} (${[...tributaryClients.keys()].join(', ')}, kafka-streams, quix)`,
  );
}

/** One implementation on one workload: started fresh, measured, stopped, its output checked. */
async function measureRun(
  impl: string,
  name: string,
  topics: { input: string; w3: W3Topics | undefined },
  expected: () => ReturnType<typeof oracle>,
  round: number,
): Promise<RunResult> {
  const { workload, guarantee, time } = parseWorkload(name);
  const w3 = workload === 'w3' ? topics.w3 : undefined;
  if (workload === 'w3' && w3 === undefined) throw new Error('W3 topics not loaded');
  const input = w3?.readings ?? topics.input;
  const appId = `${runId}-${impl}-${name}${rounds > 1 ? `-r${round}` : ''}`;
  const output = `${appId}-out`;
  const stateDir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const result: RunResult = { impl, workload: name, ok: false };
  result.round = round;
  let measured: Measured | undefined;
  try {
    await createTopic(output);
    // W3: the metadata table is in place before the first reading, the same way for both engines:
    // the run's group starts with the metadata topic committed at its end, so each restores the
    // table from that topic (up to the committed offset) before it processes, and reads readings
    // from the beginning. Without this, which of a task's two partitions is read first is not
    // fixed, and a reading processed before its row would be dropped by the inner join.
    if (w3 !== undefined) {
      const ends = await admin.fetchTopicOffsets(w3.meta);
      await admin.setOffsets({
        groupId: appId,
        topic: w3.meta,
        partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
      });
    }
    const spec = implementation(impl, input, w3?.meta);
    const w: RunSpec = { workload, guarantee, time, appId, output, stateDir };
    measured = startMeasured(spec.command, spec.args(w), { cwd: repo, env: spec.env?.(w) ?? {} });
    const deadline = Date.now() + limitMs;
    const failedEarly = measured.exited.then((code) => {
      throw new Error(`exited ${code} before the end:\n${measured?.output().slice(-3000)}`);
    });
    const firstRecord = await Promise.race([measured.firstRecord, failedEarly]);
    let done = 0;
    while (done < total) {
      if (Date.now() > deadline) throw new Error(`only ${done} of ${total} committed in time`);
      await Promise.race([sleep(100), failedEarly]);
      done = await committedTotal(admin, appId, input);
    }
    const doneAt = Date.now();
    const figures = measured.figures();
    failedEarly.catch(() => undefined);
    result.exitCode = await measured.stop();
    const seconds = (doneAt - firstRecord) / 1000;
    result.seconds = seconds;
    result.recordsPerSecond = Math.round(total / seconds);
    result.cpuSecondsTotal = figures.cpuSeconds;
    result.cpuSeconds =
      Math.round((figures.cpuSeconds - (measured.cpuAtFirstRecord() ?? 0)) * 100) / 100;
    result.peakRssMiB = figures.peakRssMiB;
    if (workload === 'w1') {
      const count = await countRecords(output);
      result.correct = count === expected().w1;
      result.output = `${count} records (expected ${expected().w1})`;
    } else if (workload === 'w3') {
      const values = (await readValues(output)).map((v) => JSON.parse(v) as W3Output);
      const problems = compareW3(values, total);
      result.correct = problems.length === 0;
      result.output =
        problems.length === 0
          ? `${values.length} joined readings, equal to the oracle`
          : `${values.length} joined readings: ${problems.join('; ')}`;
    } else {
      const check = w2Check(time === 'key' ? expected().w2ByKey : expected().w2);
      await eachValue(output, (v) => check.add(JSON.parse(v) as W2Output));
      const problems = check.problems();
      result.correct = problems.length === 0;
      result.output =
        problems.length === 0
          ? `${check.count} windows, equal to the oracle`
          : `${check.count} windows: ${problems.join('; ')}`;
    }
    result.ok = true;
  } catch (error) {
    result.error = (error as Error).message;
    await measured?.stop(5000);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  say(`${impl} ${name}: ${JSON.stringify(result)}`);
  return result;
}

/** Kafka's own consumer and producer performance tools on the same topic and record size. */
async function rawTools(input: string, round: number): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const consumer = startMeasured('java', [
    ...jvm,
    ...['-cp', jar, 'org.apache.kafka.tools.ConsumerPerformance'],
    ...['--bootstrap-server', brokers, '--topic', input, '--messages', String(total)],
    ...['--group', `${runId}-perf-consumer`, '--timeout', '60000'],
  ]);
  const consumerCode = await consumer.exited;
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const csv =
    consumer
      .output()
      .trim()
      .split('\n')
      .at(-1)
      ?.split(',')
      .map((s) => s.trim()) ?? [];
  const fetchRate = Number(csv[9]);
  results.push(
    consumerCode === 0 && Number.isFinite(fetchRate)
      ? {
          impl: 'kafka-consumer-perf-test',
          workload: 'consume',
          ok: true,
          recordsPerSecond: Math.round(fetchRate),
          seconds: Number(csv[7]) / 1000,
          cpuSecondsTotal: consumer.figures().cpuSeconds,
          peakRssMiB: consumer.figures().peakRssMiB,
          output: `${csv[4]} records (fetch.nMsg.sec: from the first fetch, without the group join)`,
        }
      : {
          impl: 'kafka-consumer-perf-test',
          workload: 'consume',
          ok: false,
          error: consumer.output().slice(-2000),
        },
  );
  const target = `${runId}-perf-producer-r${round}`;
  await createTopic(target);
  const producer = startMeasured('java', [
    ...jvm,
    ...['-cp', jar, 'org.apache.kafka.tools.ProducerPerformance'],
    ...['--topic', target, '--num-records', String(total), '--record-size', '200'],
    ...['--throughput', '-1', '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all'],
  ]);
  const producerCode = await producer.exited;
  const summary = /(\d+) records sent, ([\d.]+) records\/sec/.exec(
    producer.output().trim().split('\n').at(-1) ?? '',
  );
  results.push(
    producerCode === 0 && summary !== null
      ? {
          impl: 'kafka-producer-perf-test',
          workload: 'produce',
          ok: true,
          recordsPerSecond: Math.round(Number(summary[2])),
          cpuSecondsTotal: producer.figures().cpuSeconds,
          peakRssMiB: producer.figures().peakRssMiB,
          output: `${summary[1]} records of 200 bytes, acks=all`,
        }
      : {
          impl: 'kafka-producer-perf-test',
          workload: 'produce',
          ok: false,
          error: producer.output().slice(-2000),
        },
  );
  for (const r of results) say(`${r.impl}: ${JSON.stringify(r)}`);
  return results;
}

/** bench/clients: consume the input and produce as many records with each Node client. */
async function clients(input: string, round: number): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const name of ['kafkajs', 'platformatic', 'confluent']) {
    for (const mode of ['consume', 'produce']) {
      const topic = mode === 'consume' ? input : `${runId}-client-${name}-${mode}-r${round}`;
      if (mode === 'produce') await createTopic(topic);
      const child = startMeasured(process.execPath, [
        ...['--import', 'tsx', join(repo, 'bench/clients/run.ts')],
        ...['--client', name, '--mode', mode, '--topic', topic, '--records', String(total)],
        ...['--brokers', brokers],
      ]);
      const code = await child.exited;
      const last = child
        .output()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1);
      if (code === 0 && last !== undefined) {
        const r = JSON.parse(last) as {
          recordsPerSecond: number;
          seconds: number;
          recordsPerSecondFromJoin?: number;
          secondsFromJoin?: number;
          cpuSeconds: number;
          peakRssMiB: number;
          version: string;
        };
        results.push({
          impl: `${name} ${r.version}`,
          workload: mode,
          ok: true,
          // Consumers from their group assignment: kafkajs decodes a whole fetch response before
          // handing over its first record, which timing from the first record would leave out.
          recordsPerSecond: r.recordsPerSecondFromJoin ?? r.recordsPerSecond,
          seconds: r.secondsFromJoin ?? r.seconds,
          cpuSecondsTotal: r.cpuSeconds,
          peakRssMiB: r.peakRssMiB,
        });
      } else {
        // The error's message, not the stack frames printed after it.
        const reason = child
          .output()
          .split('\n')
          .filter((l) => l.trim() !== '' && !/^\s+at /.test(l))
          .at(-1);
        results.push({ impl: name, workload: mode, ok: false, error: reason ?? `exit ${code}` });
      }
      say(`client ${name} ${mode}: ${JSON.stringify(results.at(-1))}`);
    }
  }
  return results;
}

const fmt = (n: number | undefined): string =>
  n === undefined
    ? '-'
    : n >= 100
      ? Math.round(n).toLocaleString('en-US')
      : String(Math.round(n * 100) / 100);

/** One implementation's rounds of one workload: each figure's median and spread. */
interface Summary {
  impl: string;
  workload: string;
  ok: boolean;
  error?: string | undefined;
  correct?: boolean | undefined;
  output?: string | undefined;
  rounds: RunResult[];
  recordsPerSecond?: Spread | undefined;
  cpuSeconds?: Spread | undefined;
  cpuSecondsTotal?: Spread | undefined;
  peakRssMiB?: Spread | undefined;
}

/** One summary per implementation and workload, over the rounds that ran without failing. */
function summarize(runs: RunResult[]): Summary[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const id = `${r.workload}\t${r.impl}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const [first] = group as [RunResult, ...RunResult[]];
    const ok = group.filter((r) => r.ok);
    const correct = ok.filter((r) => r.correct === true).length;
    const wrong = ok.find((r) => r.correct === false);
    const checked = ok.some((r) => r.correct !== undefined);
    return {
      impl: first.impl,
      workload: first.workload,
      ok: ok.length > 0,
      error: group.find((r) => !r.ok)?.error,
      correct: checked ? ok.length === group.length && correct === group.length : undefined,
      output:
        group.length === 1
          ? first.output
          : `${ok.length} of ${group.length} rounds ran` +
            (checked ? `, ${correct} equal to the oracle` : '') +
            (wrong === undefined ? '' : ` (${wrong.output})`),
      rounds: ok,
      recordsPerSecond: spread(ok.map((r) => r.recordsPerSecond)),
      cpuSeconds: spread(ok.map((r) => r.cpuSeconds)),
      cpuSecondsTotal: spread(ok.map((r) => r.cpuSecondsTotal)),
      peakRssMiB: spread(ok.map((r) => r.peakRssMiB)),
    };
  });
}

/** Per-key vs per-partition event time: key / partition, per round, and the median over rounds. */
interface KeyVsPartition {
  workload: string;
  rounds: number;
  /** CPU seconds per record (both read the same input, so the ratio of CPU seconds). */
  cpuRatios: number[];
  recordsPerSecondRatios: number[];
  peakRssRatios: number[];
  medianCpuRatio: number | undefined;
  medianRecordsPerSecondRatio: number | undefined;
  medianPeakRssRatio: number | undefined;
}

function keyVsPartition(runs: RunResult[]): KeyVsPartition[] {
  const out: KeyVsPartition[] = [];
  const tributary = runs.filter((r) => r.impl === 'tributary' && r.ok && r.correct === true);
  const keyWorkloads = new Set(tributary.map((r) => r.workload).filter((w) => w.endsWith('-key')));
  for (const keyWorkload of keyWorkloads) {
    const base = keyWorkload.slice(0, -'-key'.length);
    const pairs = tributary
      .filter((r) => r.workload === keyWorkload)
      .flatMap((k) => {
        const p = tributary.find((r) => r.workload === base && r.round === k.round);
        return p === undefined ? [] : [[k, p] as const];
      });
    const ratio = (f: (r: RunResult) => number | undefined): number[] =>
      pairs.flatMap(([k, p]) => {
        const a = f(k);
        const b = f(p);
        return a === undefined || b === undefined || b === 0 ? [] : [a / b];
      });
    const round3 = (xs: number[]): number[] => xs.map((x) => Math.round(x * 1000) / 1000);
    const cpuRatios = round3(ratio((r) => r.cpuSeconds));
    const recordsPerSecondRatios = round3(ratio((r) => r.recordsPerSecond));
    const peakRssRatios = round3(ratio((r) => r.peakRssMiB));
    out.push({
      workload: keyWorkload,
      rounds: pairs.length,
      cpuRatios,
      recordsPerSecondRatios,
      peakRssRatios,
      medianCpuRatio: median(cpuRatios),
      medianRecordsPerSecondRatio: median(recordsPerSecondRatios),
      medianPeakRssRatio: median(peakRssRatios),
    });
  }
  return out;
}

/** Tributary's implementations: the worker on its default client (`tributary`) or a named one. */
const isTributary = (impl: string): boolean => impl.startsWith('tributary');

/**
 * Each Tributary implementation / each other implementation, per workload: records/s and CPU s,
 * per-round ratios (`ours` names the Tributary implementation).
 */
function ratiosToPeers(runs: RunResult[]): {
  workload: string;
  ours: string;
  peer: string;
  recordsPerSecond?: Spread | undefined;
  cpuSeconds?: Spread | undefined;
}[] {
  const all = summarize(runs);
  return all
    .filter((ours) => isTributary(ours.impl))
    .flatMap((ours) =>
      all
        .filter((peer) => peer.workload === ours.workload && peer.impl !== ours.impl)
        .map((peer) => ({
          workload: peer.workload,
          ours: ours.impl,
          peer: peer.impl,
          recordsPerSecond: roundRatios(ours.rounds, peer.rounds, (x) => x.recordsPerSecond),
          cpuSeconds: roundRatios(ours.rounds, peer.rounds, (x) => x.cpuSeconds),
        })),
    );
}

function table(allRuns: RunResult[], raw: RunResult[], clientRuns: RunResult[]): string {
  const runs = summarize(allRuns);
  const n = (s: Spread | undefined): string => formatSpread(s, (x) => fmt(x));
  const times = (s: Spread | undefined): string => formatSpread(s, (x) => `${x.toFixed(2)}x`);
  const rows = [
    'Each figure: the median of its rounds, with the min-max spread in brackets; a ratio is the median of the per-round ratios.',
    '',
    '| workload | implementation | records/s | CPU s | peak RSS MiB | output | Tributary / this (records/s) |',
    '|---|---|--:|--:|--:|---|--:|',
  ];
  const ratio = (r: Summary): string => {
    const ours = runs.find((x) => x.impl === 'tributary' && x.workload === r.workload);
    if (ours === undefined) return '-';
    // A speed of a wrong answer is no speed (e.g. a join that dropped every record).
    if (ours.correct === false) return '- (Tributary WRONG)';
    return times(roundRatios(ours.rounds, r.rounds, (x) => x.recordsPerSecond));
  };
  const w1Ours = runs.find((x) => x.impl === 'tributary' && x.workload === 'w1');
  for (const r of runs) {
    const output = r.ok
      ? `${r.correct === true ? 'correct' : r.correct === false ? 'WRONG' : 'unchecked'}: ${r.output}`
      : `failed: ${r.error?.split('\n')[0]}`;
    rows.push(
      `| ${r.workload} | ${r.impl} | ${n(r.recordsPerSecond)} | ${n(r.cpuSeconds)} | ${n(r.peakRssMiB)} | ${output} | ${r.impl === 'tributary' ? '1.00x' : ratio(r)} |`,
    );
  }
  for (const r of summarize(raw)) {
    const versus =
      r.workload === 'consume' && w1Ours !== undefined
        ? `${times(roundRatios(w1Ours.rounds, r.rounds, (x) => x.recordsPerSecond))} (W1)`
        : '-';
    rows.push(
      `| raw ${r.workload} | ${r.impl} | ${n(r.recordsPerSecond)} | ${n(r.cpuSecondsTotal)} (whole process) | ${n(r.peakRssMiB)} | ${r.ok ? r.output : `failed: ${r.error?.split('\n').at(-1)}`} | ${versus} |`,
    );
  }
  const comparisons = keyVsPartition(allRuns);
  if (comparisons.length > 0) {
    rows.push(
      '',
      '| per key / per partition | rounds | CPU s per record (median) | records/s (median) | peak RSS (median) | CPU per round |',
      '|---|--:|--:|--:|--:|---|',
    );
    for (const c of comparisons) {
      const x = (n: number | undefined): string => (n === undefined ? '-' : `${n.toFixed(3)}x`);
      rows.push(
        `| ${c.workload} / ${c.workload.slice(0, -4)} | ${c.rounds} | ${x(c.medianCpuRatio)} | ${x(c.medianRecordsPerSecondRatio)} | ${x(c.medianPeakRssRatio)} | ${c.cpuRatios.map((r) => r.toFixed(3)).join(', ')} |`,
      );
    }
  }
  const otherClients = ratiosToPeers(allRuns).filter((r) => r.ours !== 'tributary');
  if (otherClients.length > 0) {
    rows.push(
      '',
      '| workload | Tributary on | / this | records/s ratio | CPU s ratio |',
      '|---|---|---|--:|--:|',
    );
    for (const r of otherClients)
      rows.push(
        `| ${r.workload} | ${r.ours} | ${r.peer} | ${times(r.recordsPerSecond)} | ${times(r.cpuSeconds)} |`,
      );
  }
  if (clientRuns.length > 0) {
    rows.push(
      '',
      '| client | mode | records/s | CPU s (whole process) | peak RSS MiB |',
      '|---|---|--:|--:|--:|',
    );
    for (const r of summarize(clientRuns)) {
      rows.push(
        r.ok
          ? `| ${r.impl} | ${r.workload} | ${n(r.recordsPerSecond)} | ${n(r.cpuSecondsTotal)} | ${n(r.peakRssMiB)} |`
          : `| ${r.impl} | ${r.workload} | not run: ${r.error?.trim().split('\n').at(-1)} | | |`,
      );
    }
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const began = Date.now();
  if (!flag('no-stack'))
    await run(
      process.execPath,
      ['--import', 'tsx', join(repo, 'infra/stack/cli.ts'), 'up'],
      'starting the stack',
    );
  if (!flag('no-build')) {
    say('building Kafka Streams, the perf tools and the pre-loader (Maven)');
    await run(
      'mvn',
      ['-q', '-B', '-f', join(repo, 'bench/kafka-streams/pom.xml'), 'package', '-DskipTests'],
      'the Maven build',
    );
  }
  if (impls.includes('quix'))
    await run('bash', [join(repo, 'bench/quix/setup.sh')], 'the Quix Streams virtual environment');
  await admin.connect();
  const input = `${runId}-in`;
  const w3Topics = workloads.some((w) => w.startsWith('w3'))
    ? { readings: `${runId}-w3-in`, meta: `${runId}-w3-meta` }
    : undefined;
  // W1/W2's input, unless only W3 runs and nothing else reads it.
  const needsInput =
    workloads.some((w) => !w.startsWith('w3')) || !flag('no-raw') || !flag('no-clients');
  const results: { runs: RunResult[]; raw: RunResult[]; clients: RunResult[] } = {
    runs: [],
    raw: [],
    clients: [],
  };
  try {
    for (const workload of workloads) parseWorkload(workload);
    if (needsInput) {
      await createTopic(input);
      say(`pre-loading ${total} readings into ${input}`);
      const loadStart = Date.now();
      await preload(input);
      say(`pre-loaded in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);
    }
    if (w3Topics !== undefined) {
      // Same partition count for both (co-partitioned); the metadata first, then the readings.
      await createTopic(w3Topics.meta, { 'cleanup.policy': 'compact' });
      await createTopic(w3Topics.readings);
      const sensors = sensorsFor(total);
      say(`W3: pre-loading ${sensors} metadata rows, then ${total} readings`);
      await preload(w3Topics.meta, metaLine, sensors);
      await preload(w3Topics.readings, (i) => w3Line(i, total));
    }
    let computed: ReturnType<typeof oracle> | undefined;
    const expected = (): ReturnType<typeof oracle> => (computed ??= oracle(total));
    // Round by round, so a machine that gets slower or faster during the run affects every
    // workload alike: w2-alos, w2-alos-key, w2-alos, w2-alos-key, ...
    for (let round = 1; round <= rounds; round++) {
      for (const workload of workloads) {
        for (const impl of impls) {
          if (parseWorkload(workload).time === 'key' && impl !== 'tributary') continue;
          if (workload.startsWith('w3') && impl === 'quix') continue;
          results.runs.push(
            await measureRun(impl, workload, { input, w3: w3Topics }, expected, round),
          );
        }
      }
      // The perf tools and the clients in the same round, so they share its minutes too.
      const inRound = (r: RunResult): RunResult => ({ ...r, round });
      if (!flag('no-raw')) results.raw.push(...(await rawTools(input, round)).map(inRound));
      if (!flag('no-clients')) results.clients.push(...(await clients(input, round)).map(inRound));
    }
  } finally {
    if (!flag('keep-topics')) {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(runId));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 60_000 });
    }
    await admin.disconnect();
  }
  const date = new Date().toISOString();
  const report = {
    benchmark:
      'side by side: Tributary, Kafka Streams, Quix Streams, Kafka perf tools, Node clients',
    date,
    machine: machine(),
    setup: {
      records: total,
      sensors: sensorsFor(total),
      partitions,
      recordBytes: Buffer.byteLength(line(0, total).split('\t')[2] ?? ''),
      commitIntervalMs,
      instances: 'one process each, one stream thread (Kafka Streams num.stream.threads=1)',
      jvm: jvm.join(' '),
      throughput: 'records / (last input offset committed - first record taken)',
      rounds,
      w3: workloads.some((w) => w.startsWith('w3'))
        ? {
            metadataRows: sensorsFor(total),
            readings: total,
            table:
              'compacted metadata topic, committed at its end for each run group: both engines restore the table from it before the first reading (Kafka Streams with topology.optimization=reuse.ktable.source.topics)',
          }
        : undefined,
    },
    ...results,
    keyVsPartition: keyVsPartition(results.runs),
    // Every figure's median and min-max spread over the rounds, and Tributary / each peer.
    summary: [results.runs, results.raw, results.clients].flatMap((runs) =>
      summarize(runs).map(({ rounds: _rounds, ...rest }) => rest),
    ),
    ratios: ratiosToPeers(results.runs),
    minutes: Math.round((Date.now() - began) / 600) / 100,
  };
  const dir = join(repo, 'bench/results');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const file = argv.includes('--out')
    ? resolve(repo, option('out', ''))
    : join(dir, `${date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(table(results.runs, results.raw, results.clients));
  console.log(`\n${total} records, ${report.minutes} minutes; figures in ${file}`);
  process.exit(0);
}

/** --table FILE: prints the table of an earlier run's results file, runs nothing. */
async function printTable(file: string): Promise<void> {
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    runs: RunResult[];
    raw: RunResult[];
    clients: RunResult[];
  };
  console.log(table(report.runs, report.raw, report.clients));
}

(argv.includes('--table') ? printTable(option('table', '')) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
