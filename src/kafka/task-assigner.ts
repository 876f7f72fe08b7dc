import { AssignerProtocol } from './kafkajs.ts';
import type { PartitionAssigner } from 'kafkajs';

import {
  assignGroupTasks,
  decodeMemberData,
  encodeOwnedTasks,
  taskAssignerName,
} from './task-assignment.ts';
import type { TopicPartition } from './types.ts';

/**
 * kafkajs's assigner of whole tasks (task-assignment.ts): the partitions of the subscribed
 * topics from the cluster's metadata, dealt to the members, each keeping the tasks it announced
 * as owned where balance allows.
 *
 * `groupOf` maps a topic to its sub-topology id; `owned` gives the partitions of this member's
 * latest assignment, announced in its subscription's user data at each join.
 */
export function taskAssigner(
  groupOf: (topic: string) => number | undefined,
  owned: () => TopicPartition[] = () => [],
): PartitionAssigner {
  return ({ cluster }) => ({
    name: taskAssignerName,
    version: 1,
    async assign({ members, topics }) {
      const partitions = topics.flatMap((topic) =>
        cluster
          .findTopicPartitionMetadata(topic)
          .map(({ partitionId }) => ({ topic, partition: partitionId })),
      );
      // kafkajs's members are eager; a group may also hold cooperative members of the other
      // adapter, whose tasks are withheld from others until they give them up.
      const taskMembers = members.map((m) => ({
        id: m.memberId,
        ...decodeMemberData(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData),
      }));
      const assignment = assignGroupTasks(taskMembers, partitions, groupOf);
      return taskMembers.map(({ id }) => ({
        memberId: id,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: assignment.get(id) ?? {},
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
          userData: encodeOwnedTasks(owned(), groupOf),
        }),
      };
    },
  });
}
