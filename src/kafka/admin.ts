import type { Admin, Kafka } from 'kafkajs';

import { ConfigResourceTypes } from './kafkajs.ts';
import { kafka4TimestampLimits, timestampConfigs, timestampLimitsOf } from './timestamp-limits.ts';
import type { TimestampLimits, TopicAdmin, TopicSpec } from './types.ts';

export { kafka4TimestampLimits, timestampLimitsOf } from './timestamp-limits.ts';

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
