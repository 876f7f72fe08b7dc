import { AssignerProtocol } from './kafkajs.ts';
import type { PartitionAssigner } from 'kafkajs';

import { assignTasks, taskAssignerName } from './task-assignment.ts';

/**
 * kafkajs's assigner of whole tasks (task-assignment.ts): the partitions of the subscribed
 * topics from the cluster's metadata, dealt to the members.
 *
 * `groupOf` maps a topic to its sub-topology id.
 */
export function taskAssigner(groupOf: (topic: string) => number | undefined): PartitionAssigner {
  return ({ cluster }) => ({
    name: taskAssignerName,
    version: 1,
    async assign({ members, topics }) {
      const partitions = topics.flatMap((topic) =>
        cluster
          .findTopicPartitionMetadata(topic)
          .map(({ partitionId }) => ({ topic, partition: partitionId })),
      );
      const memberIds = members.map((m) => m.memberId).sort();
      const assignment = assignTasks(memberIds, partitions, groupOf);
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
        name: taskAssignerName,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}
