import type { Headers } from '../core/index.ts';

// The small interfaces the runtime uses. Nothing here mentions kafkajs, so the runtime never
// sees the client library and a switch of client touches this folder only.

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to read (last processed + 1), as Kafka's decimal string. */
  offset: string;
}

/** A record as fetched: raw bytes and its offset. */
export interface FetchedRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
  offset: string;
}

/** The records fetched from one partition in one round. */
export interface FetchedBatch extends TopicPartition {
  records: FetchedRecord[];
  /** True once the partition was sought elsewhere after this batch was fetched: leave it. */
  isStale?: () => boolean;
}

/** A record to produce. Without a partition, keyed records go where Java's partitioner puts them. */
export interface OutgoingRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
  partition?: number;
}

/** What an assignment says besides the partitions. */
export interface AssignmentInfo {
  cooperative: boolean;
  /**
   * Task ids this member keeps as standbys (their stores kept current from the changelogs), and
   * among them the warm-ups, which move here once caught up. Absent: no standbys.
   */
  standby?: { standby: string[]; warmup: string[] };
}

export interface BatchConsumerHandlers {
  /**
   * Processes one fetched batch. Batches of one partition never overlap, so per-partition order
   * holds; batches of different partitions may run concurrently. 'halt' pauses the partition
   * and leaves the batch unconsumed (the worker is stopping after a fatal error); 'skip' leaves
   * the batch unconsumed without pausing (its task was closed: the partition is being revoked);
   * 'rejoin' leaves it unconsumed and rejoins the group (the worker was fenced: its tasks are
   * lost and its assignment may be stale).
   */
  handleBatch(batch: FetchedBatch): Promise<'done' | 'halt' | 'skip' | 'rejoin'>;
  /**
   * Called after each (re)join of the group with the partitions now owned by this member. With
   * `cooperative`, the partitions no longer assigned are nobody else's until this member has
   * rejoined after this call (withheld by the assignor): their tasks commit under the new
   * generation before they are closed. Without, they may already be another member's.
   */
  onAssignment(assigned: TopicPartition[], info?: AssignmentInfo): Promise<void>;
  /** Called when the consumer stops for good because of an error it cannot recover from. */
  onCrash(error: Error): void;
  /** Called before each retry of a fault that passes (faults.ts): for the log and readiness. */
  onFault(fault: ConsumerFault): void;
  /**
   * The consumer left the group (it crashed and restarts): every task is lost, since the group
   * may give its partitions to another member before this one is back.
   */
  onLost(error: Error): Promise<void>;
  /**
   * A partition of this member has not moved on for a while although it should (records past
   * its position, or a batch whose handling does not return): for the log. Called again at most
   * once a minute per partition while it lasts. Adapters that cannot tell do not call it.
   */
  onStalled?(stall: PartitionStall): void;
}

/** What a stalled partition is waiting for (BatchConsumerHandlers.onStalled). */
export interface PartitionStall extends TopicPartition {
  /** Seconds since the partition last moved on (or since its batch was handed over). */
  seconds: number;
  /** What it waits for, in words, with the fetch state behind it. */
  waiting: string;
}

/** A fault the consumer retries: what failed, the attempt (1, 2, ...) and the wait before it. */
export interface ConsumerFault {
  error: unknown;
  what: string;
  attempt: number;
  /** Absent when kafkajs times the retry itself. */
  delayMs?: number;
  /**
   * The worker rejoins the group (a fenced producer, a lost membership, a consumer restart):
   * every task is lost, and none is created before the next assignment.
   */
  rejoin: boolean;
}

/** A consumer-group member that hands over whole fetched batches. */
/**
 * A member's place in its group, as KIP-447 sends it with a transaction's offsets: the broker
 * refuses offsets sent under a generation the group has moved past (a zombie's, or a commit that
 * crossed a rebalance), so a task that lost its partition cannot commit for it.
 */
export interface ConsumerGroupMetadata {
  groupId: string;
  /** -1 where the client does not know it (then the broker checks nothing). */
  generationId: number;
  /** '' where the client does not know it. */
  memberId: string;
}

export interface BatchConsumer {
  start(topics: string[], handlers: BatchConsumerHandlers): Promise<void>;
  /**
   * The member's place in the group when the latest assignment was handed to onAssignment (so,
   * read inside onAssignment, the generation of that assignment).
   */
  groupMetadata(): ConsumerGroupMetadata;
  /**
   * True while this member rebalances incrementally: from its JoinGroup to the assignment
   * handed over, its tasks still running. An exactly-once task holds its transaction's commit
   * meanwhile (commit.ts). Eager members and adapters that do not tell leave it out or say false.
   */
  rebalancing?(): boolean;
  /** Commits offsets for this member's group (after the outputs they produced are acknowledged). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching, waits for the batches in flight, leaves the group and disconnects. */
  stop(): Promise<void>;
  /** Fetches `tp` from `offset` next (batches fetched before are stale and not delivered). */
  seek(tp: TopicPartition, offset: bigint): void;
  /**
   * Rejoins the group without stopping anything (a probing rebalance), so the assignor sees what
   * this member now reports: a warm-up caught up. Adapters without replicas leave it out.
   */
  probe?(): void;
}

/** For each `topic/partition` written, the offset after the last record written there. */
export type WrittenOffsets = Map<string, bigint>;

