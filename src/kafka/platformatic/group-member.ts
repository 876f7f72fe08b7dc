import {
  Consumer,
  decodeConsumerProtocolAssignment,
  encodeConsumerProtocolAssignment,
  FetchIsolationLevels,
  ListOffsetTimestamps,
} from '@platformatic/kafka';
import type {
  GroupAssignment,
  GroupPartitionsAssigner,
  offsetCommitV9,
  offsetFetchV9,
} from '@platformatic/kafka';

import { setTimeout as sleep } from 'node:timers/promises';

import type { KafkaClientOptions } from '../client.ts';
import { backoffMs, classifyKafkaError } from '../faults.ts';
import type { BatchConsumerOptions } from '../consumer.ts';
import {
  assignGroupTasks,
  assignWithReplicas,
  decodeMemberData,
  decodeStandbys,
  encodeOwnedTasks,
  encodeStandbys,
  taskAssignerName,
} from '../task-assignment.ts';
import type { MemberStandbys, ReplicaOptions } from '../task-assignment.ts';
import type { ConsumerGroupMetadata, TopicPartition, TopicPartitionOffset } from '../types.ts';
import { guardMetadata, overrideApi } from './api-lookup.ts';
import { coordinators } from './coordinator.ts';
import { brokerSaid } from './errors.ts';
import { commitRequestTopics } from './offsets.ts';
import { baseOptions } from './options.ts';

/**
 * How long a commit whose failure passes (the coordinator loading or moving, a connection lost)
 * is retried: a coordinator moves when its broker restarts, which takes seconds; a commit given
 * up discards its task, whose batches are then handled again (duplicates under at-least-once).
 */
const commitRetryMs = 15_000;
/** The longest wait between two attempts of a commit or of a start-offset fetch. */
const retryCapMs = 1_000;

/**
 * How long a start-offset fetch waits for the open transactions holding offsets of its
 * partitions to complete: longer than a task's transaction timeout (60 s by default), after
 * which the coordinator aborts a zombie's transaction itself.
 */
const stableWaitMs = 120_000;
const stablePollMs = 50;

/** kafkajs's default: how long the group waits for every member to rejoin in a rebalance. */
const rebalanceTimeoutMs = 60_000;

/**
 * The library's assigner of whole tasks (task-assignment.ts), each member keeping the tasks its
 * subscription's user data says it owns where balance allows.
 */
function platformaticTaskAssigner(
  groupOf: (topic: string) => number | undefined,
  replicas: ReplicaOptions | undefined,
  standbysMade: (standby: Map<string, MemberStandbys>) => void,
): GroupPartitionsAssigner {
  return (_current, members, topics, metadata) => {
    const partitions = [...topics].flatMap((topic) =>
      Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, partition) => ({
        topic,
        partition,
      })),
    );
    const taskMembers = [...members].map(([id, subscription]) => ({
      id,
      ...decodeMemberData(subscription.metadata),
    }));
    let assignment;
    if (replicas === undefined) assignment = assignGroupTasks(taskMembers, partitions, groupOf);
    else {
      const replicated = assignWithReplicas(taskMembers, partitions, groupOf, replicas);
      assignment = replicated.active;
      standbysMade(replicated.standby);
    }
    return [...assignment].map(([memberId, byTopic]) => ({
      memberId,
      assignments: new Map(
        Object.entries(byTopic).map(([topic, list]) => [topic, { topic, partitions: list }]),
      ),
    }));
  };
}

/**
 * Carries each member's standby tasks through SyncGroup, in the user data of its assignment
 * (ConsumerProtocolAssignment's `userData`, JSON `{"standby": [...], "warmup": [...]}`): the
 * library sends one user data for every member and drops the one it receives, so the request's
 * assignments are encoded again with each member's own (`pending`, what the assignor made for
 * this generation) and the response's is read before the library decodes it (`received`).
 */
function carryStandbys(
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  pending: () => Map<string, MemberStandbys>,
  received: (standby: MemberStandbys) => void,
): void {
  overrideApi(consumer, 'SyncGroup', (sync) =>
    Object.assign((...args: unknown[]): void => {
      const at = args.length - 2;
      const assignments = args[at] as { memberId: string; assignment: Buffer }[] | undefined;
      const standbys = pending();
      if (Array.isArray(assignments))
        args[at] = assignments.map(({ memberId, assignment }) => {
          const mine = standbys.get(memberId);
          if (mine === undefined || mine.standby.length === 0) return { memberId, assignment };
          const decoded = decodeConsumerProtocolAssignment(assignment);
          return {
            memberId,
            assignment: encodeConsumerProtocolAssignment({
              ...decoded,
              userData: encodeStandbys(mine),
            }),
          };
        });
      const callback = args[args.length - 1] as (
        error: unknown,
        response?: { assignment?: Buffer },
      ) => void;
      sync(...args.slice(0, -1), (error: unknown, response?: { assignment?: Buffer }) => {
        if (error == null && response?.assignment !== undefined) {
          // Made for this generation only: a group left with one member is assigned by the
          // library without the assignor, and must not be sent these again.
          if (standbys.size > 0) standbys.clear();
          received(assignedStandbys(response.assignment));
        }
        callback(error, response);
      });
    }, sync),
  );
}

