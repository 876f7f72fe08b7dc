import { TributaryError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { TopicAdmin, TopicSpec } from '../kafka/index.ts';
import type { Plan } from '../topology/plan.ts';

/**
 * Dead letters carry the original record, which may be as large as the broker allows. They are
 * stamped with the time they were appended: a record keeps its (event) timestamp, which for a
 * replay of history can be older than the retention, and the broker would delete the dead
 * letter at its next retention check. The original timestamp stays in the record's headers.
 * The broker checks no timestamp range on a LogAppendTime topic (tried on Kafka 4.1: a record
 * stamped 3 days ahead is appended), so a dead letter from the future is accepted too.
 */
const dlqConfig = { 'max.message.bytes': '10485760', 'message.timestamp.type': 'LogAppendTime' };
/**
 * The broker accepts every CreateTime: Kafka 4 refuses records stamped more than
 * `message.timestamp.after.max.ms` (1 hour by default, KIP-937) ahead of its clock, and an event
 * time can lie days ahead (a device whose clock runs fast). What the topology computed must
 * reach its own topics; user output topics are checked instead (timestamp-range.ts).
 */
const anyTimestamp = {
  'message.timestamp.after.max.ms': '9223372036854775807',
  'message.timestamp.before.max.ms': '9223372036854775807',
};
/**
 * Repartition records keep their event time (the next sub-topology reads it as the record's
 * timestamp), so time-based retention would delete replayed history before it is read: no
 * retention by time, as Kafka Streams configures its repartition topics.
 */
const repartitionConfig = { 'retention.ms': '-1', ...anyTimestamp };
/** A changelog keeps the latest value per store key (a deleted entry's tombstone removes it). */
const changelogConfig = { 'cleanup.policy': 'compact', ...anyTimestamp };

/** The replication setting: a number of replicas, or 'auto' (min(3, brokers in the cluster)). */
export type ReplicationSetting = number | 'auto';

/**
 * Replicas of the internal topics and the in-sync replicas a write needs: with 3 replicas and
 * min.insync.replicas 2, an acknowledged write (acks=all) is on two brokers and one broker may
 * be down without stopping writes. A setting above the cluster's size is refused here, with the
 * setting's name, rather than by the broker's INVALID_REPLICATION_FACTOR.
 */
export function internalReplication(
  setting: ReplicationSetting,
  brokers: number,
): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = setting === 'auto' ? Math.max(1, Math.min(3, brokers)) : setting;
  if (replicationFactor > brokers) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `TRIBUTARY_REPLICATION_FACTOR is ${replicationFactor} but the Kafka cluster has ${brokers} broker${brokers === 1 ? '' : 's'}; set at most ${brokers}, or auto`,
    );
  }
  return { replicationFactor, minInsyncReplicas: Math.min(2, replicationFactor) };
}

/**
 * Before a worker joins its group:
 *   (1) every user source topic must exist;
 *   (2) repartition topics get the largest partition count of the user topics upstream of them,
 *       and are created when missing; one that exists with another count is an error;
 *   (3) the dead-letter topic and the stores' changelog topics (compacted) are created when missing;
 *   (0) what is created gets the replication of the setting ('auto': min(3, brokers now in the
 *       cluster's metadata)) and min.insync.replicas min(2, replication);
 *   (4) all source topics of a sub-topology must have the same partition count (they are
 *       co-partitioned: partition p of each goes to task <sub>_p).
 * Returns the partition count of every topic the worker reads.
 */
export async function prepareTopics(
  plan: Plan,
  admin: TopicAdmin,
  logger: Logger,
  replication: ReplicationSetting = 'auto',
): Promise<Map<string, number>> {
  const internal = plan.internalTopics.map((t) => t.name);
  const globals = plan.globalTables.map((g) => g.topic);
  const counts = await admin.partitionCounts([...plan.sourceTopics, ...globals, ...internal]);
  // (1) global tables' topics too
  const missing = [...new Set([...plan.sourceTopics, ...globals])].filter((t) => !counts.has(t));
  if (missing.length > 0) {
    const named = missing.map((t) =>
      plan.sourceTopics.includes(t) ? t : `${t} (global table ${globalStore(plan, t)})`,
    );
    throw new TributaryError(
      'TOPIC_MISMATCH',
      `source topic${missing.length > 1 ? 's' : ''} ${named.join(', ')} of application ${plan.appId} do${missing.length > 1 ? '' : 'es'} not exist; create ${missing.length > 1 ? 'them' : 'it'} first`,
    );
  }
  const toCreate: TopicSpec[] = [];
  const largest = (topics: string[]): number =>
    Math.max(1, ...topics.map((t) => counts.get(t) ?? 1));
  for (const topic of plan.internalTopics) {
    const expected = largest(topic.partitionsFrom);
    const actual = counts.get(topic.name);
    if (topic.kind === 'repartition') {
      // (2)
      if (actual !== undefined && actual !== expected) {
        throw new TributaryError(
          'TOPIC_MISMATCH',
          `repartition topic ${topic.name} has ${actual} partitions but its source topics (${topic.partitionsFrom.join(', ')}) have ${expected}; delete it (tributary reset) or restore the source topics`,
        );
      }
      if (actual === undefined)
        toCreate.push({ topic: topic.name, partitions: expected, config: repartitionConfig });
    } else if (actual === undefined) {
      // (3)
      toCreate.push({
        topic: topic.name,
        partitions: expected,
        config: topic.kind === 'dlq' ? dlqConfig : changelogConfig,
      });
    }
    counts.set(topic.name, actual ?? expected);
  }
  if (toCreate.length > 0) {
    // (0) Only when something is created: a restart while a broker is down needs no count.
    const { replicationFactor, minInsyncReplicas } = internalReplication(
      replication,
      await admin.brokerCount(),
    );
    await admin.createTopics(
      toCreate.map((t) => ({
        ...t,
        replicationFactor,
        config: { ...t.config, 'min.insync.replicas': String(minInsyncReplicas) },
      })),
    );
    logger.info(
      {
        topics: toCreate.map((t) => `${t.topic}(${t.partitions})`),
        replicationFactor,
        minInsyncReplicas,
      },
      'internal topics created',
    );
  }
  // (4)
  for (const sub of plan.subtopologies) {
    const perTopic = sub.sourceTopics.map((t) => `${t} (${counts.get(t)})`);
    if (new Set(sub.sourceTopics.map((t) => counts.get(t))).size > 1) {
      throw new TributaryError(
        'TOPIC_MISMATCH',
        `sub-topology ${sub.id} reads topics with different partition counts: ${perTopic.join(', ')}; co-partitioned topics need the same count`,
      );
    }
  }
  return counts;
}

/** The store of the global table that reads a topic (for messages). */
function globalStore(plan: Plan, topic: string): string {
  return plan.globalTables.find((g) => g.topic === topic)?.store ?? '?';
}
