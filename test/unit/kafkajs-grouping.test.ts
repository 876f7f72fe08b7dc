import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { createKafkaClient } from '../../src/kafka/index.ts';
import { groupingReplaced, groupMessagesPerPartition } from '../../src/kafka/kafkajs.ts';

const require = createRequire(import.meta.url);

describe("kafkajs's producer grouping, in one pass", () => {
  it('groups like kafkajs: per partition, in the order sent', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 37}`, seq: i }));
    const partitioner = ({ message }: { message: unknown }): number =>
      Number((message as { key: string }).key.slice(1)) % 6;
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}],
      messages,
      partitioner,
    });
    assert.deepEqual(Object.keys(grouped), ['0', '1', '2', '3', '4', '5']);
    for (const [partition, list] of Object.entries(grouped)) {
      const expected = messages.filter((m) => partitioner({ message: m }) === Number(partition));
      assert.deepEqual(list, expected);
    }
    assert.deepEqual(
      groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner }),
      {},
    );
  });

  it('is the grouping the loaded kafkajs producer uses', () => {
    assert.equal(typeof createKafkaClient, 'function');
    assert.equal(groupingReplaced, true);
    assert.equal(
      require('kafkajs/src/producer/groupMessagesPerPartition.js'),
      groupMessagesPerPartition,
    );
  });
});