export interface RecordProducer {
  connect(): Promise<void>;
  /** Sends the records and resolves once every one is acknowledged by all in-sync replicas. */
  send(records: OutgoingRecord[]): Promise<WrittenOffsets>;
  disconnect(): Promise<void>;
}

/**
 * One task's transactional producer. `connect` registers its transactional id with the
 * coordinator, which fences (and aborts the open transaction of) any older producer with the
 * same id: a zombie task can no longer write.
 */
export interface TransactionalProducer {
  /** Connects and fences older producers of the same transactional id (their open transaction is completed first). */
  connect(): Promise<void>;
  /** Opens a transaction if none is open. */
  begin(): Promise<void>;
  readonly inTransaction: boolean;
  send(records: OutgoingRecord[]): Promise<WrittenOffsets>;
  /**
   * Adds consumer offsets of the group to the open transaction, with the member's group metadata
   * where the client sends it (`fencesStaleGenerations`).
   */
  sendOffsets(group: ConsumerGroupMetadata, offsets: TopicPartitionOffset[]): Promise<void>;
  /**
   * Whether the broker refuses this producer's offsets sent under a past generation (KIP-447:
   * the client sends the generation and member id). Without it (kafkajs) a zombie's offsets are
   * refused only once its transactional id is fenced, and a new owner re-reads the committed
   * offsets after fencing (task-registry.ts).
   */
  readonly fencesStaleGenerations: boolean;
  commit(): Promise<void>;
  abort(): Promise<void>;
  disconnect(): Promise<void>;
}

/** A position to restore from: read `topic`/`partition` from `from` to its current end. */
export interface RestoreRequest extends TopicPartition {
  from: string;
  /** Read only below this offset (a table restored from its source topic: the committed offset). */
  to?: string;
}

/** What a restore read of one partition: how many records, and the offset it reached. */
export interface RestoreProgress {
  records: number;
  position: bigint;
}

/** Reads changelog partitions (read_committed) from given offsets to their end. */
export interface ChangelogReader {
  /** Returns the progress per `topic/partition`. */
  read(
    requests: RestoreRequest[],
    onRecords: (tp: TopicPartition, records: FetchedRecord[]) => Promise<void>,
  ): Promise<Map<string, RestoreProgress>>;
  /**
   * Per `topic/partition`: the log-start offset and the high watermark (ListOffsets earliest
   * and latest, read_uncommitted), to check a checkpoint against before restoring from it.
   */
  offsetRanges(tps: TopicPartition[]): Promise<Map<string, { start: bigint; end: bigint }>>;
}

/** What a whole-topic read saw: the topic's partitions and the records handed over. */
export interface TopicReadSummary {
  partitions: number;
  records: number;
}

/** Reads a whole topic (read_committed) from its start to the end offsets taken at the start. */
export interface TopicReader {
  /** Batches of one partition arrive in offset order; `onRecords` is awaited before the next. */
  read(
    topic: string,
    onRecords: (partition: number, records: FetchedRecord[]) => Promise<void>,
  ): Promise<TopicReadSummary>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Replicas of each partition; absent: the broker's default.replication.factor. */
  replicationFactor?: number;
  config?: Record<string, string>;
}

/**
 * The timestamps a topic accepts (Kafka's `message.timestamp.*` topic configs): under
 * CreateTime, a record stamped more than `afterMaxMs` ahead of the broker's clock or more than
 * `beforeMaxMs` behind it is refused (INVALID_TIMESTAMP); under LogAppendTime nothing is checked.
 * Unbounded is Infinity.
 */
export interface TimestampLimits {
  type: 'CreateTime' | 'LogAppendTime';
  afterMaxMs: number;
  beforeMaxMs: number;
  /** Where the values come from: the topic's effective config, the broker's, or Kafka 4's defaults. */
  from: 'topic' | 'broker' | 'default';
}

export interface TopicAdmin {
  connect(): Promise<void>;
  /** Partition count per topic; a topic that does not exist is absent from the map. */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /** Creates the topics that do not exist yet. */
  createTopics(topics: TopicSpec[]): Promise<void>;
  /** How many brokers the cluster has (its metadata's broker list). */
  brokerCount(): Promise<number>;
  /** The group's committed offset per partition of a topic (partitions without one are absent). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** The end offset (offset of the next record) of each partition of a topic. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  /** The live members of a consumer group (client id and host of each). */
  groupMembers(groupId: string): Promise<{ clientId: string; host: string }[]>;
  /**
   * Moves a group's committed offsets of a topic to the start of each partition, or to the first
   * record at or after a timestamp (the end where there is none). The group must have no live
   * member. Returns the offsets set.
   */
  seekGroup(
    groupId: string,
    topic: string,
    to: 'earliest' | { timestamp: number },
  ): Promise<Map<number, bigint>>;
  /**
   * The timestamp limits of each topic: its effective config if it exists, else the broker's
   * (what an auto-created topic gets), else Kafka 4's defaults when the configs cannot be read.
   */
  timestampLimits(topics: string[]): Promise<Map<string, TimestampLimits>>;
  /** Deletes the topics that exist and waits until they are gone; returns those deleted. */
  deleteTopics(topics: string[], timeoutMs?: number): Promise<string[]>;
  disconnect(): Promise<void>;
}
