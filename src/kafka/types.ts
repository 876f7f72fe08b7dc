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

export interface BatchConsumerHandlers {
  /**
   * Processes one fetched batch. Batches of one partition never overlap, so per-partition order
   * holds; batches of different partitions may run concurrently. 'halt' pauses the partition
   * and leaves the batch unconsumed (the worker is stopping after a fatal error).
   */
  handleBatch(batch: FetchedBatch): Promise<'done' | 'halt'>;
  /** Called after each (re)join of the group with the partitions now owned by this member. */
  onAssignment(assigned: TopicPartition[]): Promise<void>;
  /** Called when the consumer stops for good because of an error it cannot recover from. */
  onCrash(error: Error): void;
}

/** A consumer-group member that hands over whole fetched batches. */
export interface BatchConsumer {
  start(topics: string[], handlers: BatchConsumerHandlers): Promise<void>;
  /** Commits offsets for this member's group (after the outputs they produced are acknowledged). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching, waits for the batches in flight, leaves the group and disconnects. */
  stop(): Promise<void>;
}

export interface RecordProducer {
  connect(): Promise<void>;
  /** Sends the records and resolves once every one is acknowledged by all in-sync replicas. */
  send(records: OutgoingRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  config?: Record<string, string>;
}

export interface TopicAdmin {
  connect(): Promise<void>;
  /** Partition count per topic; a topic that does not exist is absent from the map. */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /** Creates the topics that do not exist yet. */
  createTopics(topics: TopicSpec[]): Promise<void>;
  disconnect(): Promise<void>;
}
