// Raw Kafka client comparison: one client, one mode, one process, one JSON line on stdout.
//
//   npx tsx bench/clients/run.ts --client kafkajs|platformatic|confluent --mode consume|produce|produce-txn \
//     --topic T --records 1000000 [--brokers 127.0.0.1:9092] \
//     [--batch 5000 --inflight 4] [--max-bytes 52428800 --max-bytes-per-partition 1048576]
//     [--group G] [--timeout 600]
//
// consume: one consumer in a fresh group reads T from the earliest offsets (read_committed, no
//   offset commits) and counts records, touching key and value, until --records have arrived.
//   T must already hold them (npm run bench pre-loads one). Fetches ask for
//   up to 50 MiB, 1 MiB per partition: 2, 4 and 10 MiB per partition were slower and cost more
//   CPU for both kafkajs and @platformatic/kafka (larger responses, more garbage).
// produce: --records records (keys s-00000..s-09999, ~200-byte JSON values) to T, which must
//   exist: idempotent, acks=-1, no compression, --batch records per send call, at most
//   --inflight calls unacknowledged; waits for every acknowledgement.
// produce-txn: the same records with a transactional producer (--transactional-id, fresh by
//   default), --transaction-records (default 1000) per transaction, each committed before the
//   next begins (one transaction at a time, as one task's producer does).
// Timing runs from the first record received (consume) or the first send (produce) to the last
// record received or acknowledged. Consume also reports secondsFromJoin and
// recordsPerSecondFromJoin, timed from the consumer's group assignment instead: a client that
// decodes a whole (up to 50 MiB) fetch response before handing over its first record would
// otherwise leave that first response out of its time. cpuSeconds is user+system CPU over the
// whole process (all its threads: librdkafka's too) and peakRssMiB its maximum resident set;
// cpuSecondsClient leaves out the start-up before the client connects (tsx, module loading). Exits 1 with the error on stderr.
//
// npm run bench (bench/compare/run.ts) runs every client and mode against the same input.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { packageVersion } from './records.ts';
import type { BenchOptions, ClientBench } from './types.ts';

export const clients = ['kafkajs', 'platformatic', 'confluent', 'confluent-rdkafka'] as const;
type ClientName = (typeof clients)[number];
const modes = ['consume', 'produce', 'produce-txn'] as const;
type Mode = (typeof modes)[number];

/**
 * @platformatic/kafka 2.x declares Node >= 22.22 and calls Promise.withResolvers (ES2024), which
 * Node 20 lacks (the only Node 22 API it was seen to need in these benchmarks).
 */
function shimPromiseWithResolvers(): void {
  if (typeof Reflect.get(Promise, 'withResolvers') === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      const resolvers: { resolve?: (value: unknown) => void; reject?: (reason: unknown) => void } =
        {};
      const promise = new Promise((resolve, reject) => {
        resolvers.resolve = resolve;
        resolvers.reject = reject;
      });
      return { promise, ...resolvers };
    },
  });
}

/** The confluent clients are built into bench/clients/confluent by its install.sh, on demand. */
function requireConfluentBuild(): void {
  const addon = new URL(
    'confluent/node_modules/@confluentinc/kafka-javascript/build',
    import.meta.url,
  );
  if (!existsSync(addon)) {
    throw new Error(
      '@confluentinc/kafka-javascript is not built here: run `npm run bench:clients:install-confluent` (about a minute; bench/clients/confluent/install.sh)',
    );
  }
}

async function load(client: ClientName): Promise<ClientBench> {
  if (client.startsWith('confluent')) requireConfluentBuild();
  switch (client) {
    case 'kafkajs':
      return (await import('./kafkajs-bench.ts')).bench;
    case 'platformatic':
      shimPromiseWithResolvers();
      return (await import('./platformatic-bench.ts')).bench;
    case 'confluent':
      // Built from source into bench/clients/confluent by its install.sh (not a dependency).
      return (await import('./confluent-bench.ts')).bench;
    case 'confluent-rdkafka':
      // The same package through its node-rdkafka layer instead of the KafkaJS-compatible one.
      return (await import('./confluent-rdkafka-bench.ts')).bench;
  }
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new Error(`--${name} must be one of ${allowed.join(', ')}`);
  return found;
}

function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      client: { type: 'string' },
      mode: { type: 'string' },
      topic: { type: 'string' },
      records: { type: 'string', default: '1000000' },
      brokers: { type: 'string', default: '127.0.0.1:9092' },
      batch: { type: 'string', default: '5000' },
      inflight: { type: 'string', default: '4' },
      'max-bytes': { type: 'string', default: String(50 * 2 ** 20) },
      'max-bytes-per-partition': { type: 'string', default: String(2 ** 20) },
      timeout: { type: 'string', default: '600' },
      group: { type: 'string' },
      'transaction-records': { type: 'string', default: '1000' },
      'transactional-id': { type: 'string' },
    },
    strict: true,
  });
  const client = oneOf('client', values.client, clients);
  const mode: Mode = oneOf('mode', values.mode, modes);
  if (values.topic === undefined || values.topic === '') throw new Error('--topic is required');
  const options: BenchOptions = {
    brokers: values.brokers.split(',').filter((b) => b !== ''),
    topic: values.topic,
    records: positiveInteger('records', values.records),
    batch: positiveInteger('batch', values.batch),
    inflight: positiveInteger('inflight', values.inflight),
    maxBytes: positiveInteger('max-bytes', values['max-bytes']),
    maxBytesPerPartition: positiveInteger(
      'max-bytes-per-partition',
      values['max-bytes-per-partition'],
    ),
    groupId:
      values.group ??
      `clientsdev-${client}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    transactionRecords: positiveInteger('transaction-records', values['transaction-records']),
    transactionalId:
      values['transactional-id'] ??
      `clientsdev-${client}-txn-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
  };
  const timeoutSeconds = positiveInteger('timeout', values.timeout);
  const watchdog = setTimeout(() => {
    console.error(`run.ts: ${client} ${mode} did not finish within ${timeoutSeconds} s`);
    process.exit(1);
  }, timeoutSeconds * 1000);
  watchdog.unref();

  const bench = await load(client);
  const cpuBefore = process.cpuUsage(); // after start-up and loading the client
  const measured = await (mode === 'produce-txn'
    ? bench.produceTransactional(options)
    : bench[mode](options));
  if (measured.records < options.records)
    throw new Error(`only ${measured.records} of ${options.records} records`);
  const seconds = (measured.lastAt - measured.firstAt) / 1000;
  const cpu = process.cpuUsage();
  console.error(
    `run.ts: ${client} ${mode}: ${measured.records} records, ${measured.bytes} key+value bytes`,
  );
  console.log(
    JSON.stringify({
      client,
      mode,
      records: measured.records,
      seconds: Number(seconds.toFixed(3)),
      recordsPerSecond: Math.round(measured.records / seconds),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      // From connecting the client to the end: start-up, tsx and module loading left out.
      cpuSecondsClient: Number(
        ((cpu.user + cpu.system - cpuBefore.user - cpuBefore.system) / 1e6).toFixed(2),
      ),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      version: bench.version ?? packageVersion(bench.packageName),
      // consume only: from the group assignment, so the first fetch counts too (see Measured).
      ...(measured.joinedAt === undefined
        ? {}
        : {
            secondsFromJoin: Number(((measured.lastAt - measured.joinedAt) / 1000).toFixed(3)),
            recordsPerSecondFromJoin: Math.round(
              (measured.records * 1000) / (measured.lastAt - measured.joinedAt),
            ),
          }),
    }),
  );
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(
    `run.ts: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
}
