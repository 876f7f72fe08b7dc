import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, ConsumerConfig, Producer, ProducerConfig } from 'kafkajs';

import { javaCompatiblePartitioner } from './partitioner.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  /** kafkajs's own logs; silent unless asked for (our logger owns the output). */
  verbose?: boolean;
}

/** The Kafka connection of one worker or tool: the factory for its producers, consumers and admin. */
export interface KafkaClient {
  producer(config?: Omit<ProducerConfig, 'createPartitioner'>): Producer;
  consumer(config: ConsumerConfig): Consumer;
  admin(): Admin;
}

export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: options.verbose === true ? logLevel.INFO : logLevel.NOTHING,
  });
  return {
    // Every producer partitions keys as the Java client does, so co-partitioning holds.
    producer: (config = {}) =>
      kafka.producer({ ...config, createPartitioner: javaCompatiblePartitioner }),
    consumer: (config) => kafka.consumer(config),
    admin: () => kafka.admin(),
  };
}
