import type { IHeaders } from 'kafkajs';

import { createKafkaClient } from '../../src/kafka/index.ts';
import type { KafkaClient, TopicSpec } from '../../src/kafka/index.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';

export const kafka = createKafkaClient({
  brokers: endpoints.kafkaBrokers,
  clientId: 'tributary-it',
});

export interface ReadRecord {
  key: string | null;
  value: Buffer | null;
  partition: number;
  offset: string;
  headers: Record<string, string>;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}

/**
 * The topic helpers on a Kafka of the caller's choice (a private cluster of a fault test); the
 * functions exported below use the local stack's broker.
 */
export function topicsOn(kafka: KafkaClient) {
  /**
   * Creates the topics. Without a retention of their own: tests write records with event times
   * of weeks ago, which the broker's 7-day time retention would delete in the middle of a test
   * (at its retention check, every 5 minutes).
   */
  async function createTopics(topics: TopicSpec[]): Promise<void> {
    const admin = kafka.topicAdmin();
    await admin.connect();
    try {
      await admin.createTopics(
        topics.map((t) => ({ ...t, config: { 'retention.ms': '-1', ...t.config } })),
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** Reads a topic from the start with a fresh group until `done` holds for what was read. */
  async function readTopic(
    topic: string,
    done: (records: ReadRecord[]) => boolean,
    timeoutMs = 90_000,
  ): Promise<ReadRecord[]> {
    const consumer = kafka.consumer({
      groupId: uniqueName('it-reader'),
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const records: ReadRecord[] = [];
    // kafkajs may deliver a message again (after a rebalance of the reader's own group): each
    // record counts once, by its position.
    const seen = new Set<string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const position = `${partition}/${message.offset}`;
          if (seen.has(position)) return;
          seen.add(position);
          records.push({
            key: message.key?.toString() ?? null,
            value: message.value,
            partition,
            offset: message.offset,
            headers: headerStrings(message.headers),
          });
        },
      });
      await eventually(
        () => `records on ${topic} (${records.length} read)`,
        async () => (done(records) ? true : undefined),
        timeoutMs,
        500,
      );
      return records;
    } finally {
      await consumer.disconnect();
    }
  }

  /** Produces keyed JSON values in batches. */
  /**
   * Produces keyed JSON values in batches of `batchSize`, with a pause between batches (so they
   * flow while a test acts). One idempotent producer with a long retry budget: a batch whose
   * leader broker is down is retried (with its sequence numbers, so never written twice) until
   * another broker leads the partition.
   */
  async function produceJson(
    topic: string,
    records: { key: string; value: unknown }[],
    batchSize = 1000,
    pauseMs = 0,
  ): Promise<void> {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 60, initialRetryTime: 300, maxRetryTime: 2000 },
    });
    await producer.connect();
    try {
      for (let i = 0; i < records.length; i += batchSize) {
        await producer.send({
          topic,
          acks: -1,
          messages: records
            .slice(i, i + batchSize)
            .map((r) => ({ key: r.key, value: JSON.stringify(r.value) })),
        });
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } finally {
      await producer.disconnect();
    }
  }

  /** Produces the records in chunks with a pause between them, so they flow while a test acts. */
  function produceSlowly(
    topic: string,
    records: { key: string; value: unknown }[],
    chunk: number,
    pauseMs: number,
  ): Promise<void> {
    return produceJson(topic, records, chunk, pauseMs);
  }

  return { createTopics, readTopic, produceJson, produceSlowly };
}

export const { createTopics, readTopic, produceJson, produceSlowly } = topicsOn(kafka);

/** The group's committed offsets of `topic`, summed over its partitions (none committed: 0). */
export async function committedTotal(groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
