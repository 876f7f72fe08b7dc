import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Consumer, EachMessagePayload } from 'kafkajs';

import { createKafkaClient, partitionForKey } from '../../src/kafka/index.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';

const client = createKafkaClient({ brokers: endpoints.kafkaBrokers, clientId: 'tributary-it' });

interface Seen {
  key: string;
  value: string;
  partition: number;
  offset: bigint;
}

/** Consumes a topic from the start until `count` records arrived (or `quietMs` passed with `count` reached). */
async function consumeAll(
  topic: string,
  options: { readUncommitted: boolean; expect: number; settleMs?: number },
): Promise<Seen[]> {
  const consumer: Consumer = client.consumer({
    groupId: uniqueName('it-group'),
    readUncommitted: options.readUncommitted,
  });
  const seen: Seen[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        seen.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          partition,
          offset: BigInt(message.offset),
        });
      },
    });
    await eventually(`${options.expect} records from ${topic}`, async () =>
      seen.length >= options.expect ? true : undefined,
    );
    // Wait a little longer: anything past the expected count (an aborted record) must show up now.
    if (options.settleMs !== undefined) await new Promise((r) => setTimeout(r, options.settleMs));
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

describe('Kafka (real broker)', () => {
  const admin = client.admin();

  before(async () => {
    await admin.connect();
  });

  after(async () => {
    await admin.disconnect();
  });

  it('produces and consumes 1,000 keyed records over 3 partitions, each key on its murmur2 partition and in order', async () => {
    const topic = uniqueName('it-keyed');
    assert.equal(
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }),
      true,
    );
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0]?.partitions.length, 3);

    const producer = client.producer({ idempotent: true });
    await producer.connect();
    const messages = Array.from({ length: 1000 }, (_, i) => ({
      key: `sensor-${i % 37}`,
      value: String(i),
    }));
    // One batch per call: the producer groups the records by partition.
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();

    const seen = await consumeAll(topic, { readUncommitted: false, expect: 1000 });
    assert.equal(seen.length, 1000);
    assert.deepEqual(new Set(seen.map((r) => r.value)).size, 1000);
    const partitionsUsed = new Set(seen.map((r) => r.partition));
    assert.equal(partitionsUsed.size, 3, 'keys spread over all three partitions');
    const lastValueByKey = new Map<string, number>();
    for (const record of seen) {
      assert.equal(record.partition, partitionForKey(record.key, 3), `partition of ${record.key}`);
      const value = Number(record.value);
      const previous = lastValueByKey.get(record.key) ?? -1;
      assert.ok(value > previous, `records of ${record.key} arrive in the order they were sent`);
      lastValueByKey.set(record.key, value);
    }
  });

  it('shows a read_committed consumer only the committed transaction', async () => {
    const topic = uniqueName('it-tx');
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = client.producer({
      transactionalId: uniqueName('it-tx-producer'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const batch = (label: string) =>
      Array.from({ length: 30 }, (_, i) => ({ key: `k-${i % 5}`, value: `${label}-${i}` }));

    const committed = await producer.transaction();
    await committed.send({ topic, messages: batch('committed') });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: batch('aborted') });
    await aborted.abort();
    await producer.disconnect();

    const readCommitted = await consumeAll(topic, {
      readUncommitted: false,
      expect: 30,
      settleMs: 2000,
    });
    assert.equal(readCommitted.length, 30);
    assert.ok(readCommitted.every((r) => r.value.startsWith('committed-')));

    // The aborted records are in the log: a read_uncommitted consumer sees them.
    const readUncommitted = await consumeAll(topic, { readUncommitted: true, expect: 60 });
    assert.equal(readUncommitted.filter((r) => r.value.startsWith('aborted-')).length, 30);
  });
  // Fencing on connect is checked for every adapter by kafka-contract-transactions.test.ts.
});
