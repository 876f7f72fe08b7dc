import type {
  BatchConsumer,
  ConsumerFault,
  ConsumerGroupMetadata,
  FetchedBatch,
  FetchedRecord,
  PartitionStall,
  TopicPartition,
} from '../../../src/kafka/index.ts';
import { eventually } from '../helpers.ts';
import type { ContractScope } from './scope.ts';

export type BatchResult = 'done' | 'halt' | 'skip' | 'rejoin';

export interface MemberOptions {
  groupId: string;
  topics: string[];
  /** What handleBatch answers (after the batch is recorded); 'done' when absent. */
  onBatch?: (batch: FetchedBatch, consumer: BatchConsumer) => Promise<BatchResult>;
  /** BatchConsumerOptions.stallReportMs. */
  stallReportMs?: number;
  /** BatchConsumerOptions.cooperative (the adapter's default when absent). */
  cooperative?: boolean;
}

/** A BatchConsumer group member that records what the consumer tells it. */
export interface Member {
  consumer: BatchConsumer;
  /**
   * Every batch handed to handleBatch, in call order, with what it answered (once it did), and
   * when (Date.now()) it was handed over and answered.
   */
  batches: { batch: FetchedBatch; result?: BatchResult; began: number; ended?: number }[];
  /** When (Date.now()) each onAssignment was called, in order. */
  assignedAt: number[];
  /** The partitions of the latest onAssignment, as `topic/partition`; undefined before the first. */
  owned: Set<string> | undefined;
  assignments: number;
  /** The consumer's groupMetadata() read in each onAssignment, in order. */
  groups: ConsumerGroupMetadata[];
  /** `assigned` and `batch <topic>/<partition>@<first offset>` in the order they happened. */
  events: string[];
  /** Errors of onCrash and onLost, and the faults retried: for failure messages. */
  errors: Error[];
  faults: ConsumerFault[];
  /** What onStalled reported, in order. */
  stalls: PartitionStall[];
  /** Stops the consumer (once; later calls return the same promise). */
  stop(): Promise<void>;
}

export const tpKey = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

/** The session and heartbeat of test members: short, so a rebalance takes seconds, not tens. */
const sessionTimeoutMs = 10_000;
const heartbeatIntervalMs = 500;

/** Starts a member of `groupId` on `topics` (stopped at the end of the test). */
export async function startMember(scope: ContractScope, options: MemberOptions): Promise<Member> {
  const consumer = scope.client.batchConsumer({
    groupId: options.groupId,
    groupOf: () => 0,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    concurrency: 2,
    maxBytesPerPartition: 1024 * 1024,
    ...(options.stallReportMs === undefined ? {} : { stallReportMs: options.stallReportMs }),
    ...(options.cooperative === undefined ? {} : { cooperative: options.cooperative }),
  });
  let stopping: Promise<void> | undefined;
  const member: Member = {
    consumer,
    batches: [],
    assignedAt: [],
    owned: undefined,
    assignments: 0,
    groups: [],
    events: [],
    errors: [],
    faults: [],
    stalls: [],
    stop: () => (stopping ??= consumer.stop()),
  };
  scope.defer(() => member.stop());
  await consumer.start(options.topics, {
    async handleBatch(batch) {
      const entry: Member['batches'][number] = { batch, began: Date.now() };
      member.batches.push(entry);
      member.events.push(`batch ${tpKey(batch)}@${batch.records[0]?.offset ?? 'empty'}`);
      entry.result =
        options.onBatch === undefined ? 'done' : await options.onBatch(batch, consumer);
      entry.ended = Date.now();
      return entry.result;
    },
    async onAssignment(assigned) {
      member.owned = new Set(assigned.map(tpKey));
      member.assignments++;
      member.assignedAt.push(Date.now());
      member.groups.push(consumer.groupMetadata());
      member.events.push('assigned');
    },
    onCrash: (error) => void member.errors.push(error),
    onFault: (fault) => void member.faults.push(fault),
    onStalled: (stall) => void member.stalls.push(stall),
    async onLost(error) {
      member.errors.push(error);
    },
  });
  return member;
}

/** The member's batches of `tp`, in call order. */
export function batchesOf(member: Member, tp: TopicPartition): FetchedBatch[] {
  return member.batches
    .filter(({ batch }) => batch.topic === tp.topic && batch.partition === tp.partition)
    .map(({ batch }) => batch);
}

/** The records of `tp` handed to the member, batch after batch, as handed over. */
export function deliveredOf(member: Member, tp: TopicPartition): FetchedRecord[] {
  return batchesOf(member, tp).flatMap((batch) => batch.records);
}

/** What a member did, for a failure message. */
export function describeMember(name: string, member: Member): string {
  const owned = member.owned === undefined ? 'none yet' : [...member.owned].sort().join(' ');
  const errors = [...member.errors, ...member.faults.map((f) => f.error)]
    .map((e) => (e instanceof Error ? e.message : String(e)))
    .join('; ');
  return `${name}: ${member.assignments} assignment(s), owns ${owned}, ${member.batches.length} batch(es)${errors === '' ? '' : `, errors: ${errors}`}`;
}

/**
 * Waits until the latest assignments of the members own each of `tps` exactly once between
 * them (every member has been assigned, none shares a partition, none is left without one
 * while there are enough): the group settled.
 */
export async function settledOwnership(
  members: Record<string, Member>,
  tps: TopicPartition[],
  timeoutMs = 45_000,
): Promise<void> {
  const wanted = tps.map(tpKey);
  await eventually(
    () =>
      `each of ${wanted.join(' ')} owned by exactly one member (${Object.entries(members)
        .map(([name, m]) => describeMember(name, m))
        .join(' | ')})`,
    async () => {
      const all = Object.values(members);
      if (all.some((m) => m.owned === undefined)) return undefined;
      const owners = wanted.map((tp) => all.filter((m) => m.owned?.has(tp)).length);
      const extra = all.some((m) => [...(m.owned ?? [])].some((tp) => !wanted.includes(tp)));
      // An incremental rebalance first gives a moving partition to nobody (its old owner keeps
      // it until it let it go): a member still without any is not settled yet.
      const idle = all.length <= wanted.length && all.some((m) => m.owned?.size === 0);
      return owners.every((n) => n === 1) && !extra && !idle ? true : undefined;
    },
    timeoutMs,
    100,
  );
}
