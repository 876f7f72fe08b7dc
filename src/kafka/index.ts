/**
 * kafka: the only importer of the Kafka clients (kafkajs here; @platformatic/kafka in
 * ./platformatic/, a second adapter of the same contract). The runtime uses the small
 * interfaces of types.ts (a batch consumer, a record producer, a topic admin); every producer
 * uses the Java-compatible murmur2 partitioner, and the group assigner keeps each task's
 * partitions together.
 *
 * @example
 *   const client = createKafkaClient({ brokers: ['127.0.0.1:9092'], clientId: 'weather-1' });
 *   const producer = client.recordProducer();
 */
export { createKafkaClient } from './client.ts';
export { createClient, defaultKafkaLibrary, kafkaLibraries } from './library.ts';
export type { KafkaLibrary } from './library.ts';
export { abortedFilterReplaced } from './kafkajs.ts';
export type {
  ContractClient,
  KafkaClient,
  KafkaClientOptions,
  KafkaSasl,
  KafkaTls,
} from './client.ts';
export {
  backoffMs,
  batchFaultAction,
  classifyKafkaError,
  crashAction,
  defaultBackoff,
  groupMembershipError,
  isTimestampRefused,
  rootCause,
} from './faults.ts';
export type { BackoffPolicy, BatchFaultAction, FaultKind } from './faults.ts';
export { crossedRebalance } from './faults.ts';
export { groupOnly } from './group-metadata.ts';
export type { BatchConsumerOptions } from './consumer.ts';
export type { MemberStandbys, ReplicaOptions, StandbyReport } from './task-assignment.ts';
export { kafka4TimestampLimits, timestampLimitsOf } from './admin.ts';
export { murmur2, toPositive } from './murmur2.ts';
export { javaCompatiblePartitioner, partitionForKey } from './partitioner.ts';
export type {
  AssignmentInfo,
  BatchConsumer,
  BatchConsumerHandlers,
  ChangelogReader,
  ConsumerFault,
  PartitionStall,
  ConsumerGroupMetadata,
  FetchedBatch,
  FetchedRecord,
  OutgoingRecord,
  RecordProducer,
  RestoreProgress,
  RestoreRequest,
  TimestampLimits,
  TopicAdmin,
  TopicPartition,
  TopicPartitionOffset,
  TopicReader,
  TopicReadSummary,
  TopicSpec,
  TransactionalProducer,
  WrittenOffsets,
} from './types.ts';
export { createTopicFollower } from './topic-follower.ts';
export type { TopicFollower } from './topic-follower.ts';
