import { Admin, ConfigResourceTypes, ListOffsetTimestamps } from '@platformatic/kafka';

import type { KafkaClientOptions } from '../client.ts';
import { kafka4TimestampLimits, timestampConfigs, timestampLimitsOf } from '../timestamp-limits.ts';
import type { TimestampLimits, TopicAdmin, TopicSpec } from '../types.ts';
import { brokerSaid } from './errors.ts';
import { listPartitionOffsets, partitionCountsOf, partitionRanges } from './offsets.ts';
import { baseOptions } from './options.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 200 ms until it is true; past `timeoutMs` throws `message()`. */
async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  message: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(await message());
    await sleep(200);
  }
}

/** The topics of `topics` that exist. */
async function existing(admin: Admin, topics: string[]): Promise<string[]> {
  if (topics.length === 0) return [];
  const all = new Set(await admin.listTopics());
  return topics.filter((t) => all.has(t));
}

/**
 * Creates one topic, unless it exists (also when another client created it meanwhile), and
 * waits until each of its partitions has a leader: the broker answers CreateTopics before.
 */
async function createTopic(admin: Admin, spec: TopicSpec): Promise<void> {
  try {
    await admin.createTopics({
      topics: [spec.topic],
      partitions: spec.partitions,
      replicas: spec.replicationFactor ?? -1,
      configs: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
    });
  } catch (error) {
    if (!brokerSaid(error, 'TOPIC_ALREADY_EXISTS')) throw error;
  }
  await waitUntil(
    async () => {
      const metadata = await admin.metadata({ topics: [spec.topic], forceUpdate: true });
      const partitions = metadata.topics.get(spec.topic)?.partitions ?? [];
      return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
    },
    30_000,
    async () => `topic ${spec.topic}: no leader for every partition after 30 s`,
  );
}

/** The timestamp limits of the topics that exist, from their effective configs. */
async function topicLimits(admin: Admin, topics: string[]): Promise<Map<string, TimestampLimits>> {
  const limits = new Map<string, TimestampLimits>();
  if (topics.length === 0) return limits;
  const described = await admin.describeConfigs({
    resources: topics.map((resourceName) => ({
      resourceType: ConfigResourceTypes.TOPIC,
      resourceName,
      configurationKeys: timestampConfigs,
    })),
  });
  for (const d of described) limits.set(d.resourceName, limitsOf(d.configs, 'topic'));
  return limits;
}

function limitsOf(
  configs: { name: string; value?: string | null | undefined }[],
  from: TimestampLimits['from'],
): TimestampLimits {
  return timestampLimitsOf(
    configs.flatMap((c) =>
      typeof c.value === 'string' ? [{ configName: c.name, configValue: c.value }] : [],
    ),
    from,
  );
}

/** The broker's limits (what an auto-created topic gets), or Kafka 4's when they cannot be read. */
async function brokerLimits(admin: Admin): Promise<TimestampLimits> {
  const metadata = await admin.metadata({ topics: [], forceUpdate: true });
  const [node] = metadata.brokers.keys();
  if (node === undefined) return kafka4TimestampLimits;
  const [described] = await admin.describeConfigs({
    resources: [
      {
        resourceType: ConfigResourceTypes.BROKER,
        resourceName: String(node),
        configurationKeys: timestampConfigs.map((c) => `log.${c}`),
      },
    ],
  });
  const configs = described?.configs ?? [];
  return configs.length > 0 ? limitsOf(configs, 'broker') : kafka4TimestampLimits;
}

/**
 * TopicAdmin on @platformatic/kafka's Admin. Offsets are listed read_uncommitted (high
 * watermarks); CreateTopics takes one config list for all its topics, so each topic is created
 * by a request of its own.
 */
export function createPlatformaticAdmin(options: KafkaClientOptions): TopicAdmin {
  const admin = new Admin(baseOptions(options));
  return {
    // The library connects on the first request: one is made here, so a wrong address or
    // password fails the connect.
    connect: async () => void (await admin.metadata({ topics: [], forceUpdate: true })),
    async partitionCounts(topics) {
      return partitionCountsOf(admin, await existing(admin, topics));
    },
    async createTopics(topics) {
      const present = new Set(
        await existing(
          admin,
          topics.map((t) => t.topic),
        ),
      );
      await Promise.all(
        topics.filter((t) => !present.has(t.topic)).map((t) => createTopic(admin, t)),
      );
    },
    async brokerCount() {
      return (await admin.metadata({ topics: [], forceUpdate: true })).brokers.size;
    },
    async committedOffsets(groupId, topic) {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const offsets = new Map<number, bigint>();
      for (const t of group?.topics ?? []) {
        if (t.name !== topic) continue;
        for (const p of t.partitions)
          if (p.committedOffset >= 0n) offsets.set(p.partitionIndex, p.committedOffset);
      }
      return offsets;
    },
    async endOffsets(topic) {
      return listPartitionOffsets(admin, topic, ListOffsetTimestamps.LATEST);
    },
    async groupMembers(groupId) {
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      return [...(group?.members.values() ?? [])].map((m) => ({
        clientId: m.clientId,
        host: m.clientHost,
      }));
    },
    async seekGroup(groupId, topic, to) {
      let offsets: Map<number, bigint>;
      if (to === 'earliest') {
        offsets = new Map([...(await partitionRanges(admin, topic))].map(([p, r]) => [p, r.start]));
      } else {
        // No record at or after the time: the partition's end, as kafkajs's admin answers.
        const [at, ends] = await Promise.all([
          listPartitionOffsets(admin, topic, BigInt(to.timestamp)),
          listPartitionOffsets(admin, topic, ListOffsetTimestamps.LATEST),
        ]);
        offsets = new Map(
          [...ends].map(([p, end]) => {
            const found = at.get(p) ?? -1n;
            return [p, found >= 0n ? found : end];
          }),
        );
      }
      await admin.alterConsumerGroupOffsets({
        groupId,
        topics: [
          {
            name: topic,
            partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset })),
          },
        ],
      });
      return offsets;
    },
    async timestampLimits(topics) {
      // describeConfigs fails as a whole on a topic that does not exist: those get the broker's.
      const limits = await topicLimits(admin, await existing(admin, topics));
      const absent = topics.filter((t) => !limits.has(t));
      if (absent.length === 0) return limits;
      const broker = await brokerLimits(admin);
      for (const topic of absent) limits.set(topic, broker);
      return limits;
    },
    async deleteTopics(topics, timeoutMs = 30_000) {
      const present = await existing(admin, topics);
      if (present.length === 0) return [];
      await admin.deleteTopics({ topics: present });
      await waitUntil(
        async () => (await existing(admin, present)).length === 0,
        timeoutMs,
        async () =>
          `topics still present after deletion: ${(await existing(admin, present)).join(', ')}`,
      );
      return present;
    },
    disconnect: () => admin.close(),
  };
}
