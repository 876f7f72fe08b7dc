import type { TopicPartition } from './types.ts';

/** The protocol name both adapters' members announce, so they can share a group. */
export const taskAssignerName = 'TributaryTaskAssigner';

/** What one member is assigned: partitions per topic. */
export type MemberAssignment = Record<string, number[]>;

/**
 * Assigns whole tasks, not single partitions: every topic of one sub-topology (its group) with
 * the same partition number goes to the same member, so co-partitioned topics are read by one
 * task. Tasks are dealt round-robin to the members sorted by id, which balances their count.
 * The client libraries' assigners (task-assigner.ts for kafkajs, platformatic/batch-consumer.ts)
 * wrap this.
 *
 * `partitions` lists every partition of the subscribed topics; `groupOf` maps a topic to its
 * sub-topology id.
 */
export function assignTasks(
  memberIds: string[],
  partitions: TopicPartition[],
  groupOf: (topic: string) => number | undefined,
): Map<string, MemberAssignment> {
  const tasks = new Map<string, TopicPartition[]>();
  const ordered = [...partitions].sort(
    (a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) || a.partition - b.partition,
  );
  for (const tp of ordered) {
    const id = `${groupOf(tp.topic) ?? -1}_${tp.partition}`;
    tasks.set(id, [...(tasks.get(id) ?? []), tp]);
  }
  const members = [...memberIds].sort();
  const assignment = new Map<string, MemberAssignment>(members.map((id) => [id, {}]));
  const taskIds = [...tasks.keys()].sort((a, b) => {
    const [ga, pa] = a.split('_').map(Number) as [number, number];
    const [gb, pb] = b.split('_').map(Number) as [number, number];
    return pa - pb || ga - gb;
  });
  taskIds.forEach((id, i) => {
    const member = assignment.get(members[i % members.length] ?? '');
    if (member === undefined) return;
    for (const { topic, partition } of tasks.get(id) ?? []) (member[topic] ??= []).push(partition);
  });
  return assignment;
}
