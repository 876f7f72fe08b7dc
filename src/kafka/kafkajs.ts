// kafkajs, loaded once with one correction: its producer groups the records of a send by
// partition with `[...current, message]` for every record, which copies the partition's list each
// time (quadratic in the records per partition). With thousands of records per send it was 7.5%
// of a worker's CPU in the W2 profile of `npm run bench`. kafkajs 2.2.4 is the last release
// (docs/decisions/0001), so the fix is applied here: the same grouping, in one pass. Everything of
// kafkajs the runtime uses at run time is taken from this module, so the correction is in place
// before kafkajs's producer module reads it.
import { createRequire } from 'node:module';

import type * as KafkaJS from 'kafkajs';

const require = createRequire(import.meta.url);

type Partitioner = (args: {
  topic: string;
  partitionMetadata: unknown[];
  message: unknown;
}) => number;

/** kafkajs's groupMessagesPerPartition, in one pass: `{ [partition]: messages in order }`. */
export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: Partitioner;
}): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const current = result[partition];
    if (current === undefined) result[partition] = [message];
    else current.push(message);
  }
  return result;
}

const groupingPath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const sendMessagesPath = require.resolve('kafkajs/src/producer/sendMessages.js');

/**
 * Whether the producer uses the one-pass grouping: false only when kafkajs was loaded before
 * this module (by code that imports kafkajs itself), which costs speed, not correctness.
 */
export const groupingReplaced: boolean = (() => {
  if (require.cache[sendMessagesPath] !== undefined) return false;
  require(groupingPath);
  const cached = require.cache[groupingPath];
  if (cached === undefined) return false;
  cached.exports = groupMessagesPerPartition;
  return true;
})();

const kafkajs = require('kafkajs') as typeof KafkaJS;

export const { Kafka, logLevel, AssignerProtocol, ConfigResourceTypes } = kafkajs;
