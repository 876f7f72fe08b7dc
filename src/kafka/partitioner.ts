import type { ICustomPartitioner } from 'kafkajs';

import { TributaryError } from '../core/index.ts';
import { murmur2, toPositive } from './murmur2.ts';

/**
 * The partition of a keyed record, as the Java client's default partitioner (and Kafka
 * Streams) computes it: toPositive(murmur2(keyBytes)) % numPartitions.
 */
export function partitionForKey(key: Uint8Array | string, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new TributaryError(
      'PARTITIONER_INVALID_PARTITION_COUNT',
      `partition count must be a positive whole number, got ${numPartitions}`,
    );
  }
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return toPositive(murmur2(bytes)) % numPartitions;
}

/**
 * The partition the partitioner chose for each message it was asked about, so a send can count
 * what it wrote to each partition (written-offsets.ts) also for records without an explicit one.
 */
export const chosenPartitions = new WeakMap<object, number>();

/**
 * kafkajs partitioner: keyed records go where the Java client would put them; records without
 * a key (or with an explicit partition) keep kafkajs's behaviour.
 */
export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  let next = 0;
  return ({ partitionMetadata, message }) => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    const count = partitionMetadata.length;
    let partition: number;
    if (message.key === undefined || message.key === null) {
      // Round-robin over the partitions, as the Java client did before sticky batching.
      next = (next + 1) % count;
      partition = partitionMetadata[next]?.partitionId ?? 0;
    } else {
      partition = partitionForKey(message.key, count);
    }
    chosenPartitions.set(message, partition);
    return partition;
  };
};
