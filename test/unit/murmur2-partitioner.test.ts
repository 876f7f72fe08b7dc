import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { murmur2, partitionForKey } from '../../src/kafka/index.ts';

// Expected values computed by the Java client itself (org.apache.kafka.common.utils.Utils,
// kafka-clients 4.1.1): murmur2(bytes) and toPositive(murmur2(bytes)) % 6.
const javaVectors: [string, number, number][] = [
  ['21', -973932308, 0],
  ['foobar', -790332482, 0],
  ['a-little-bit-long-string', -985981536, 2],
  ['a-little-bit-longer-string', -1486304829, 5],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 5],
  ['abc', 479470107, 3],
  ['', 275646681, 3],
  ['sensor-42', -1400343811, 1],
  ['ünïcødé', 2147241326, 2],
];

describe('murmur2 partitioner', () => {
  for (const [key, hash, partition] of javaVectors) {
    it(`hashes ${JSON.stringify(key)} as the Java client does`, () => {
      assert.equal(murmur2(Buffer.from(key, 'utf8')), hash);
      assert.equal(partitionForKey(key, 6), partition);
    });
  }

  it('gives the same partition for a string key and its UTF-8 bytes', () => {
    assert.equal(partitionForKey('station-7', 12), partitionForKey(Buffer.from('station-7'), 12));
  });

  it('rejects a partition count that is not a positive whole number', () => {
    assert.throws(
      () => partitionForKey('k', 0),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'PARTITIONER_INVALID_PARTITION_COUNT' &&
        !error.retriable,
    );
  });
});
