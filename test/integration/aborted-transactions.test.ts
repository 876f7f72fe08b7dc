// read_committed through Tributary's kafkajs against the real broker (decision 0019): a
// transaction that starts first and is aborted last, interleaved with others on one partition,
// must not reach a reader. kafkajs 2.2.4's own filter delivered its records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Kafka, logLevel } from '../../src/kafka/kafkajs.ts';
import { endpoints, uniqueName } from './helpers.ts';
import { createTopics, readTopic } from './topics.ts';

describe('read_committed against the real broker', () => {
  it('skips every aborted transaction, whatever order the broker lists them in', async () => {
    const topic = uniqueName('it-aborted');
    await createTopics([{ topic, partitions: 1 }]);
    const kafka = new Kafka({
      brokers: endpoints.kafkaBrokers,
      clientId: 'it-aborted',
      logLevel: logLevel.NOTHING,
    });
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
          messages: Array.from({ length: n }, (_, i) => ({ key: prefix, value: `${prefix}-${i}` })),
        });
      // In the log: first's records, second's, third's, first's again; then second is aborted,
      // third committed, first aborted last (as a killed task's transaction is, by its timeout).
      await send(first, 'first', 3);
      await send(second, 'second', 2);
      await send(third, 'third', 2);
      await send(first, 'first-more', 2);
      await second.abort();
      await third.commit();
      await first.abort();
      // A committed transaction after the aborts, so the reader knows when it has read all.
      const last = await producers[1]?.transaction();
      if (last === undefined) throw new Error('no producer');
      await send(last, 'last', 1);
      await last.commit();

      const records = await readTopic(topic, (rs) => rs.some((r) => r.key === 'last'));
      assert.deepEqual(
        records.map((r) => r.value?.toString()),
        ['third-0', 'third-1', 'last-0'],
      );
    } finally {
      for (const p of producers) await p.disconnect();
    }
  });
});
