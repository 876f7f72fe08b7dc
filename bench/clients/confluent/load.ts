// Loads @confluentinc/kafka-javascript from bench/clients/confluent/node_modules (installed by
// bench/clients/confluent/install.sh, not a project dependency), typed by the little of its
// KafkaJS-compatible API the benchmark and the feature probes use, so the project's typecheck
// does not need the package installed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const confluentPackage = '@confluentinc/kafka-javascript';

const require = createRequire(new URL('./package.json', import.meta.url));

/** A message as the KafkaJS-compatible consumer hands it over. */
export interface CkjsMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  leaderEpoch?: number;
}

export interface CkjsBatch {
  topic: string;
  partition: number;
  messages: CkjsMessage[];
}

export interface CkjsTopicPartitions {
  topic: string;
  partitions: { partition: number; offset: string }[];
}

export interface CkjsConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: (string | RegExp)[]; replace?: boolean }): Promise<void>;
  assign(assignment: { topic: string; partition: number; offset?: string }[]): void;
  assignment(): { topic: string; partition: number }[];
  run(config: {
    eachBatch?: (payload: { batch: CkjsBatch }) => Promise<void>;
    eachMessage?: (payload: {
      topic: string;
      partition: number;
      message: CkjsMessage;
    }) => Promise<void>;
    partitionsConsumedConcurrently?: number;
  }): Promise<void>;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  seek(tpo: { topic: string; partition: number; offset: string }): void;
  commitOffsets(offsets?: { topic: string; partition: number; offset: string }[]): Promise<void>;
  committed(
    tps?: { topic: string; partition: number }[],
    timeout?: number,
  ): Promise<{ topic: string; partition: number; offset: string }[]>;
  rebalanceProtocol(): string;
}

export interface CkjsProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: {
    topic: string;
    messages: {
      key?: Buffer | string | null;
      value: Buffer | string | null;
      partition?: number;
      timestamp?: string;
      headers?: Record<string, Buffer | string>;
    }[];
  }): Promise<unknown>;
  flush(args?: { timeout?: number }): Promise<void>;
  transaction(): Promise<CkjsProducer>;
  sendOffsets(args: { consumer: CkjsConsumer; topics: CkjsTopicPartitions[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface CkjsAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  createTopics(args: {
    topics: { topic: string; numPartitions?: number; replicationFactor?: number }[];
  }): Promise<boolean>;
  deleteTopics(args: { topics: string[] }): Promise<void>;
  fetchTopicOffsets(
    topic: string,
  ): Promise<{ partition: number; offset: string; high: string; low: string }[]>;
  describeGroups(groupIds: string[]): Promise<unknown>;
  listGroups(): Promise<unknown>;
}

/** Config objects: a `kafkaJS` block in KafkaJS's terms plus librdkafka properties beside it. */
export type CkjsConfig = Record<string, unknown> & { kafkaJS?: Record<string, unknown> };

export interface CkjsKafka {
  producer(config?: CkjsConfig): CkjsProducer;
  consumer(config: CkjsConfig): CkjsConsumer;
  admin(config?: CkjsConfig): CkjsAdmin;
}

export interface CkjsModule {
  KafkaJS: { Kafka: new (config: CkjsConfig) => CkjsKafka; logLevel: Record<string, number> };
  librdkafkaVersion: string;
  features: string[];
}

export function loadConfluent(): CkjsModule {
  try {
    return require(confluentPackage) as CkjsModule;
  } catch (error) {
    throw new Error(
      `${confluentPackage} is not built: run bash bench/clients/confluent/install.sh ` +
        `(${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
      { cause: error },
    );
  }
}

export function confluentVersion(): string {
  const pkg = JSON.parse(
    readFileSync(require.resolve(`${confluentPackage}/package.json`), 'utf8'),
  ) as { version: string };
  return pkg.version;
}
