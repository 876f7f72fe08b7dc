import { Consumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import type { GroupAssignment, GroupPartitionsAssigner } from '@platformatic/kafka';

import type { KafkaClientOptions } from '../client.ts';
import type { BatchConsumerOptions } from '../consumer.ts';
import { assignTasks, taskAssignerName } from '../task-assignment.ts';
import type { TopicPartition } from '../types.ts';
import { baseOptions } from './options.ts';

/** kafkajs's default: how long the group waits for every member to rejoin in a rebalance. */
const rebalanceTimeoutMs = 60_000;

/** The library's assigner of whole tasks (task-assignment.ts). */
function platformaticTaskAssigner(
  groupOf: (topic: string) => number | undefined,
): GroupPartitionsAssigner {
  return (_current, members, topics, metadata) => {
    const partitions = [...topics].flatMap((topic) =>
      Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, partition) => ({
        topic,
        partition,
      })),
    );
    const assignment = assignTasks([...members.keys()], partitions, groupOf);
    return [...assignment].map(([memberId, byTopic]) => ({
      memberId,
      assignments: new Map(
        Object.entries(byTopic).map(([topic, list]) => [topic, { topic, partitions: list }]),
      ),
    }));
  };
}

/** The group membership of a BatchConsumer: the library's Consumer, its fetching unused. */
export interface GroupMember {
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  /** Joins (or rejoins) the group with the subscription of `topics`. */
  join(): Promise<void>;
  /** Where each partition starts: its committed offset, or its log start if it has none. */
  startOffsets(tps: TopicPartition[]): Promise<Map<string, bigint>>;
}

export const assignedPartitions = (assignments: GroupAssignment[] | undefined): TopicPartition[] =>
  (assignments ?? []).flatMap(({ topic, partitions }) =>
    partitions.map((partition) => ({ topic, partition })),
  );

/**
 * A member of the consumer group (the classic protocol, eager rebalances): the library joins,
 * syncs and heartbeats in the background, and rejoins by itself when a heartbeat or a commit
 * finds a rebalance; the assignment is our task assigner's, under the protocol name the kafkajs
 * adapter's members announce too.
 */
export function createGroupMember(
  options: KafkaClientOptions,
  consumerOptions: BatchConsumerOptions,
  topics: string[],
): GroupMember {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...baseOptions(options),
    groupId: consumerOptions.groupId,
    autocommit: false,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    sessionTimeout: consumerOptions.sessionTimeoutMs,
    heartbeatInterval: consumerOptions.heartbeatIntervalMs,
    rebalanceTimeout: rebalanceTimeoutMs,
    protocols: [{ name: taskAssignerName, version: 1 }],
    partitionAssigner: platformaticTaskAssigner(consumerOptions.groupOf),
  });
  consumer.topics.trackAll(...topics);
  return {
    consumer,
    join: async () => void (await consumer.joinGroup({})),
    async startOffsets(tps) {
      const partitions: Record<string, number[]> = {};
      for (const { topic, partition } of tps) (partitions[topic] ??= []).push(partition);
      const asked = Object.entries(partitions).map(([topic, list]) => ({
        topic,
        partitions: list,
      }));
      const [committed, earliest] = await Promise.all([
        consumer.listCommittedOffsets({ topics: asked }),
        consumer.listOffsets({
          topics: Object.keys(partitions),
          partitions,
          timestamp: ListOffsetTimestamps.EARLIEST,
        }),
      ]);
      const starts = new Map<string, bigint>();
      for (const { topic, partition } of tps) {
        const done = committed.get(topic)?.[partition] ?? -1n;
        starts.set(
          `${topic}/${partition}`,
          done >= 0n ? done : (earliest.get(topic)?.[partition] ?? 0n),
        );
      }
      return starts;
    },
  };
}
