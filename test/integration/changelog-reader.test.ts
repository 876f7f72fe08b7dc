import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Kafka, logLevel } from '../../src/kafka/kafkajs.ts';

import { createChangelogReader } from '../../src/kafka/changelog-reader.ts';
import { endpoints, uniqueName } from './helpers.ts';
import { createTopics } from './topics.ts';

describe('changelog reader (real broker)', () => {
  it('reads many partitions to their ends at once, from the beginning and from an offset, past transaction markers', async () => {
    const kafka = new Kafka({
      clientId: 'it-changelog',
      brokers: endpoints.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = uniqueName('it-changelog');
    const partitions = 6;
    await createTopics([{ topic, partitions, config: { 'cleanup.policy': 'compact' } }]);
    // Written in transactions, as exactly-once writes changelogs: each ends with a marker.
    const producer = kafka.producer({
      transactionalId: uniqueName('it-changelog-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    for (let round = 0; round < 4; round++) {
      const tx = await producer.transaction();
      for (let p = 0; p < partitions; p++) {
        await tx.send({
          topic,
          messages: Array.from({ length: 2500 }, (_, i) => ({
            key: `k${round}-${i}`,
            value: 'v',
            partition: p,
          })),
        });
      }
      if (round === 3) await tx.abort();
      else await tx.commit();
    }
    await producer.disconnect();

    const reader = createChangelogReader(kafka);
    // Twelve reads at once: six from the beginning, six from offset 2,501 (past round 0 and its marker).
    const reads = await Promise.all([
      ...Array.from({ length: partitions }, (_, p) =>
        reader.read([{ topic, partition: p, from: '0' }], async () => undefined),
      ),
      ...Array.from({ length: partitions }, (_, p) =>
        reader.read([{ topic, partition: p, from: '2501' }], async () => undefined),
      ),
    ]);
    const records = reads.map((r) => [...r.values()][0]?.records);
    assert.deepEqual(
      records,
      [...Array(partitions).fill(7500), ...Array(partitions).fill(5000)],
      'committed records only, every one',
    );
  });
});
