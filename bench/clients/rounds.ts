// The client comparison in interleaved rounds (issue 16): every client and mode once per round,
// clients in the same order each round (A, B, C, A, B, C ...), each run a process of its own
// (bench/clients/run.ts); medians and min/max of the rounds, as JSON and a markdown table.
//
//   node --import tsx bench/clients/rounds.ts [--records 1000000] [--rounds 3] \
//     [--clients kafkajs,platformatic,confluent] [--modes consume,produce,produce-txn] \
//     [--txn-records 1000000] [--brokers 127.0.0.1:9092] [--out FILE] [--prefix i16cmp] \
//     [--loader-jar bench/kafka-streams/target/tributary-bench-kafka-streams.jar] \
//     [--input TOPIC (already pre-loaded: not loaded, not deleted)] [--keep-input]
//
// consume reads one input topic of --records records on 12 partitions, pre-loaded once by Kafka's
// Java producer (the loader of `npm run bench`: idempotent, 256 KiB batches, linger 20 ms) with
// bench/clients/records.ts's keys and values, each run in a fresh group. produce and produce-txn
// write to a fresh 12-partition topic per run, deleted after it. produce-txn writes
// --txn-records records (transactions of 1,000). The confluent clients need
// `npm run bench:clients:install-confluent` first; the loader jar is built by `npm run bench`
// (mvn -q -f bench/kafka-streams/pom.xml package), or pass another checkout's with --loader-jar.
// Environment for trials: CKJS_MAX_BATCH, CKJS_CONSUMER_CONFIG (confluent-bench.ts),
// PLT_RETRY_DELAY_MS (platformatic-bench.ts, produce-txn). Topics and groups are named `<prefix>-<run id>-...`.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { Kafka, logLevel } from 'kafkajs';

import { keyOf, valueOf } from './records.ts';
import { spread } from '../compare/stats.ts';
import type { Spread } from '../compare/stats.ts';

const repo = new URL('../../', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'txn-records': { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: 'kafkajs,platformatic,confluent' },
    modes: { type: 'string', default: 'consume,produce,produce-txn' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    out: { type: 'string' },
    prefix: { type: 'string', default: 'i16cmp' },
    input: { type: 'string' },
    'keep-input': { type: 'boolean', default: false },
    'loader-jar': {
      type: 'string',
      default: join(repo, 'bench/kafka-streams/target/tributary-bench-kafka-streams.jar'),
    },
  },
  strict: true,
});
const records = Number(values.records);
const txnRecords = Number(values['txn-records']);
const rounds = Number(values.rounds);
const clients = values.clients.split(',');
const modes = values.modes.split(',');
const runId = `${values.prefix}-${Date.now().toString(36)}`;
const partitions = 12;
const say = (text: string): void => console.error(`rounds: ${text}`);

const admin = new Kafka({
  clientId: 'tributary-clients-rounds',
  brokers: values.brokers.split(','),
  logLevel: logLevel.NOTHING,
}).admin();

/** One run's line from run.ts, with the round and the load average when it started. */
interface Run {
  round: number;
  client: string;
  mode: string;
  ok: boolean;
  error?: string;
  loadAverage1m: number;
  records?: number;
  seconds?: number;
  recordsPerSecond?: number;
  secondsFromJoin?: number;
  recordsPerSecondFromJoin?: number;
  cpuSeconds?: number;
  cpuSecondsClient?: number;
  peakRssMiB?: number;
  version?: string;
}

async function createTopic(topic: string): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions }],
  });
}

/** The input of the consume runs, written by Kafka's Java producer (as `npm run bench` does). */
async function preload(topic: string): Promise<void> {
  const loader = spawn(
    'java',
    ['-Xmx1g', '-jar', values['loader-jar'], 'load', '--brokers', values.brokers, '--topic', topic],
    { stdio: ['pipe', 'inherit', 'inherit'] },
  );
  const done = new Promise<number | null>((resolve) => loader.on('exit', resolve));
  loader.stdin.on('error', () => undefined);
  const at = 1_700_000_000_000;
  for (let i = 0; i < records && loader.exitCode === null; i += 10_000) {
    let text = '';
    for (let j = i; j < Math.min(records, i + 10_000); j++)
      text += `${keyOf(j)}\t${at + j}\t${valueOf(j)}\n`;
    if (!loader.stdin.write(text)) await new Promise((r) => loader.stdin.once('drain', r));
  }
  loader.stdin.end();
  if ((await done) !== 0) throw new Error(`pre-loading ${topic} failed`);
}

