import type { TopicPartition } from './types.ts';

/** The protocol name both adapters' members announce, so they can share a group. */
export const taskAssignerName = 'TributaryTaskAssigner';

/** What one member is assigned: partitions per topic. */
export type MemberAssignment = Record<string, number[]>;

/** A member of the group as the assigner sees it: its id, and the tasks it owns now. */
export interface TaskMember {
  id: string;
  /** Task ids (`<sub-topology>_<partition>`) of its latest assignment; [] for a new member. */
  owned: string[];
  /**
   * It rebalances cooperatively: it keeps processing its tasks while the group rebalances, so a
   * task it owns may go to another member only after it has given it up and rejoined
   * (`withholdClaimed`). An eager member stops every task before it joins.
   */
  cooperative?: boolean;
}

/** What a member's subscription user data announces. */
export interface MemberData {
  owned: string[];
  cooperative: boolean;
}

/** The task of a partition: its topic's sub-topology (group) and its partition number. */
export function taskIdOf(tp: TopicPartition, groupOf: (topic: string) => number | undefined) {
  return `${groupOf(tp.topic) ?? -1}_${tp.partition}`;
}

/**
 * A member's subscription user data: the tasks it owns, so that the group's leader can leave
 * them where they are (`assignTasks`), and whether it rebalances cooperatively. JSON,
 * `{"owned": [...], "cooperative": true}` (the flag only when true); the members of a group all
 * announce this one protocol, on either client library.
 */
export function encodeOwnedTasks(
  owned: TopicPartition[],
  groupOf: (topic: string) => number | undefined,
  cooperative = false,
): Buffer {
  const ids = [...new Set(owned.map((tp) => taskIdOf(tp, groupOf)))].sort();
  return Buffer.from(JSON.stringify(cooperative ? { owned: ids, cooperative } : { owned: ids }));
}

/**
 * What a member's user data announces: the tasks it owns ([] when it says nothing readable: a
 * member of an older version announces empty user data, which only costs it its stickiness),
 * and whether it is cooperative (only an explicit `true`: anything else is eager, the safe side).
 */
export function decodeMemberData(userData: Buffer | string | null | undefined): MemberData {
  if (userData === null || userData === undefined || userData.length === 0)
    return { owned: [], cooperative: false };
  try {
    const parsed = JSON.parse(userData.toString()) as { owned?: unknown; cooperative?: unknown };
    return {
      owned: Array.isArray(parsed.owned)
        ? parsed.owned.filter((id): id is string => typeof id === 'string')
        : [],
      cooperative: parsed.cooperative === true,
    };
  } catch {
    return { owned: [], cooperative: false };
  }
}

/** The tasks a member's user data says it owns (decodeMemberData). */
export const decodeOwnedTasks = (userData: Buffer | string | null | undefined): string[] =>
  decodeMemberData(userData).owned;

/** Task ids in the order tasks are dealt: by partition, then by sub-topology. */
function byPartitionThenGroup(a: string, b: string): number {
  const [ga, pa] = a.split('_').map(Number) as [number, number];
  const [gb, pb] = b.split('_').map(Number) as [number, number];
  return pa - pb || ga - gb;
}

/**
 * Assigns whole tasks, not single partitions: every topic of one sub-topology (its group) with
 * the same partition number goes to the same member, so co-partitioned topics are read by one
 * task. The client libraries' assigners (task-assigner.ts for kafkajs,
 * platformatic/group-member.ts) wrap this.
 *
 * Sticky, as Kafka Streams' assignor: a task stays with the member that owns it (so it is
 * neither closed nor restored elsewhere) as far as balance allows.
 *   (1) n tasks over m members: every member gets floor(n/m) or one more; the n mod m larger
 *       shares go to the members that own the most tasks now (then by id), which keeps the
 *       most tasks in place;
 *   (2) each member keeps the tasks it owns (in dealing order) up to its share; a task two
 *       members claim stays with the first by id;
 *   (3) the other tasks are dealt, in order, each to the member with the fewest tasks that is
 *       below its share (then by id): round-robin in a new group, where nobody owns anything.
 *
 * `partitions` lists every partition of the subscribed topics; `groupOf` maps a topic to its
 * sub-topology id.
 */
