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
    disconnect: () => admin.disconnect(),
  };
}
