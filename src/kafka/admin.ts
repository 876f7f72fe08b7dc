import type { Admin, Kafka } from 'kafkajs';

import type { TopicAdmin, TopicSpec } from './types.ts';

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
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    },
    async committedOffsets(groupId: string, topic: string) {
      const offsets = new Map<number, bigint>();
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const p of entry?.partitions ?? []) {
        if (Number(p.offset) >= 0) offsets.set(p.partition, BigInt(p.offset));
      }
      return offsets;
    },
    disconnect: () => admin.disconnect(),
  };
}