export function assignTasks(
  members: TaskMember[],
  partitions: TopicPartition[],
  groupOf: (topic: string) => number | undefined,
): Map<string, MemberAssignment> {
  const tasks = new Map<string, TopicPartition[]>();
  for (const tp of partitions) {
    const id = taskIdOf(tp, groupOf);
    tasks.set(id, [...(tasks.get(id) ?? []), tp]);
  }
  const taskIds = [...tasks.keys()].sort(byPartitionThenGroup);
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const assignment = new Map<string, MemberAssignment>(sorted.map((m) => [m.id, {}]));
  if (sorted.length === 0) return assignment;
  // (2)'s claims: each task to the first member (by id) that owns it.
  const claimed = new Set<string>();
  const owns = new Map<string, string[]>();
  for (const member of sorted) {
    const mine = [...new Set(member.owned)]
      .filter((id) => tasks.has(id) && !claimed.has(id))
      .sort(byPartitionThenGroup);
    for (const id of mine) claimed.add(id);
    owns.set(member.id, mine);
  }
  // (1)
  const base = Math.floor(taskIds.length / sorted.length);
  let larger = taskIds.length % sorted.length;
  const share = new Map<string, number>();
  const byOwned = [...sorted].sort(
    (a, b) => (owns.get(b.id)?.length ?? 0) - (owns.get(a.id)?.length ?? 0),
  );
  for (const member of byOwned) share.set(member.id, base + (larger-- > 0 ? 1 : 0));
  // (2)
  const given = new Map<string, string[]>();
  const taken = new Set<string>();
  for (const member of sorted) {
    const kept = (owns.get(member.id) ?? []).slice(0, share.get(member.id));
    for (const id of kept) taken.add(id);
    given.set(member.id, kept);
  }
  // (3)
  for (const id of taskIds) {
    if (taken.has(id)) continue;
    let to: string[] | undefined;
    for (const member of sorted) {
      const mine = given.get(member.id) as string[];
      if (
        mine.length < (share.get(member.id) ?? 0) &&
        (to === undefined || mine.length < to.length)
      )
        to = mine;
    }
    to?.push(id);
  }
  for (const [memberId, ids] of given) {
    const member = assignment.get(memberId) as MemberAssignment;
    for (const id of ids)
      for (const { topic, partition } of tasks.get(id) ?? [])
        (member[topic] ??= []).push(partition);
    for (const list of Object.values(member)) list.sort((a, b) => a - b);
  }
  return assignment;
}

/**
 * The incremental (cooperative) step of KIP-429, on top of `assignTasks`: a task the assignment
 * gives to one member while another, cooperative, member still claims it is given to nobody in
 * this generation. The claimant sees the task missing from its assignment, closes it (its last
 * commit) and rejoins without it; that rejoin's rebalance gives the task to its new owner. So a
 * task is never processed by two members at once, while every task that stays where it is keeps
 * running through both rebalances. A task claimed only by eager members (they stop every task
 * before joining) or by members no longer in the group moves at once.
 */
export function withholdClaimed(
  assignment: Map<string, MemberAssignment>,
  members: TaskMember[],
  groupOf: (topic: string) => number | undefined,
): Map<string, MemberAssignment> {
  const claimants = new Map<string, string[]>();
  for (const member of members)
    if (member.cooperative === true)
      for (const id of new Set(member.owned))
        claimants.set(id, [...(claimants.get(id) ?? []), member.id]);
  const withheld = new Map<string, MemberAssignment>();
  for (const [memberId, byTopic] of assignment) {
    const kept: MemberAssignment = {};
    for (const [topic, partitions] of Object.entries(byTopic)) {
      const mine = partitions.filter((partition) =>
        (claimants.get(taskIdOf({ topic, partition }, groupOf)) ?? []).every((c) => c === memberId),
      );
      if (mine.length > 0) kept[topic] = mine;
    }
    withheld.set(memberId, kept);
  }
  return withheld;
}

/** The group's assignment, as both adapters' assigners make it: sticky, then incremental. */
export function assignGroupTasks(
  members: TaskMember[],
  partitions: TopicPartition[],
  groupOf: (topic: string) => number | undefined,
): Map<string, MemberAssignment> {
  return withholdClaimed(assignTasks(members, partitions, groupOf), members, groupOf);
}
