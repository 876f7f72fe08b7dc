import { createKafkaClient } from './client.ts';
import type { ContractClient, KafkaClientOptions } from './client.ts';
import { createPlatformaticClient } from './platformatic/index.ts';

/** The client libraries a worker can run on: one adapter of the contract each. */
export const kafkaLibraries = ['kafkajs', 'platformatic'] as const;
export type KafkaLibrary = (typeof kafkaLibraries)[number];

/**
 * The library a worker runs on unless TRIBUTARY_KAFKA_CLIENT says otherwise: kafkajs, with our
 * corrections, for now. @platformatic/kafka (decision 0001's choice) was the default for part of
 * 2026-12-05 and went back: its rolling-restart test failed in 2 of 4 runs after the pre-join
 * step was added (decision 0001).
 */
export const defaultKafkaLibrary: KafkaLibrary = 'kafkajs';

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
