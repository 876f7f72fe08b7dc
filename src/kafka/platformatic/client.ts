import type { ContractClient, KafkaClientOptions } from '../client.ts';
import { createPlatformaticAdmin } from './admin.ts';
import { createPlatformaticChangelogReader } from './changelog-reader.ts';
import { createPlatformaticBatchConsumer } from './batch-consumer.ts';
import { createPlatformaticRecordProducer } from './producer.ts';
import { createPlatformaticTopicFollower } from './topic-follower.ts';
import { createPlatformaticTopicReader } from './topic-reader.ts';
import { createPlatformaticTransactionalProducer } from './transactional-producer.ts';

/**
 * The Kafka client of src/kafka's contract on @platformatic/kafka (README.md in this folder):
 * every producer, consumer, reader and admin is a client of the library of its own. The group
 * prefixes of the readers are unused: they read without a consumer group.
 */
export function createPlatformaticClient(options: KafkaClientOptions): ContractClient {
  return {
    batchConsumer: (consumerOptions) => createPlatformaticBatchConsumer(options, consumerOptions),
    recordProducer: () => createPlatformaticRecordProducer(options),
    transactionalProducer: (id, timeoutMs) =>
      createPlatformaticTransactionalProducer(options, id, timeoutMs),
    changelogReader: () => createPlatformaticChangelogReader(options),
    topicFollower: () => createPlatformaticTopicFollower(options),
    topicReader: () => createPlatformaticTopicReader(options),
    topicAdmin: () => createPlatformaticAdmin(options),
  };
}
