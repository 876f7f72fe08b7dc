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

interface FetchedMessage {
  offset: string;
  key?: Buffer | null;
  batchContext: { producerId: string | number; inTransaction: boolean };
}

const abortMarkerKey = Buffer.from([0, 0, 0, 0]);

/**
 * kafkajs's filter of aborted transactions for read_committed, corrected. The broker lists the
 * aborted transactions of a fetch in the order their abort markers were written, not by their
 * first offset; kafkajs assumed the latter and stepped into at most one transaction per record,
 * so the records of an aborted transaction whose marker came after another's were delivered as
 * if committed. A task killed with an open transaction, aborted later by its transaction
 * timeout, then had its output counted (found by test/integration/joins-crash.test.ts, decision
 * 0019). As the Java consumer does: the aborted transactions in order of their first offset,
 * every one that starts at or before a record entered before it is judged, and a producer's
 * records skipped until its abort marker.
 */
export function filterAbortedMessages<M extends FetchedMessage>({
  messages,
  abortedTransactions,
}: {
  messages: M[];
  abortedTransactions?: { firstOffset: string; producerId: string | number }[] | null;
}): M[] {
  if (abortedTransactions === undefined || abortedTransactions === null) return messages;
  if (abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => {
    const [x, y] = [BigInt(a.firstOffset), BigInt(b.firstOffset)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const aborted = new Set<string>();
  let next = 0;
  return messages.filter((message) => {
    const offset = BigInt(message.offset);
    while (
      next < pending.length &&
      BigInt((pending[next] as { firstOffset: string }).firstOffset) <= offset
    ) {
      aborted.add(String((pending[next] as { producerId: string | number }).producerId));
      next++;
    }
    const producerId = String(message.batchContext.producerId);
    const key = message.key;
    if (key !== undefined && key !== null && Buffer.from(key).equals(abortMarkerKey)) {
      aborted.delete(producerId);
      return true;
    }
    return !(message.batchContext.inTransaction && aborted.has(producerId));
  });
}

const abortedFilterPath = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
const batchPath = require.resolve('kafkajs/src/consumer/batch.js');

/**
 * Whether consumers use the corrected filter: false only when kafkajs was loaded before this
 * module. That is a correctness fault under exactly-once, so the runtime refuses to start then.
 */
export const abortedFilterReplaced: boolean = (() => {
  if (require.cache[batchPath] !== undefined) return false;
  require(abortedFilterPath);
  const cached = require.cache[abortedFilterPath];
  if (cached === undefined) return false;
  cached.exports = filterAbortedMessages;
  return true;
})();

const kafkajs = require('kafkajs') as typeof KafkaJS;

export const { Kafka, logLevel, AssignerProtocol, ConfigResourceTypes } = kafkajs;
