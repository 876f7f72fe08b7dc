import { Kafka, logLevel } from './kafkajs.ts';
import type {
  Admin,
  Consumer,
  ConsumerConfig,
  Producer,
  ProducerConfig,
  SASLOptions,
} from 'kafkajs';

import { createTopicAdmin } from './admin.ts';
import { createChangelogReader } from './changelog-reader.ts';
import { createTopicFollower } from './topic-follower.ts';
import type { TopicFollower } from './topic-follower.ts';
import { createBatchConsumer } from './consumer.ts';
import type { BatchConsumerOptions } from './consumer.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';
import { createRecordProducer } from './producer.ts';
import { createTopicReader } from './topic-reader.ts';
import { createTransactionalProducer } from './transactional-producer.ts';
import type {
  BatchConsumer,
  ChangelogReader,
  RecordProducer,
  TopicAdmin,
  TopicReader,
  TransactionalProducer,
} from './types.ts';

/** SASL authentication, passed to the client as is. */
export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** TLS to the brokers: PEM contents (not paths). */
export interface KafkaTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  sasl?: KafkaSasl;
  tls?: KafkaTls;
  /** kafkajs's own logs; silent unless asked for (our logger owns the output). */
  verbose?: boolean;
}

/** The Kafka connection of one worker or tool: the factory for its producers, consumers and admin. */
export interface KafkaClient {
  /** The runtime's interfaces. */
  batchConsumer(options: BatchConsumerOptions): BatchConsumer;
  recordProducer(): RecordProducer;
  /** One per task under exactly-once; `transactionTimeoutMs` bounds how long a zombie's transaction stays open. */
  transactionalProducer(
    transactionalId: string,
    transactionTimeoutMs: number,
  ): TransactionalProducer;
  /** Reads partitions without a consumer group (manual assignment). */
  changelogReader(): ChangelogReader;
  /** Whole topics read and followed by one worker (global tables). */
  topicFollower(groupPrefix: string): TopicFollower;
  /** For tools: a whole topic, from its start to its end when the read starts. */
  topicReader(): TopicReader;
  topicAdmin(): TopicAdmin;
  /** The raw kafkajs objects, for tools and tests. */
  producer(config?: Omit<ProducerConfig, 'createPartitioner'>): Producer;
  consumer(config: ConsumerConfig): Consumer;
  admin(): Admin;
}

/**
 * What every adapter of the contract provides (the runtime's interfaces): KafkaClient without the
 * raw kafkajs objects (`producer`, `consumer`, `admin`), which are for tools. An adapter on
 * another client library returns this; the contract suite (test/integration/kafka-contract-*)
 * sees every client only through it.
 */
export type ContractClient = Omit<KafkaClient, 'producer' | 'consumer' | 'admin'>;

function saslConfig(sasl: KafkaSasl): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: options.verbose === true ? logLevel.INFO : logLevel.NOTHING,
    ...(options.sasl === undefined ? {} : { sasl: saslConfig(options.sasl) }),
    ...(options.tls === undefined ? {} : { ssl: options.tls }),
  });
  return {
    batchConsumer: (consumerOptions) => createBatchConsumer(kafka, consumerOptions),
    recordProducer: () => createRecordProducer(kafka),
    transactionalProducer: (id, timeoutMs) => createTransactionalProducer(kafka, id, timeoutMs),
    changelogReader: () => createChangelogReader(kafka),
    topicFollower: (groupPrefix) => createTopicFollower(kafka, groupPrefix),
    topicReader: () => createTopicReader(kafka),
    topicAdmin: () => createTopicAdmin(kafka),
    // Every producer partitions keys as the Java client does, so co-partitioning holds.
    producer: (config = {}) =>
      kafka.producer({ ...config, createPartitioner: javaCompatiblePartitioner }),
    consumer: (config) => kafka.consumer(config),
    admin: () => kafka.admin(),
  };
}
