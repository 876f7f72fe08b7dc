// kafkajs, loaded once with three corrections. kafkajs 2.2.4 is the last release (decision 0001),
// so they are applied here, in place of kafkajs's own modules (or a method of one), before the
// kafkajs modules that read them load; everything of kafkajs the runtime uses at run time is
// taken from this module, with an admin that lists offsets read_uncommitted (uncommittedAdmin).
// (1) Its producer groups the records of a send by partition with `[...current, message]` for
//     every record, which copies the partition's list each time (quadratic in the records per
//     partition): 7.5% of a worker's CPU in the W2 profile of `npm run bench`. Replaced by the
//     same grouping in one pass.
// (2) Its read_committed filter let records of some aborted transactions through (decision
//     0019). Replaced by the Java consumer's rule.
// (3) Its request queue schedules its throttle check `throttledUntil - Date.now()` ms ahead, and
//     throttledUntil is -1 until a broker throttles: a negative delay, which Node runs as 1 ms
//     and Node 24 and later also warn about (TimeoutNegativeWarning, once per process, in every
//     worker's output). The delay is clamped to 1 ms: the same schedule, without the warning.
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

/**
 * Puts `replacement` in place of kafkajs's module `module` (a path inside the package), unless
 * `user`, the kafkajs module that reads it when it loads, was loaded already (by code that
 * imported kafkajs before this module): then kafkajs keeps its own, and this returns false.
 */
function replaceModule(module: string, user: string, replacement: unknown): boolean {
  if (require.cache[require.resolve(`kafkajs/src/${user}`)] !== undefined) return false;
  const path = require.resolve(`kafkajs/src/${module}`);
  require(path);
  const cached = require.cache[path];
  if (cached === undefined) return false;
  cached.exports = replacement;
  return true;
}

/**
 * Whether the producer uses the one-pass grouping: false only when kafkajs was loaded before
 * this module, which costs speed, not correctness.
 */
export const groupingReplaced: boolean = replaceModule(
  'producer/groupMessagesPerPartition.js',
  'producer/sendMessages.js',
  groupMessagesPerPartition,
);

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
    if (key !== undefined && key !== null && key.length === 4 && key.equals(abortMarkerKey)) {
      aborted.delete(producerId);
      return true;
    }
    return !(message.batchContext.inTransaction && aborted.has(producerId));
  });
}

/**
 * Whether consumers use the corrected filter: false only when kafkajs was loaded before this
 * module. That is a correctness fault under exactly-once, so the worker refuses to start then.
 */
export const abortedFilterReplaced: boolean = replaceModule(
  'consumer/filterAbortedMessages.js',
  'consumer/batch.js',
  filterAbortedMessages,
);

interface RequestQueue {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's scheduleCheckPendingRequests, with a delay of at least 1 ms (correction 3). */
function scheduleCheckPendingRequests(this: RequestQueue): void {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  // kafkajs's CHECK_PENDING_REQUESTS_INTERVAL.
  if (this.pending.length > 0 && scheduleAt <= 0) scheduleAt = 10;
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    Math.max(1, scheduleAt),
  );
}

(
  require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue }
).prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;

const kafkajs = require('kafkajs') as typeof KafkaJS;

/** What Tributary uses of kafkajs's (private) Cluster: metadata, leaders and broker connections. */
export interface KafkaCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  /** `{ [leader node id]: partitions }` for the given partitions of `topic`. */
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(where: { nodeId: string }): Promise<KafkaBroker>;
}

/** A partition of a Fetch response, as kafkajs decodes it. */
export interface FetchedPartitionData {
  partition: number;
  abortedTransactions?: { firstOffset: string; producerId: string | number }[] | null;
  messages: FetchedMessageData[];
}

/** A record of a Fetch response (every record of the record batches returned, control ones too). */
export type FetchedMessageData = KafkaJS.KafkaMessage & {
  isControlRecord?: boolean;
  batchContext: {
    firstOffset: string;
    lastOffsetDelta: number;
    producerId: string | number;
    inTransaction: boolean;
  };
};

export interface KafkaBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: {
      topic: string;
      partitions: { partition: number; fetchOffset: string; maxBytes: number }[];
    }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchedPartitionData[] }[] }>;
}

/** Kafka's isolation levels, as the protocol numbers them. */
export const isolation = { readUncommitted: 0, readCommitted: 1 } as const;

/**
 * A cluster (kafkajs's private object behind every admin, producer and consumer) of its own, with
 * the given isolation level for its ListOffsets, built the way `Kafka` builds one.
 */
export function privateCluster(
  kafka: KafkaJS.Kafka,
  isolationLevel: number,
): { cluster: KafkaCluster; instrumentationEmitter: unknown } {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  const createCluster = symbol === undefined ? undefined : (Reflect.get(kafka, symbol) as unknown);
  if (typeof createCluster !== 'function') {
    throw new Error('kafkajs changed: Kafka has no private createCluster');
  }
  const Emitter = require('kafkajs/src/instrumentation/emitter.js') as new () => unknown;
  const instrumentationEmitter = new Emitter();
  const cluster = (createCluster as (options: unknown) => KafkaCluster)({
    allowAutoTopicCreation: false,
    instrumentationEmitter,
    isolationLevel,
  });
  return { cluster, instrumentationEmitter };
}

/**
 * An admin whose ListOffsets are read_uncommitted, so `fetchTopicOffsets(topic)[].high` is the
 * high watermark. kafkajs's own admin asks read_committed (its cluster has no isolation level,
 * and ListOffsets then defaults to read_committed), which gives the last stable offset: below
 * the records of an open transaction and of one whose markers are not written yet. Built the way
 * `Kafka.admin()` builds its admin, on a cluster of isolation level read_uncommitted.
 */
export function uncommittedAdmin(kafka: KafkaJS.Kafka): KafkaJS.Admin {
  const { cluster, instrumentationEmitter } = privateCluster(kafka, isolation.readUncommitted);
  const createAdmin = require('kafkajs/src/admin/index.js') as (options: unknown) => KafkaJS.Admin;
  return createAdmin({ logger: kafka.logger(), instrumentationEmitter, cluster });
}

export const { Kafka, logLevel, AssignerProtocol, ConfigResourceTypes } = kafkajs;
