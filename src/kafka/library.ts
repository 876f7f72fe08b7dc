import { createKafkaClient } from './client.ts';
import type { ContractClient, KafkaClientOptions } from './client.ts';
import { createPlatformaticClient } from './platformatic/index.ts';

/** The client libraries a worker can run on: one adapter of the contract each. */
export const kafkaLibraries = ['kafkajs', 'platformatic'] as const;
export type KafkaLibrary = (typeof kafkaLibraries)[number];

/**
 * The library a worker runs on unless TRIBUTARY_KAFKA_CLIENT says otherwise: @platformatic/kafka
 * (decision 0001: maintained, least CPU per record, KIP-447 group metadata, manual assignment).
 * It went back to opt-in for a day (2026-12-05) over a rolling-restart test that failed on it;
 * the cause found since (commits refused with NOT_COORDINATOR were retried on the same broker,
 * then discarded their tasks and made the member rejoin) is fixed (decision 0001).
 */
export const defaultKafkaLibrary: KafkaLibrary = 'platformatic';

/**
 * The runtime's Kafka client on `library`: kafkajs (with our corrections, src/kafka/kafkajs.ts)
 * or @platformatic/kafka (src/kafka/platformatic/). Both pass the contract suite; the worker
 * sees only the contract's interfaces.
 */
export function createClient(library: KafkaLibrary, options: KafkaClientOptions): ContractClient {
  return library === 'platformatic'
    ? createPlatformaticClient(options)
    : createKafkaClient(options);
}
