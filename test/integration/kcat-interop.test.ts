import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { createKafkaClient, partitionForKey } from '../../src/kafka/index.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';

const client = createKafkaClient({
  brokers: endpoints.kafkaBrokers,
  clientId: 'tributary-it-kcat',
});
const partitions = 6;
const keys = Array.from({ length: 200 }, (_, i) => `station-${i}`);

/**
 * Produces `key:value` lines with kcat (librdkafka) into a new topic, using the given
 * librdkafka partitioner, and returns the partition each key landed on.
 */
async function kcatPartitions(partitioner: string): Promise<Map<string, number>> {
  const topic = uniqueName(`it-kcat-${partitioner.replaceAll('_', '-')}`);
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions }],
    waitForLeaders: true,
  });
  await admin.disconnect();

  const input = keys.map((key, i) => `${key}:${i}`).join('\n') + '\n';
  const result = spawnSync(
    'kcat',
    [
      '-b',
      endpoints.kafkaBrokers.join(','),
      '-P',
      '-t',
      topic,
      '-K',
      ':',
      '-X',
      `partitioner=${partitioner}`,
    ],
    { input, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(result.status, 0, `kcat failed: ${result.stderr}`);
  return partitionsByKey(topic);
}

/** The partition each key landed on, read back with our consumer. */
async function partitionsByKey(topic: string): Promise<Map<string, number>> {
  const consumer = client.consumer({ groupId: uniqueName('it-kcat') });
  const landed = new Map<string, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        landed.set(message.key?.toString() ?? '', partition);
      },
    });
    await eventually(`${keys.length} keys from ${topic}`, async () =>
      landed.size >= keys.length ? true : undefined,
    );
    return landed;
  } finally {
    await consumer.disconnect();
  }
}

describe('Interop with kcat (librdkafka)', () => {
  it("puts each key on the partition our producer's partitioner computes (Java murmur2)", async () => {
    const landed = await kcatPartitions('murmur2_random');
    for (const key of keys) {
      assert.equal(landed.get(key), partitionForKey(key, partitions), `partition of ${key}`);
    }
  });

  it("disagrees with kcat's default partitioner (CRC32), so the check above can fail", async () => {
    const landed = await kcatPartitions('consistent_random');
    const differing = keys.filter((key) => landed.get(key) !== partitionForKey(key, partitions));
    assert.ok(differing.length > keys.length / 2, `only ${differing.length} keys differ`);
  });
});
