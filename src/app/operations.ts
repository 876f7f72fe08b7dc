import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import { TributaryError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { KafkaClient } from '../kafka/index.ts';
import { prepareTopics } from '../runtime/index.ts';
import type { ReplicationSetting } from '../runtime/index.ts';
import { withAppId } from '../topology/index.ts';
import type { Topology } from '../topology/index.ts';
import type { KafkaSettings, Settings } from './config.ts';
import type { WorkerOptions } from './worker.ts';

/** A worker's options from validated settings (the connectors' groups are not needed). */
export function workerOptionsFrom(
  settings: Omit<Settings, 'registry' | 'cassandra' | 'mqtt'>,
): WorkerOptions {
  const { kafka } = settings;
  return {
    brokers: kafka.brokers,
    kafkaClient: kafka.client,
    ...(kafka.sasl === undefined ? {} : { sasl: kafka.sasl }),
    ...(kafka.tls === undefined ? {} : { tls: kafka.tls }),
    ...(settings.appId === undefined ? {} : { appId: settings.appId }),
    guarantee: settings.guarantee,
    replicationFactor: settings.replicationFactor,
    commitIntervalMs: settings.commitIntervalMs,
    punctuateIntervalMs: settings.punctuateIntervalMs,
    sessionTimeoutMs: settings.sessionTimeoutMs,
    concurrency: settings.concurrency,
    maxBytesPerPartition: settings.maxBytesPerPartition,
    shutdownTimeoutMs: settings.shutdownTimeoutMs,
    ...(settings.kafkaWaitTimeoutMs === undefined
      ? {}
      : { kafkaWaitTimeoutMs: settings.kafkaWaitTimeoutMs }),
    stateDir: settings.stateDir,
    storeCacheMb: settings.storeCacheMb,
    standbyReplicas: settings.standbyReplicas,
    acceptableRecoveryLag: settings.acceptableRecoveryLag,
    maxWarmupReplicas: settings.maxWarmupReplicas,
    workerId: settings.workerId,
    logLevel: settings.logLevel,
    metrics: settings.metrics,
  };
}

/** A Kafka client for a tool (not a worker) from the Kafka settings. */
export function toolClient(kafka: KafkaSettings, clientId: string): KafkaClient {
  return createKafkaClient({
    brokers: kafka.brokers,
    clientId,
    ...(kafka.sasl === undefined ? {} : { sasl: kafka.sasl }),
    ...(kafka.tls === undefined ? {} : { tls: kafka.tls }),
  });
}

function effective(topology: Topology, appId: string | undefined): Topology {
  return appId === undefined ? topology : withAppId(topology, appId);
}

/**
 * Creates the topology's internal topics (repartition, dead-letter, changelogs) with the
 * partition counts its source topics give them, as a worker does at start; checks the source
 * topics exist and are co-partitioned. Returns every topic with its partition count.
 */
export async function createInternalTopics(
  topology: Topology,
  kafka: KafkaSettings,
  appId: string | undefined,
  logger: Logger,
  replication: ReplicationSetting = 'auto',
): Promise<Map<string, number>> {
  const { plan } = effective(topology, appId);
  const admin = toolClient(kafka, `${plan.appId}-topics`).topicAdmin();
  await admin.connect();
  try {
    return await prepareTopics(plan, admin, logger, replication);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Registers the schemas of every serde of the topology's source and sink topics (Avro serdes
 * register under their subject and check compatibility; others do nothing), as a worker does
 * at start. Returns the topics whose serdes were initialised.
 */
export async function registerTopologySchemas(topology: Topology): Promise<string[]> {
  const topics: string[] = [];
  for (const sub of topology.plan.subtopologies) {
    for (const node of sub.nodes) {
      const list =
        node.kind === 'source'
          ? node.topics.map((topic) => ({ topic, serdes: [node.key, node.value] }))
          : node.kind === 'sink'
            ? [{ topic: node.topic, serdes: [node.key, node.value] }]
            : [];
      for (const { topic, serdes } of list) {
        for (const serde of serdes) {
          if (serde.init === undefined) continue;
          await serde.init(topic);
          if (!topics.includes(topic)) topics.push(topic);
        }
      }
    }
  }
  return topics;
}

export interface ResetOptions {
  /** Where the input offsets go: the start of each partition, or the first record at a time. */
  to: 'earliest' | { timestamp: number };
}

export interface ResetReport {
  appId: string;
  /** Offsets set per input topic and partition. */
  offsets: Map<string, Map<number, bigint>>;
  deletedTopics: string[];
  stateDir: string;
}

/**
 * What Kafka Streams' application reset tool does, for one application:
 *   (1) refuse while the consumer group has live members (a running worker would commit over
 *       the reset and keep its local state);
 *   (2) move the group's offsets of the input topics to the start, or to a timestamp;
 *   (3) delete the internal topics: repartition topics and store changelogs (their committed
 *       offsets go with them); the dead-letter topic is an output for people and is kept;
 *   (4) delete this machine's local state of the application. As with Kafka Streams, state
 *       directories on other machines must be deleted there too (run reset there, or remove
 *       `<stateDir>/<appId>`): their checkpoints name offsets of the deleted changelogs.
 * Output topics are left alone, as Kafka Streams leaves them.
 */
export async function resetApplication(
  topology: Topology,
  settings: Pick<Settings, 'kafka' | 'appId' | 'stateDir'>,
  options: ResetOptions,
): Promise<ResetReport> {
  const { plan } = effective(topology, settings.appId);
  const admin = toolClient(settings.kafka, `${plan.appId}-reset`).topicAdmin();
  await admin.connect();
  try {
    // (1)
    const members = await admin.groupMembers(plan.appId);
    if (members.length > 0) {
      throw new TributaryError(
        'RESET_REFUSED',
        `consumer group ${plan.appId} has ${members.length} live member${members.length > 1 ? 's' : ''} (${members.map((m) => `${m.clientId}@${m.host}`).join(', ')}); stop every worker of the application first`,
      );
    }
    // (2)
    const counts = await admin.partitionCounts(plan.sourceTopics);
    const missing = plan.sourceTopics.filter((t) => !counts.has(t));
    if (missing.length > 0) {
      throw new TributaryError(
        'TOPIC_MISMATCH',
        `input topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of application ${plan.appId} do${missing.length > 1 ? '' : 'es'} not exist`,
      );
    }
    const offsets = new Map<string, Map<number, bigint>>();
    for (const topic of plan.sourceTopics)
      offsets.set(topic, await admin.seekGroup(plan.appId, topic, options.to));
    // (3)
    const internal = plan.internalTopics.filter((t) => t.kind !== 'dlq').map((t) => t.name);
    const deletedTopics = await admin.deleteTopics(internal);
    // (4)
    const stateDir = join(settings.stateDir, plan.appId);
    await rm(stateDir, { recursive: true, force: true });
    return { appId: plan.appId, offsets, deletedTopics, stateDir };
  } finally {
    await admin.disconnect();
  }
}
