// Manual assignment probe: read one partition of 1,000,000 records (~200-byte values) from
// offset 0 to its end without joining a consumer group, as a restore reads a changelog; each
// client in a child process of its own, in interleaved rounds; seconds and CPU seconds.
//
//   node --import tsx bench/clients/features/manual-assign.ts [--client ...] [--rounds 3]
//     [--records 1000000]
//
// kafkajs has no manual assignment: its figure is Tributary's workaround (a consumer in a fresh
// group subscribed to the topic, from the beginning), group join included.
// @platformatic/kafka: Consumer.fetch() (a Fetch request to a given node, offsets chosen by the
// caller, aborted transactions filtered under read_committed), in a loop.
// @confluentinc/kafka-javascript: its KafkaJS-compatible layer has no assign(); its node-rdkafka
// layer does: KafkaConsumer.assign([{ topic, partition, offset }]) and consume(n, callback).
// After each read the probe asks the broker (DescribeGroups) whether the reader's group exists.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';

import { loadConfluent } from '../confluent/load.ts';
import {
  brokers,
  chosenClients,
  describeError,
  kafka,
  load,
  report,
  uniqueName,
  withTopic,
} from './common.ts';

const feature = 'manual-assignment';
const partitionMaxBytes = 2 ** 20;
const { values } = parseArgs({
  options: {
    client: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '1000000' },
    read: { type: 'string' },
    group: { type: 'string' },
  },
  strict: true,
});
const total = Number(values.records);

interface ReadResult {
  records: number;
  seconds: number;
  cpuSeconds: number;
  how: string;
}

async function readKafkajs(topic: string, group: string): Promise<Omit<ReadResult, 'cpuSeconds'>> {
  const start = performance.now();
  const consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: partitionMaxBytes });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let records = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          records += batch.messages.length;
          if (records >= total) resolve();
        },
      })
      .catch(reject);
  });
  const seconds = (performance.now() - start) / 1000;
  await consumer.disconnect();
  return {
    records,
    seconds,
    how: 'UNSUPPORTED: no assign(); a fresh group consumer, join included',
  };
}

async function readPlatformatic(
  topic: string,
  group: string,
): Promise<Omit<ReadResult, 'cpuSeconds'>> {
  const start = performance.now();
  const consumer = new Consumer({
    clientId: 'i16cmp-probe',
    bootstrapBrokers: brokers,
    groupId: group,
  });
  const metadata = await consumer.metadata({ topics: [topic] });
  const info = metadata.topics.get(topic);
  if (info === undefined) throw new Error(`no metadata for ${topic}`);
  const leader = info.partitions[0]?.leader ?? 1;
  let offset = 0n;
  let records = 0;
  while (records < total) {
    const response = await consumer.fetch({
      node: leader,
      maxWaitTime: 500,
      maxBytes: 50 * 2 ** 20,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      topics: [
        {
          topicId: info.id,
          partitions: [
            {
              partition: 0,
              fetchOffset: offset,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes,
            },
          ],
        },
      ],
    });
    for (const t of response.responses)
      for (const p of t.partitions)
        for (const batch of p.records ?? []) {
          for (const r of batch.records) {
            if (batch.firstOffset + BigInt(r.offsetDelta) >= offset) records++;
          }
          offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        }
  }
  const seconds = (performance.now() - start) / 1000;
  await consumer.close();
  return { records, seconds, how: 'Consumer.fetch() loop from offset 0, no group join' };
}

