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
  /** Tasks it keeps as standbys (MemberData). */
  standby?: string[];
  /** Tasks whose local state is caught up with their changelogs (MemberData). */
  caughtUp?: string[];
}

/** What a member's subscription user data announces. */
export interface MemberData {
  owned: string[];
  cooperative: boolean;
  /** Tasks whose stores it keeps current as a standby (or a warm-up): [] when it says nothing. */
  standby: string[];
  /**
   * Tasks whose local stores are within the acceptable lag of their changelogs' ends (its
   * standbys' latest read said so): such a task can move to it without a long restore.
   */
  caughtUp: string[];
}

/** What a member keeps besides its active tasks, as its subscription announces it. */
export interface StandbyReport {
  standby: string[];
  caughtUp: string[];
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
  standby?: StandbyReport,
): Buffer {
  const ids = [...new Set(owned.map((tp) => taskIdOf(tp, groupOf)))].sort();
  return Buffer.from(
    JSON.stringify({
      owned: ids,
      ...(cooperative ? { cooperative } : {}),
      ...(standby === undefined || standby.standby.length === 0
        ? {}
        : { standby: [...standby.standby].sort(), caughtUp: [...standby.caughtUp].sort() }),
    }),
  );
}

/**
 * What a member's user data announces: the tasks it owns ([] when it says nothing readable: a
 * member of an older version announces empty user data, which only costs it its stickiness),
 * and whether it is cooperative (only an explicit `true`: anything else is eager, the safe side).
 */
export function decodeMemberData(userData: Buffer | string | null | undefined): MemberData {
  const none: MemberData = { owned: [], cooperative: false, standby: [], caughtUp: [] };
  if (userData === null || userData === undefined || userData.length === 0) return none;
  try {
    const parsed = JSON.parse(userData.toString()) as Record<string, unknown>;
    return {
      owned: stringsOf(parsed.owned),
      cooperative: parsed.cooperative === true,
      standby: stringsOf(parsed.standby),
      caughtUp: stringsOf(parsed.caughtUp),
    };
  } catch {
    return none;
  }
}

const stringsOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];

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
    let toState = -1;
    for (const member of sorted) {
      const mine = given.get(member.id) as string[];
      if (mine.length >= (share.get(member.id) ?? 0)) continue;
      const state = stateOf(member, id);
      if (to === undefined || state > toState || (state === toState && mine.length < to.length)) {
        to = mine;
        toState = state;
      }
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

/** What a member holds of a task's state: 2 caught up, 1 a standby still behind, 0 nothing. */
function stateOf(member: TaskMember, id: string): number {
  if (member.caughtUp?.includes(id) === true) return 2;
  return member.standby?.includes(id) === true ? 1 : 0;
}

/** How many copies of each stateful task's stores the group keeps besides the active one. */
export interface ReplicaOptions {
  /** Standby replicas per stateful task (Kafka Streams' num.standby.replicas). */
  standbyReplicas: number;
  /** Warm-ups at most at once in the group (Kafka Streams' max.warmup.replicas). */
  maxWarmups: number;
  /** Whether a sub-topology has stores: only its tasks warm up before they move. */
  stateful: (subtopology: number) => boolean;
}

/** Besides its active tasks: the tasks a member keeps as standbys, warm-ups among them. */
export interface MemberStandbys {
  standby: string[];
  /** The standbys that are there to take the task over once they have caught up. */
  warmup: string[];
}

/** A member's standbys as its assignment's user data carries them: JSON `{"standby", "warmup"}`. */
export const encodeStandbys = (mine: MemberStandbys): Buffer => Buffer.from(JSON.stringify(mine));

/** What `encodeStandbys` wrote (none when the user data is empty or not readable). */
export function decodeStandbys(userData: Buffer | null | undefined): MemberStandbys {
  if (userData === null || userData === undefined || userData.length === 0)
    return { standby: [], warmup: [] };
  try {
    const parsed = JSON.parse(userData.toString()) as Record<string, unknown>;
    return { standby: stringsOf(parsed.standby), warmup: stringsOf(parsed.warmup) };
  } catch {
    return { standby: [], warmup: [] };
  }
}

/** The group's assignment with replicas: active partitions and standby tasks per member. */
export interface ReplicatedAssignment {
  active: Map<string, MemberAssignment>;
  standby: Map<string, MemberStandbys>;
}

/**
 * Kafka Streams' high-availability assignment (KIP-441) over `assignGroupTasks`:
 *   (1) the balanced, sticky assignment of `assignTasks`; a task without an owner in the group
 *       goes first to a member that holds it caught up, then to one with a standby of it;
 *   (2) a stateful task that balance moves from its owner (still in the group) to a member that
 *       has not caught up with its changelogs stays with its owner: the new member gets it as a
 *       warm-up (at most `maxWarmups` in the group at once; the others wait for the next
 *       rebalance), and the task moves at the first rebalance after the warm-up reports it is
 *       caught up (the member rejoins for that: a probing rebalance);
 *   (3) the cooperative step (`withholdClaimed`); a task withheld from its new owner stays that
 *       member's standby meanwhile, so it stays caught up;
 *   (4) `standbyReplicas` standbys of each stateful task, each on a member that is neither its
 *       owner nor already keeping it (warm-ups count), preferring members that hold its state,
 *       then those with the fewest standbys.
 * A member that left keeps nothing; a new member warms up before it takes any stateful task.
 */
export function assignWithReplicas(
  members: TaskMember[],
  partitions: TopicPartition[],
  groupOf: (topic: string) => number | undefined,
  options: ReplicaOptions,
): ReplicatedAssignment {
  // (1)
  const balanced = assignTasks(members, partitions, groupOf);
  const ownerOf = new Map<string, string>();
  for (const member of [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
    for (const id of member.owned) if (!ownerOf.has(id)) ownerOf.set(id, member.id);
  const byId = new Map(members.map((m) => [m.id, m]));
  const stateful = (id: string) => options.stateful(Number(id.split('_')[0]));
  const tasksOf = new Map<string, TopicPartition[]>();
  const targetOf = new Map<string, string>();
  for (const [memberId, byTopic] of balanced)
    for (const [topic, list] of Object.entries(byTopic))
      for (const partition of list) {
        const id = taskIdOf({ topic, partition }, groupOf);
        tasksOf.set(id, [...(tasksOf.get(id) ?? []), { topic, partition }]);
        targetOf.set(id, memberId);
      }
  const taskIds = [...targetOf.keys()].sort(byPartitionThenGroup);
  const standby = new Map<string, MemberStandbys>(
    members.map((m) => [m.id, { standby: [], warmup: [] }]),
  );
  // (2)
  let warmups = 0;
  for (const id of taskIds) {
    const to = targetOf.get(id) as string;
    const from = ownerOf.get(id);
    if (from === undefined || from === to || !stateful(id)) continue;
    if (byId.get(to)?.caughtUp?.includes(id) === true) continue;
    targetOf.set(id, from);
    if (warmups < options.maxWarmups) {
      warmups++;
      const mine = standby.get(to) as MemberStandbys;
      mine.standby.push(id);
      mine.warmup.push(id);
    }
  }
  const active = new Map<string, MemberAssignment>(members.map((m) => [m.id, {}]));
  for (const [id, memberId] of targetOf) {
    const member = active.get(memberId) as MemberAssignment;
    for (const { topic, partition } of tasksOf.get(id) ?? [])
      (member[topic] ??= []).push(partition);
  }
  for (const member of active.values())
    for (const list of Object.values(member)) list.sort((a, b) => a - b);
  // (3)
  const withheld = withholdClaimed(active, members, groupOf);
  for (const [memberId, byTopic] of active) {
    const kept = withheld.get(memberId) ?? {};
    for (const [topic, list] of Object.entries(byTopic))
      for (const partition of list)
        if (!(kept[topic] ?? []).includes(partition)) {
          const id = taskIdOf({ topic, partition }, groupOf);
          const mine = standby.get(memberId) as MemberStandbys;
          if (stateful(id) && !mine.standby.includes(id)) mine.standby.push(id);
        }
  }
  // (4)
  for (const id of taskIds) {
    if (!stateful(id)) continue;
    const owner = targetOf.get(id) as string;
    const keeping = members.filter(
      (m) => m.id !== owner && standby.get(m.id)?.standby.includes(id) === true,
    );
    const candidates = members
      .filter((m) => m.id !== owner && !keeping.includes(m))
      .sort(
        (a, b) =>
          stateOf(b, id) - stateOf(a, id) ||
          (standby.get(a.id)?.standby.length ?? 0) - (standby.get(b.id)?.standby.length ?? 0) ||
          (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    for (const member of candidates.slice(0, Math.max(0, options.standbyReplicas - keeping.length)))
      standby.get(member.id)?.standby.push(id);
  }
  for (const mine of standby.values()) {
    mine.standby.sort(byPartitionThenGroup);
    mine.warmup.sort(byPartitionThenGroup);
  }
  return { active: withheld, standby };
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
