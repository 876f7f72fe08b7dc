// read_committed probe, the layout of test/integration/aborted-transactions.test.ts: on one
// partition, transactions `first` (3 records), `second` (2), `third` (2), `first` again (2);
// then second aborted, third committed, first aborted last (as a killed task's transaction is,
// by its timeout), then a committed `last`. A correct read_committed reader sees exactly
// third-0, third-1, last-0. Each reader is a child process (kafkajs loaded raw, or through
// Tributary's src/kafka/kafkajs.ts with its corrected filter; the others as they are).
//
//   node --import tsx bench/clients/features/read-committed.ts [--client ...]
import { spawn } from 'node:child_process';

import { chosenClients, describeError, kafka, report, uniqueName, withTopic } from './common.ts';

const feature = 'read-committed-aborted';
const expected = ['third-0', 'third-1', 'last-0'];
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

const topic = uniqueName('aborted');
const wanted = chosenClients();
await withTopic(topic, 1, async () => {
  await writeLayout(topic);
  const names = readerNames.filter((r) => wanted.some((c) => r.startsWith(c)));
  for (const reader of names) {
    try {
      const seen = await runReader(reader, topic);
      const ok = JSON.stringify(seen) === JSON.stringify(expected);
      report(
        feature,
        reader,
        ok ? 'PASS' : 'FAIL',
        `read ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`,
      );
    } catch (error) {
      report(feature, reader, 'ERROR', describeError(error));
    }
  }
});
process.exit(0);
