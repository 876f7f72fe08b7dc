import { AssignerProtocol } from './kafkajs.ts';
import type { PartitionAssigner } from 'kafkajs';

/**
 * Assigns whole tasks, not single partitions: every topic of one sub-topology (its group) with
 * the same partition number goes to the same member, so co-partitioned topics are read by one
 * task. Tasks are dealt round-robin to the members sorted by id, which balances their count.
 *
 * `groupOf` maps a topic to its sub-topology id.
 */
export function taskAssigner(groupOf: (topic: string) => number | undefined): PartitionAssigner {
  return ({ cluster }) => ({
    name: 'TributaryTaskAssigner',
    version: 1,
    async assign({ members, topics }) {
      const tasks = new Map<string, { topic: string; partition: number }[]>();
      for (const topic of [...topics].sort()) {
        const group = groupOf(topic) ?? -1;
        for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
          const id = `${group}_${partitionId}`;
          const list = tasks.get(id) ?? [];
          list.push({ topic, partition: partitionId });
          tasks.set(id, list);
        }
      }
      const memberIds = members.map((m) => m.memberId).sort();
      const assignment = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
      const ordered = [...tasks.keys()].sort((a, b) => {
        const [ga, pa] = a.split('_').map(Number) as [number, number];
        const [gb, pb] = b.split('_').map(Number) as [number, number];
        return pa - pb || ga - gb;
      });
      ordered.forEach((id, i) => {
        const member = assignment.get(memberIds[i % memberIds.length] ?? '');
        if (member === undefined) return;
        for (const { topic, partition } of tasks.get(id) ?? []) {
          (member[topic] ??= []).push(partition);
        }
      });
      return memberIds.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: assignment.get(memberId) ?? {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'TributaryTaskAssigner',
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}