interface RdConsumer {
  connect(options: object, cb: (error: unknown) => void): void;
  disconnect(cb: () => void): void;
  assign(assignments: { topic: string; partition: number; offset: number }[]): void;
  consume(
    n: number,
    cb: (error: unknown, messages: { offset: number; value: Buffer | null }[]) => void,
  ): void;
  setDefaultConsumeTimeout(ms: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void;
}

async function readConfluent(
  topic: string,
  group: string,
): Promise<Omit<ReadResult, 'cpuSeconds'>> {
  const module = loadConfluent() as unknown as {
    KafkaConsumer: new (
      conf: Record<string, unknown>,
      topicConf: Record<string, unknown>,
    ) => RdConsumer;
  };
  const start = performance.now();
  const consumer = new module.KafkaConsumer(
    {
      'bootstrap.servers': brokers.join(','),
      'group.id': group,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'max.partition.fetch.bytes': partitionMaxBytes,
      'fetch.max.bytes': 50 * 2 ** 20,
      // librdkafka's default of 1 s pauses fetching whenever the local queue holds
      // queued.min.messages (100,000): with it this read took 9.4 s (3 rounds, 8.9-9.5).
      'fetch.queue.backoff.ms': 10,
      ...(JSON.parse(process.env['CKJS_CONSUMER_CONFIG'] ?? '{}') as object),
    },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({}, (error) => (error ? reject(error) : resolve())),
  );
  consumer.setDefaultConsumeTimeout(500);
  // Return what has arrived once the first message is there, rather than wait for n or the timeout.
  consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.assign([{ topic, partition: 0, offset: 0 }]);
  let records = 0;
  while (records < total) {
    const batch = await new Promise<{ offset: number }[]>((resolve, reject) =>
      consumer.consume(10_000, (error, messages) => (error ? reject(error) : resolve(messages))),
    );
    records += batch.length;
  }
  const seconds = (performance.now() - start) / 1000;
  await new Promise<void>((resolve) => consumer.disconnect(resolve));
  return { records, seconds, how: 'RdKafka.KafkaConsumer.assign() + consume(10000), no subscribe' };
}

const readers = { kafkajs: readKafkajs, platformatic: readPlatformatic, confluent: readConfluent };

async function child(client: keyof typeof readers, topic: string, group: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const r = await readers[client](topic, group);
  const cpu = process.cpuUsage(cpu0);
  const result: ReadResult = { ...r, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  console.log(JSON.stringify(result));
}

function runChild(client: string, topic: string, group: string): Promise<ReadResult> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--client',
      client,
      '--read',
      topic,
      '--group',
      group,
      '--records',
      String(total),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) =>
    proc.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined)
        reject(new Error(`${client} reader exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as ReadResult);
    }),
  );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

if (values.read !== undefined) {
  const client = values.client as keyof typeof readers;
  await child(client, values.read, values.group ?? uniqueName('manual-g'));
  process.exit(0);
}

const clients = chosenClients();
const topic = uniqueName('manual');
await withTopic(topic, 1, async () => {
  await load(topic, total, 1, 0);
  const results = new Map<string, { r: ReadResult[]; groups: string[] }>();
  for (let round = 1; round <= Number(values.rounds); round++)
    for (const client of clients) {
      const group = `${topic}-${client}-r${round}`;
      const entry = results.get(client) ?? { r: [], groups: [] };
      results.set(client, entry);
      try {
        entry.r.push(await runChild(client, topic, group));
        const admin = kafka.admin();
        await admin.connect();
        const { groups } = await admin.describeGroups([group]);
        await admin.disconnect();
        entry.groups.push(`${groups[0]?.state ?? '?'}/${groups[0]?.protocolType || 'none'}`);
      } catch (error) {
        report(feature, client, 'ERROR', describeError(error));
      }
    }
  for (const [client, { r, groups }] of results) {
    if (r.length === 0) continue;
    const secs = r.map((x) => x.seconds);
    const cpu = r.map((x) => x.cpuSeconds);
    const verdict = client === 'kafkajs' ? 'UNSUPPORTED' : 'PASS';
    report(
      feature,
      client,
      verdict,
      `${r[0]?.how.replace(/^UNSUPPORTED: /, '')}; ${r[0]?.records} records of 1 partition in ${median(secs).toFixed(2)} s median ` +
        `(${Math.min(...secs).toFixed(2)}-${Math.max(...secs).toFixed(2)}, ${r.length} rounds), ` +
        `${median(cpu).toFixed(2)} CPU s (${Math.min(...cpu).toFixed(2)}-${Math.max(...cpu).toFixed(2)}), ` +
        `${Math.round(total / median(secs)).toLocaleString('en-US')} records/s; ` +
        `reader's group afterwards (state/protocol type): ${groups.join(', ')}`,
    );
  }
});
process.exit(0);