/** The standby tasks an encoded assignment's user data names (none if it names nothing readable). */
export function assignedStandbys(assignment: Buffer): MemberStandbys {
  try {
    return decodeStandbys(decodeConsumerProtocolAssignment(assignment).userData);
  } catch {
    return { standby: [], warmup: [] };
  }
}

/** The group membership of a BatchConsumer: the library's Consumer, its fetching unused. */
export interface GroupMember {
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  /** The standby tasks of the latest assignment received (none without replicas). */
  standbys(): MemberStandbys;
  /** Joins (or rejoins) the group with the subscription of `topics`. */
  join(): Promise<void>;
  /** Where each partition starts, by `topic/partition`: its committed offset, or its log start if it has none. */
  startOffsets(tps: TopicPartition[]): Promise<Map<string, bigint>>;
  /** The log start and the high watermark of each partition, by `topic/partition`. */
  ranges(tps: TopicPartition[]): Promise<Map<string, { start: bigint; end: bigint }>>;
  /** Closes the library's consumer and our coordinator lookups (after leaving the group). */
  close(): Promise<void>;
  /**
   * Commits offsets under `group`'s generation and member id: that of the assignment the batch
   * was handled under (batch-consumer.ts). Refused (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
   * REBALANCE_IN_PROGRESS) once the group has moved past it: the library's own commit would
   * rejoin and commit again under the next generation, for partitions the member may have lost
   * meanwhile.
   */
  commit(offsets: TopicPartitionOffset[], group: ConsumerGroupMetadata): Promise<void>;
}

/**
 * Makes every JoinGroup the library sends wait for `beforeJoin` first: the eager protocol's
 * step before a member rejoins, where the Java consumer calls onPartitionsRevoked, and which the
 * library does not offer (README). While the group prepares a rebalance it still accepts
 * commits under the current generation, so the batches in flight commit there instead of being
 * refused after the new generation and handled again by their partitions' new owners. The
 * library looks the API up by name before each JoinGroup (`kGetApi`), which is where the wait
 * goes in; a failing `beforeJoin` does not stop the join.
 */
function awaitBeforeJoin(
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  beforeJoin: () => Promise<void>,
): void {
  overrideApi(consumer, 'JoinGroup', (join) =>
    Object.assign(
      (...args: unknown[]): void =>
        void beforeJoin()
          .catch(() => undefined)
          .then(() => join(...args)),
      join,
    ),
  );
}

