/**
 * kafka: the only importer of kafkajs. Producers, consumers and admin come from one client
 * factory; every producer uses the Java-compatible murmur2 partitioner.
 *
 * @example
 *   const client = createKafkaClient({ brokers: ['127.0.0.1:9092'], clientId: 'weather' });
 *   const producer = client.producer({ idempotent: true });
 */
export { createKafkaClient } from './client.ts';
export type { KafkaClient, KafkaClientOptions } from './client.ts';
export { murmur2, toPositive } from './murmur2.ts';
export { javaCompatiblePartitioner, partitionForKey } from './partitioner.ts';
