import type { Admin, Kafka } from 'kafkajs';

import { ConfigResourceTypes } from './kafkajs.ts';
import type { TimestampLimits, TopicAdmin, TopicSpec } from './types.ts';

/** Kafka 4's defaults (KIP-937): CreateTime, at most 1 hour ahead, any time behind. */
export const kafka4TimestampLimits: TimestampLimits = {
  type: 'CreateTime',
  afterMaxMs: 3_600_000,
  beforeMaxMs: Infinity,
  from: 'default',
};

/** A config value in ms; Long.MAX_VALUE (or anything past 2^53) is unbounded. */
function millis(value: string | undefined): number | undefined {
  if (value === undefined || value === null || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= Number.MAX_SAFE_INTEGER ? Infinity : n;
}

/**
 * Timestamp limits from config entries, with or without the broker's `log.` prefix. Brokers
 * before 3.6 know only the symmetric `message.timestamp.difference.max.ms`.
 */
export function timestampLimitsOf(
  entries: { configName: string; configValue: string }[],
  from: TimestampLimits['from'],
): TimestampLimits {
  const value = (name: string): string | undefined =>
    entries.find((e) => e.configName === name || e.configName === `log.${name}`)?.configValue;
  const difference = millis(value('message.timestamp.difference.max.ms'));
  return {
    type: value('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    afterMaxMs: millis(value('message.timestamp.after.max.ms')) ?? difference ?? Infinity,
    beforeMaxMs: millis(value('message.timestamp.before.max.ms')) ?? difference ?? Infinity,
    from,
  };
}

const timestampConfigs = [
  'message.timestamp.type',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.difference.max.ms',
];

export function createTopicAdmin(kafka: Kafka): TopicAdmin {
  const admin: Admin = kafka.admin();
  return {
    connect: () => admin.connect(),
    async partitionCounts(topics: string[]) {
      const counts = new Map<string, number>();
      if (topics.length === 0) return counts;
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (present.length === 0) return counts;
      const metadata = await admin.fetchTopicMetadata({ topics: present });
      for (const topic of metadata.topics) counts.set(topic.name, topic.partitions.length);
      return counts;
    },
    async createTopics(topics: TopicSpec[]) {
      if (topics.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          ...(t.replicationFactor === undefined ? {} : { replicationFactor: t.replicationFactor }),
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    },
    async brokerCount() {
      return (await admin.describeCluster()).brokers.length;
    },
    async committedOffsets(groupId: string, topic: string) {
      const offsets = new Map<number, bigint>();
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const p of entry?.partitions ?? []) {
        if (Number(p.offset) >= 0) offsets.set(p.partition, BigInt(p.offset));
      }
      return offsets;
    },
    async endOffsets(topic: string) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
    },
    async groupMembers(groupId: string) {
      const { groups } = await admin.describeGroups([groupId]);
      return (groups[0]?.members ?? []).map((m) => ({ clientId: m.clientId, host: m.clientHost }));
    },
    async seekGroup(groupId, topic, to) {
      const partitions =
        to === 'earliest'
          ? (await admin.fetchTopicOffsets(topic)).map((p) => ({
              partition: p.partition,
              offset: p.low,
            }))
          : await admin.fetchTopicOffsetsByTimestamp(topic, to.timestamp);
      await admin.setOffsets({ groupId, topic, partitions });
      return new Map(partitions.map((p) => [p.partition, BigInt(p.offset)]));
    },
    async deleteTopics(topics, timeoutMs = 30_000) {
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (present.length === 0) return [];
      await admin.deleteTopics({ topics: present, timeout: timeoutMs });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = new Set(await admin.listTopics());
        if (!present.some((t) => left.has(t))) return present;
        if (Date.now() > deadline)
          throw new Error(
            `topics still present after deletion: ${present.filter((t) => left.has(t)).join(', ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async timestampLimits(topics: string[]) {
      const limits = new Map<string, TimestampLimits>();
      if (topics.length === 0) return limits;
      // describeConfigs fails as a whole on a topic that does not exist: those are left to the
      // broker's defaults (which an auto-created topic gets).
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (present.length > 0) {
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: present.map((name) => ({
            type: ConfigResourceTypes.TOPIC,
            name,
            configNames: timestampConfigs,
          })),
        });
        for (const r of resources)
          limits.set(r.resourceName, timestampLimitsOf(r.configEntries, 'topic'));
      }
      const absent = topics.filter((t) => !limits.has(t));
      if (absent.length === 0) return limits;
      let broker = kafka4TimestampLimits;
      const { brokers } = await admin.describeCluster();
      const node = brokers[0];
      if (node !== undefined) {
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [
            {
              type: ConfigResourceTypes.BROKER,
              name: String(node.nodeId),
              configNames: timestampConfigs.map((c) => `log.${c}`),
            },
          ],
        });
        const entries = resources[0]?.configEntries ?? [];
        if (entries.length > 0) broker = timestampLimitsOf(entries, 'broker');
      }
      for (const topic of absent) limits.set(topic, broker);
      return limits;
    },
    disconnect: () => admin.disconnect(),
  };
}