/** Partition numbers per topic. */
function byTopic(tps: TopicPartition[]): Record<string, number[]> {
  const partitions: Record<string, number[]> = {};
  for (const { topic, partition } of tps) (partitions[topic] ??= []).push(partition);
  return partitions;
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
  beforeJoin: () => Promise<void>,
  owned: () => TopicPartition[] = () => [],
): GroupMember {
  const replicas = consumerOptions.replicas;
  /** What the assignor made for the generation it assigned (this member the leader). */
  let made = new Map<string, MemberStandbys>();
  /** What the latest SyncGroup response gave this member. */
  let mine: MemberStandbys = { standby: [], warmup: [] };
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...baseOptions(options),
    groupId: consumerOptions.groupId,
    autocommit: false,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    sessionTimeout: consumerOptions.sessionTimeoutMs,
    heartbeatInterval: consumerOptions.heartbeatIntervalMs,
    rebalanceTimeout: rebalanceTimeoutMs,
    // No heartbeat answered for a session: the group has dropped this member (batch-consumer.ts
    // treats the library's 'stalled' event as a lost membership).
    heartbeatStallTimeout: consumerOptions.sessionTimeoutMs,
    protocols: [{ name: taskAssignerName, version: 1 }],
    // Each join announces the tasks this member owns (its latest assignment), for stickiness.
    protocolsMetadata: () =>
      encodeOwnedTasks(
        owned(),
        consumerOptions.groupOf,
        consumerOptions.cooperative !== false,
        replicas?.report(),
      ),
    partitionAssigner: platformaticTaskAssigner(consumerOptions.groupOf, replicas, (standby) => {
      made = standby;
    }),
  });
  if (replicas !== undefined)
    carryStandbys(
      consumer,
      () => made,
      (standby) => {
        mine = standby;
      },
    );
  consumer.topics.trackAll(...topics);
  awaitBeforeJoin(consumer, beforeJoin);
  guardMetadata(consumer);
  /** ListOffsets (read_uncommitted) of the partitions at `timestamp`, by `topic/partition`. */
  const listed = async (timestamp: bigint, tps: TopicPartition[]): Promise<Map<string, bigint>> => {
    const partitions = byTopic(tps);
    const offsets = await consumer.listOffsets({
      topics: Object.keys(partitions),
      partitions,
      timestamp,
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
    });
    return new Map(
      tps.map(({ topic, partition }) => [
        `${topic}/${partition}`,
        offsets.get(topic)?.[partition] ?? 0n,
      ]),
    );
  };
  const coordinator = coordinators(options, consumer);
  const onCoordinator = <Api>(name: string) => coordinator.on<Api>(consumer.groupId, name);
  /**
   * The group's committed offsets (-1 where none) with require_stable (KIP-447): while a
   * transaction holding offsets of these partitions is still open, the coordinator answers
   * UNSTABLE_OFFSET_COMMIT and the fetch is asked again, so a new owner starts after what the
   * old owner's last transaction commits, never before it (the library's own fetch does not
   * ask for stable offsets). Waits at most `stableWaitMs`, then throws.
   */
  const stableCommitted = async (tps: TopicPartition[]): Promise<Map<string, bigint>> => {
    const topics = Object.entries(byTopic(tps)).map(([name, partitionIndexes]) => ({
      name,
      partitionIndexes,
    }));
    const group = { groupId: consumer.groupId, memberId: null, memberEpoch: -1, topics };
    const deadline = Date.now() + stableWaitMs;
    for (;;) {
      try {
        const { connection, api } = await onCoordinator<typeof offsetFetchV9.api>('OffsetFetch');
        if (api.version < 8)
          throw new Error(`the broker answers OffsetFetch v${api.version}; KIP-447 needs v8`);
        const response = await api.async(connection, [group], true);
        const committed = new Map<string, bigint>();
        for (const g of response.groups)
          for (const t of g.topics)
            for (const p of t.partitions)
              committed.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
        return committed;
      } catch (error) {
        const moved = coordinator.forgetIfMoved(consumer.groupId, error);
        if (!(moved || brokerSaid(error, 'UNSTABLE_OFFSET_COMMIT')) || Date.now() > deadline)
          throw error;
        await sleep(moved ? retryCapMs : stablePollMs);
      }
    }
  };
  /** One OffsetCommit to the group coordinator, under `group`'s generation. */
  const commitOnce = async (
    offsets: TopicPartitionOffset[],
    group: ConsumerGroupMetadata,
  ): Promise<void> => {
    const { connection, api } = await onCoordinator<typeof offsetCommitV9.api>('OffsetCommit');
    await api.async(
      connection,
      consumer.groupId,
      group.generationId,
      group.memberId,
      null,
      commitRequestTopics(offsets),
    );
  };
  return {
    consumer,
    standbys: () => mine,
    join: async () => void (await consumer.joinGroup({})),
    async startOffsets(tps) {
      const [committed, starts] = await Promise.all([
        stableCommitted(tps),
        listed(ListOffsetTimestamps.EARLIEST, tps),
      ]);
      return new Map(
        tps.map(({ topic, partition }) => {
          const key = `${topic}/${partition}`;
          const done = committed.get(key) ?? -1n;
          return [key, done >= 0n ? done : (starts.get(key) ?? 0n)];
        }),
      );
    },
    async commit(offsets, group) {
      // A fault that passes (the coordinator loading or moving, a connection lost) is retried
      // for `commitRetryMs`, the coordinator found again after it moved; a lost membership
      // never is.
      const deadline = Date.now() + commitRetryMs;
      for (let attempt = 1; ; attempt++) {
        try {
          return await commitOnce(offsets, group);
        } catch (error) {
          // NOT_COORDINATOR counts as membership in faults.ts (kafkajs rejoins on it); here the
          // coordinator is only found again.
          const moved = coordinator.forgetIfMoved(consumer.groupId, error);
          if (Date.now() > deadline || !(moved || classifyKafkaError(error) === 'retriable'))
            throw error;
          await sleep(backoffMs(attempt, Math.random(), { initialMs: 100, maxMs: retryCapMs }));
        }
      }
    },
    async ranges(tps) {
      const [starts, ends] = await Promise.all([
        listed(ListOffsetTimestamps.EARLIEST, tps),
        listed(ListOffsetTimestamps.LATEST, tps),
      ]);
      return new Map([...ends].map(([key, end]) => [key, { start: starts.get(key) ?? 0n, end }]));
    },
    async close() {
      await consumer.close(true);
      await coordinator.close();
    },
  };
}
