import type { TestContext } from 'node:test';

import type {
  ConsumerGroupMetadata,
  RecordProducer,
  TopicAdmin,
  TransactionalProducer,
} from '../../../src/kafka/index.ts';
import { groupOnly } from '../../../src/kafka/index.ts';
import { endpoints, uniqueName } from '../helpers.ts';
import type { ContractAdapter, ContractClient } from './adapters.ts';

/** One test's view of an adapter: its client, a connected admin, and what to clean up after it. */
export interface ContractScope {
  client: ContractClient;
  /** The client id the client was created with (group members report it). */
  clientId: string;
  admin: TopicAdmin;
  /** A topic, group or transactional id no other run uses. */
  name(prefix: string): string;
  /** Creates a topic (deleted at the end of the test) and returns its name. */
  createTopic(partitions: number, config?: Record<string, string>): Promise<string>;
  /** Adds a topic the test created by other means to those deleted at its end. */
  ownTopic(topic: string): void;
  /** Releases a resource at the end of the test (last registered, first run). */
  defer(release: () => Promise<unknown>): void;
  /** A connected RecordProducer, disconnected at the end of the test. */
  recordProducer(): Promise<RecordProducer>;
  /** A connected (so fencing) TransactionalProducer, disconnected at the end of the test. */
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
}

/** Long enough never to abort a test's open transaction by timeout while the test runs. */
const transactionTimeoutMs = 60_000;

/**
 * Opens a scope for test `t`. At the end of the test its consumers, producers and readers are
 * released, then its topics deleted (the broker is shared with other sessions and test runs),
 * then the admin disconnected.
 */
export async function contractScope(
  t: TestContext,
  adapter: ContractAdapter,
): Promise<ContractScope> {
  const clientId = `contract-${adapter.name}`;
  const client = adapter.create({ brokers: endpoints.kafkaBrokers, clientId });
  const admin = client.topicAdmin();
  await admin.connect();
  const topics: string[] = [];
  const releases: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    // A release may fail because the test left the resource broken on purpose (a fenced
    // producer, a stopped consumer): that is not the test's failure.
    for (const release of releases.reverse()) await release().catch(() => undefined);
    try {
      if (topics.length > 0) await admin.deleteTopics(topics);
    } finally {
      await admin.disconnect();
    }
  });
  return {
    client,
    clientId,
    admin,
    name: (prefix) => uniqueName(`contract-${prefix}`),
    async createTopic(partitions, config = {}) {
      const topic = uniqueName('contract');
      topics.push(topic);
      // No time retention: tests write records stamped in the past.
      await admin.createTopics([
        { topic, partitions, config: { 'retention.ms': '-1', ...config } },
      ]);
      return topic;
    },
    ownTopic: (topic) => void topics.push(topic),
    defer: (release) => void releases.push(release),
    async recordProducer() {
      const producer = client.recordProducer();
      await producer.connect();
      releases.push(() => producer.disconnect());
      return producer;
    },
    async transactionalProducer(transactionalId) {
      const producer = client.transactionalProducer(transactionalId, transactionTimeoutMs);
      await producer.connect();
      releases.push(() => producer.disconnect());
      return producer;
    },
  };
}

/** Offsets of `groupId` sent by no member (a tool's, or a test's): the broker checks no generation. */
export const outsideTheGroup = (groupId: string): ConsumerGroupMetadata => groupOnly(groupId);
