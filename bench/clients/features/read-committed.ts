// read_committed probe, the layout of test/integration/aborted-transactions.test.ts: on one
// partition, transactions `first` (3 records), `second` (2), `third` (2), `first` again (2);
// then second aborted, third committed, first aborted last (as a killed task's transaction is,
// by its timeout), then a committed `last`. A correct read_committed reader sees exactly
// third-0, third-1, last-0. Two more layouts: `same-producer`, one transactional producer that
// aborts two transactions, then commits `kept` (2) and `last` (1): a reader must see kept-0,
// kept-1, last-0; and `large-abort`, one aborted transaction of 20,000 records (~4 MiB, more
// than one fetch of 1 MiB per partition), then a committed `last`: a reader must see last-0
// only. Each reader is a child process (kafkajs loaded raw, or through Tributary's
// src/kafka/kafkajs.ts with its corrected filter; the others as they are), fetching at most
// 1 MiB per partition.
//
//   node --import tsx bench/clients/features/read-committed.ts [--client ...]
import { spawn } from 'node:child_process';

import { chosenClients, describeError, kafka, report, uniqueName, withTopic } from './common.ts';

const feature = 'read-committed-aborted';
const layouts: Record<string, { write: (topic: string) => Promise<void>; expected: string[] }> = {
  interleaved: { write: writeLayout, expected: ['third-0', 'third-1', 'last-0'] },
  'same-producer': { write: writeSameProducer, expected: ['kept-0', 'kept-1', 'last-0'] },
  'large-abort': { write: writeLargeAbort, expected: ['last-0'] },
};
const readerNames = ['kafkajs-raw', 'kafkajs-tributary', 'platformatic', 'confluent'];

async function writeLayout(topic: string): Promise<void> {
  const producers = ['first', 'second', 'third'].map((name) =>
    kafka.producer({
      transactionalId: `${topic}-${name}`,
      idempotent: true,
      maxInFlightRequests: 1,
    }),
  );
  for (const p of producers) await p.connect();
  try {
    const [first, second, third] = await Promise.all(producers.map((p) => p.transaction()));
    if (first === undefined || second === undefined || third === undefined)
      throw new Error('three transactions');
    const send = (t: typeof first, prefix: string, n: number) =>
      t.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, (_, i) => ({
          key: prefix,
          value: `${prefix}-${i}`,
          partition: 0,
        })),
      });
    await send(first, 'first', 3);
    await send(second, 'second', 2);
    await send(third, 'third', 2);
    await send(first, 'first-more', 2);
    await second.abort();
    await third.commit();
    await first.abort();
    const last = await producers[1]?.transaction();
    if (last === undefined) throw new Error('no producer');
    await send(last, 'last', 1);
    await last.commit();
  } finally {
    for (const p of producers) await p.disconnect();
  }
}

async function writeSameProducer(topic: string): Promise<void> {
  const producer = kafka.producer({
    transactionalId: `${topic}-one`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (const [prefix, n, commit] of [
      ['aborted-a', 3, false],
      ['aborted-b', 2, false],
      ['kept', 2, true],
      ['last', 1, true],
    ] as const) {
      const t = await producer.transaction();
      await t.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, (_, i) => ({
          key: prefix,
          value: `${prefix}-${i}`,
          partition: 0,
        })),
      });
      if (commit) await t.commit();
      else await t.abort();
    }
  } finally {
    await producer.disconnect();
  }
}

async function writeLargeAbort(topic: string): Promise<void> {
  const producer = kafka.producer({
    transactionalId: `${topic}-large`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const big = await producer.transaction();
    for (let from = 0; from < 20_000; from += 2_000)
      await big.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 2_000 }, (_, i) => ({
          key: 'big',
          value: `big-${from + i}-${'x'.repeat(200)}`,
          partition: 0,
        })),
      });
    await big.abort();
    const last = await producer.transaction();
    await last.send({
      topic,
      acks: -1,
      messages: [{ key: 'last', value: 'last-0', partition: 0 }],
    });
    await last.commit();
  } finally {
    await producer.disconnect();
  }
}

function runReader(reader: string, topic: string): Promise<string[]> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./read-committed-reader.ts', import.meta.url).pathname,
      reader,
      topic,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => proc.kill(), 60_000);
  return new Promise((resolve, reject) =>
    proc.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('['));
      if (code !== 0 || line === undefined) reject(new Error(`${reader} exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as string[]);
    }),
  );
}

const wanted = chosenClients();
const short = (v: string): string => (v.length > 16 ? `${v.slice(0, 12)}...` : v);
const summarise = (values: string[]): string =>
  values.length <= 8
    ? JSON.stringify(values)
    : `${values.length} records: ${JSON.stringify(values.slice(0, 3).map(short))} ... ${JSON.stringify(values.slice(-2).map(short))}`;
for (const [layout, { write, expected }] of Object.entries(layouts)) {
  const topic = uniqueName(`aborted-${layout}`);
  await withTopic(topic, 1, async () => {
    await write(topic);
    const names = readerNames.filter((r) => wanted.some((c) => r.startsWith(c)));
    for (const reader of names) {
      try {
        const seen = await runReader(reader, topic);
        const ok = JSON.stringify(seen) === JSON.stringify(expected);
        report(
          `${feature}/${layout}`,
          reader,
          ok ? 'PASS' : 'FAIL',
          `read ${summarise(seen)}, expected ${JSON.stringify(expected)}`,
        );
      } catch (error) {
        report(`${feature}/${layout}`, reader, 'ERROR', describeError(error));
      }
    }
  });
}
process.exit(0);