async function runOnce(round: number, client: string, mode: string, input: string): Promise<Run> {
  const topic = mode === 'consume' ? input : `${runId}-${client}-${mode}-r${round}`;
  if (mode !== 'consume') await createTopic(topic);
  const loadAverage1m = Number((loadavg()[0] ?? 0).toFixed(2));
  const args = [
    ...['--import', 'tsx', join(repo, 'bench/clients/run.ts')],
    ...['--client', client, '--mode', mode, '--topic', topic, '--brokers', values.brokers],
    ...['--records', String(mode === 'produce-txn' ? txnRecords : records)],
    ...['--group', `${runId}-${client}-r${round}`],
    ...['--transactional-id', `${runId}-${client}-txn-r${round}`],
  ];
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (mode !== 'consume') await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  const line = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  if (code !== 0 || line === undefined) {
    const reason = err
      .split('\n')
      .filter((l) => l.trim() !== '' && !/^\s+at /.test(l))
      .at(-1);
    return { round, client, mode, ok: false, error: reason ?? `exit ${code}`, loadAverage1m };
  }
  return { round, client, mode, ok: true, loadAverage1m, ...(JSON.parse(line) as object) };
}

function summarise(runs: Run[]): Record<string, Record<string, Spread | string | number>> {
  const summary: Record<string, Record<string, Spread | string | number>> = {};
  for (const mode of modes)
    for (const client of clients) {
      const ok = runs.filter((r) => r.ok && r.client === client && r.mode === mode);
      const field = (f: (r: Run) => number | undefined): Spread | undefined => spread(ok.map(f));
      const entry: Record<string, Spread | string | number> = {
        runs: ok.length,
        failed: runs.filter((r) => !r.ok && r.client === client && r.mode === mode).length,
        version: ok[0]?.version ?? '-',
      };
      const figures = {
        // Consume from the group assignment, as npm run bench reports it.
        recordsPerSecond: field((r) => r.recordsPerSecondFromJoin ?? r.recordsPerSecond),
        cpuSeconds: field((r) => r.cpuSeconds),
        cpuSecondsClient: field((r) => r.cpuSecondsClient),
        cpuMicrosPerRecord: field((r) =>
          r.cpuSeconds === undefined || r.records === undefined
            ? undefined
            : (r.cpuSeconds * 1e6) / r.records,
        ),
        cpuMicrosPerRecordClient: field((r) =>
          r.cpuSecondsClient === undefined || r.records === undefined
            ? undefined
            : (r.cpuSecondsClient * 1e6) / r.records,
        ),
        peakRssMiB: field((r) => r.peakRssMiB),
      };
      for (const [name, value] of Object.entries(figures))
        if (value !== undefined) entry[name] = value;
      summary[`${client} ${mode}`] = entry;
    }
  return summary;
}

const fmt = (s: unknown, digits = 0): string => {
  const x = s as Spread | undefined;
  if (x === undefined) return '-';
  const n = (v: number): string =>
    v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return `${n(x.median)} (${n(x.min)}-${n(x.max)})`;
};

function table(summary: ReturnType<typeof summarise>): string {
  const rows = [
    '| client | mode | records/s | CPU s | CPU us/record | CPU s from connect | peak RSS MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, e] of Object.entries(summary)) {
    const [client, mode] = name.split(' ');
    rows.push(
      `| ${client} ${String(e['version'])} | ${mode} | ${fmt(e['recordsPerSecond'])} | ` +
        `${fmt(e['cpuSeconds'], 2)} | ${fmt(e['cpuMicrosPerRecord'], 1)} | ` +
        `${fmt(e['cpuSecondsClient'], 2)} | ${fmt(e['peakRssMiB'])} |`,
    );
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  await admin.connect();
  const input = values.input ?? `${runId}-input`;
  const ownInput = values.input === undefined && modes.includes('consume');
  const runs: Run[] = [];
  const startedAt = new Date().toISOString();
  try {
    if (ownInput) {
      await createTopic(input);
      say(`pre-loading ${records} records into ${input}`);
      await preload(input);
    }
    for (let round = 1; round <= rounds; round++)
      for (const mode of modes)
        for (const client of clients) {
          const run = await runOnce(round, client, mode, input);
          say(JSON.stringify(run));
          runs.push(run);
        }
  } finally {
    if (ownInput && !values['keep-input'])
      await admin.deleteTopics({ topics: [input] }).catch(() => {});
    else if (ownInput) say(`kept ${input}`);
    await admin.disconnect();
  }
  const summary = summarise(runs);
  const report = {
    what: 'bench/clients/rounds.ts: Node Kafka clients, interleaved rounds (issue 16)',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    settings: { records, txnRecords, rounds, clients, modes, partitions, runId },
    summary,
    runs,
  };
  if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(table(summary));
}

await main();
