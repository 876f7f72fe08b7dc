import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  assignGroupTasks,
  assignTasks,
  assignWithReplicas,
  decodeMemberData,
  decodeOwnedTasks,
  encodeOwnedTasks,
} from '../../src/kafka/task-assignment.ts';
import type { MemberAssignment, TaskMember } from '../../src/kafka/task-assignment.ts';

const partitionsOf = (topic: string, count: number) =>
  Array.from({ length: count }, (_, partition) => ({ topic, partition }));

const fresh = (...ids: string[]): TaskMember[] => ids.map((id) => ({ id, owned: [] }));

/**
 * A seeded whole number in [0, n) per call: mulberry32 (the low bits of a power-of-two LCG
 * repeat too soon to cover the cases).
 */
function randomBelow(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** The task ids each member got, for a topology of one sub-topology (0) reading topic `t`. */
const tasksOf = (assignment: Map<string, MemberAssignment>): Map<string, string[]> =>
  new Map([...assignment].map(([id, a]) => [id, (a['t'] ?? []).map((p) => `0_${p}`)]));

describe('assignTasks', () => {
  it("gives a task's co-partitioned topics to one member and deals tasks round-robin to the members sorted by id", () => {
    // Sub-topology 0 reads orders and payments (co-partitioned), sub-topology 1 reads clicks.
    const groupOf = (topic: string) => (topic === 'clicks' ? 1 : 0);
    const assignment = assignTasks(
      fresh('m-b', 'm-a'),
      [...partitionsOf('payments', 2), ...partitionsOf('orders', 2), ...partitionsOf('clicks', 2)],
      groupOf,
    );
    // Tasks by partition, then sub-topology: 0_0, 1_0, 0_1, 1_1.
    assert.deepEqual(
      assignment,
      new Map([
        ['m-a', { orders: [0, 1], payments: [0, 1] }],
        ['m-b', { clicks: [0, 1] }],
      ]),
    );
  });

  it('gives every partition to a lone member, and nothing to members beyond the tasks', () => {
    assert.deepEqual(
      assignTasks(fresh('only'), partitionsOf('t', 3), () => 0),
      new Map([['only', { t: [0, 1, 2] }]]),
    );
    assert.deepEqual(
      assignTasks(fresh('a', 'b', 'c'), partitionsOf('t', 2), () => undefined),
      new Map([
        ['a', { t: [0] }],
        ['b', { t: [1] }],
        ['c', {}],
      ]),
    );
  });

  it('keeps tasks where they are when a member joins: only the shares the new member takes move', () => {
    // One worker owned all 12 tasks; a second joins, then a third.
    const all = Array.from({ length: 12 }, (_, p) => `0_${p}`);
    const two = tasksOf(
      assignTasks([{ id: 'w1', owned: all }, ...fresh('w2')], partitionsOf('t', 12), () => 0),
    );
    assert.deepEqual(two.get('w1'), all.slice(0, 6));
    assert.deepEqual(two.get('w2'), all.slice(6));
    const three = tasksOf(
      assignTasks(
        [
          { id: 'w1', owned: two.get('w1') ?? [] },
          { id: 'w2', owned: two.get('w2') ?? [] },
          ...fresh('w0'), // first by id: order must not matter
        ],
        partitionsOf('t', 12),
        () => 0,
      ),
    );
    // w1 and w2 keep 4 of their 6 each; w0 takes the 2 each gave up.
    assert.deepEqual(three.get('w1'), all.slice(0, 4));
    assert.deepEqual(three.get('w2'), all.slice(6, 10));
    assert.deepEqual(three.get('w0'), ['0_4', '0_5', '0_10', '0_11']);
  });

  it('moves only the tasks of a member that left, and a task two members claim once', () => {
    const left = tasksOf(
      assignTasks(
        [
          { id: 'a', owned: ['0_0', '0_1', '0_2'] },
          { id: 'c', owned: ['0_6', '0_7', '0_8', '0_2'] }, // 0_2 claimed twice: stays with a
        ],
        partitionsOf('t', 9),
        () => 0,
      ),
    );
    // b (0_3, 0_4, 0_5) left: only its tasks move. a and c own 3 each (c's claim of 0_2 is
    // dropped), so the id gives a the larger share (5 of 9); b's tasks are dealt in turn.
    assert.deepEqual(left.get('a'), ['0_0', '0_1', '0_2', '0_3', '0_5']);
    assert.deepEqual(left.get('c'), ['0_4', '0_6', '0_7', '0_8']);
  });

  it('ignores owned tasks that no longer exist and members claiming more than their share', () => {
    const got = tasksOf(
      assignTasks(
        [
          { id: 'a', owned: ['0_0', '0_1', '0_2', '0_3', '0_99', 'x'] },
          { id: 'b', owned: [] },
        ],
        partitionsOf('t', 4),
        () => 0,
      ),
    );
    assert.deepEqual(got.get('a'), ['0_0', '0_1']);
    assert.deepEqual(got.get('b'), ['0_2', '0_3']);
  });

  /**
   * Against an oracle that tries every balanced assignment of small groups: every task once,
   * shares within one of each other, and as many tasks left in place as any balanced assignment
   * can leave. Ownership comes from a previous generation (each task owned by one member at
   * most: some by members that left, some by nobody); claims that overlap (a member that lost
   * its tasks and still announces them) are checked for balance only.
   */
  it('is balanced and keeps as many tasks in place as the best balanced assignment (exhaustive oracle)', () => {
    const random = randomBelow(11);
    let compared = 0;
    for (let round = 0; round < 2000; round++) {
      const taskCount = 1 + random(7);
      const memberCount = 1 + random(4);
      const overlapping = random(4) === 0;
      const members: TaskMember[] = Array.from({ length: memberCount }, (_, i) => ({
        id: `m${random(100)}-${i}`,
        owned: [],
      }));
      for (let task = 0; task <= taskCount; task++) {
        // task == taskCount: a task that no longer exists (its topic shrank... or a typo).
        const owners = overlapping ? 1 + random(2) : 1;
        for (let k = 0; k < owners; k++) {
          const owner = random(memberCount + 1); // memberCount: a member that left
          if (owner < memberCount) (members[owner] as TaskMember).owned.push(`0_${task}`);
        }
      }
      const got = tasksOf(assignTasks(members, partitionsOf('t', taskCount), () => 0));
      const counts = [...got.values()].map((l) => l.length);
      const given = [...got.values()].flat();
      assert.equal(given.length, taskCount);
      assert.equal(new Set(given).size, taskCount, 'a task given twice');
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `unbalanced: ${counts}`);
      if (overlapping) continue;
      const kept = members.reduce(
        (sum, m) => sum + (got.get(m.id) ?? []).filter((t) => m.owned.includes(t)).length,
        0,
      );
      assert.equal(kept, bestKept(members, taskCount), JSON.stringify({ members, got: [...got] }));
      compared++;
    }
    assert.ok(compared > 1000, `only ${compared} rounds compared with the oracle`);
  });

  it('round-trips the owned tasks through the subscription user data, and reads junk as none', () => {
    const groupOf = (topic: string) => (topic === 'clicks' ? 1 : 0);
    const data = encodeOwnedTasks(
      [
        { topic: 'orders', partition: 3 },
        { topic: 'payments', partition: 3 },
        { topic: 'clicks', partition: 0 },
      ],
      groupOf,
    );
    assert.deepEqual(decodeOwnedTasks(data), ['0_3', '1_0']);
    for (const junk of [Buffer.alloc(0), null, undefined, Buffer.from('{'), Buffer.from('[1]')])
      assert.deepEqual(decodeOwnedTasks(junk), []);
  });
});

describe('assignGroupTasks: incremental (cooperative) rebalancing', () => {
  it('gives a task a cooperative member still owns to nobody else until that member gave it up and rejoined; an eager owner loses it at once', () => {
    const all = ['0_0', '0_1', '0_2', '0_3'];
    const coop = tasksOf(
      assignGroupTasks(
        [
          { id: 'a', owned: all, cooperative: true },
          { id: 'b', owned: [], cooperative: true },
        ],
        partitionsOf('t', 4),
        () => 0,
      ),
    );
    assert.deepEqual(coop.get('a'), ['0_0', '0_1']);
    assert.deepEqual(coop.get('b'), [], 'withheld while a still claims them');
    // a rejoins without 0_2 and 0_3 (it closed them): now b gets them.
    const next = tasksOf(
      assignGroupTasks(
        [
          { id: 'a', owned: ['0_0', '0_1'], cooperative: true },
          { id: 'b', owned: [], cooperative: true },
        ],
        partitionsOf('t', 4),
        () => 0,
      ),
    );
    assert.deepEqual(next.get('b'), ['0_2', '0_3']);
    const eager = tasksOf(
      assignGroupTasks(
        [
          { id: 'a', owned: all },
          { id: 'b', owned: [], cooperative: true },
        ],
        partitionsOf('t', 4),
        () => 0,
      ),
    );
    assert.deepEqual(eager.get('b'), ['0_2', '0_3'], 'an eager member stopped them before joining');
  });

  /**
   * Random groups rebalanced round after round, members joining and leaving, each member
   * announcing what its previous assignment gave it (cooperative ones; eager ones too): at no
   * point is a task given to one member while another cooperative member of the group claims
   * it, nothing is given twice, and a group that stops changing has every task given, balanced,
   * by its second rebalance.
   */
  it('never gives a task two owners at once, and settles within two rebalances (random groups)', () => {
    const random = randomBelow(5);
    for (let trial = 0; trial < 300; trial++) {
      const taskCount = 1 + random(9);
      let members: TaskMember[] = [];
      let next = 0;
      for (let round = 0; round < 12; round++) {
        // The group changes in the first rounds only: one joins, one leaves, or nothing.
        if (round < 8) {
          const change = random(3);
          if (change === 0 || members.length === 0)
            members.push({ id: `m${next++}`, owned: [], cooperative: random(4) !== 0 });
          else if (change === 1 && members.length > 1) members.splice(random(members.length), 1);
        }
        const got = tasksOf(assignGroupTasks(members, partitionsOf('t', taskCount), () => 0));
        const given = [...got.values()].flat();
        assert.equal(new Set(given).size, given.length, 'a task given twice');
        for (const [id, tasks] of got)
          for (const task of tasks)
            assert.ok(
              !members.some((m) => m.id !== id && m.cooperative === true && m.owned.includes(task)),
              `${task} given to ${id} while another cooperative member owns it`,
            );
        if (round >= 10) {
          assert.equal(given.length, taskCount, `round ${round}: every task given`);
          const counts = [...got.values()].map((l) => l.length);
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `unbalanced: ${counts}`);
        }
        // Each member now owns what it was given (a cooperative one gave up the rest).
        members = members.map((m) => ({ ...m, owned: got.get(m.id) ?? [] }));
      }
    }
  });

  it('announces the cooperative flag in the user data, and reads anything else as eager', () => {
    const data = encodeOwnedTasks([{ topic: 't', partition: 1 }], () => 0, true);
    assert.deepEqual(decodeMemberData(data), {
      owned: ['0_1'],
      cooperative: true,
      standby: [],
      caughtUp: [],
    });
    assert.deepEqual(decodeMemberData(encodeOwnedTasks([], () => 0)), {
      owned: [],
      cooperative: false,
      standby: [],
      caughtUp: [],
    });
    const withStandbys = encodeOwnedTasks([], () => 0, true, {
      standby: ['0_2', '0_1'],
      caughtUp: ['0_2'],
    });
    assert.deepEqual(decodeMemberData(withStandbys), {
      owned: [],
      cooperative: true,
      standby: ['0_1', '0_2'],
      caughtUp: ['0_2'],
    });
    for (const junk of [Buffer.from('{"cooperative":"yes"}'), Buffer.from('{'), null])
      assert.equal(decodeMemberData(junk).cooperative, false);
  });
});

/**
 * The most tasks any balanced assignment leaves with a member that owns them, by trying every
 * assignment of tasks to members (members^tasks <= 4^7).
 */
function bestKept(members: TaskMember[], taskCount: number): number {
  const m = members.length;
  const low = Math.floor(taskCount / m);
  let best = -1;
  const counts = new Array<number>(m).fill(0);
  const walk = (task: number, kept: number): void => {
    if (task === taskCount) {
      if (counts.every((c) => c === low || c === low + 1)) best = Math.max(best, kept);
      return;
    }
    for (let i = 0; i < m; i++) {
      if ((counts[i] as number) > low) continue;
      counts[i] = (counts[i] as number) + 1;
      walk(task + 1, kept + ((members[i] as TaskMember).owned.includes(`0_${task}`) ? 1 : 0));
      counts[i] = (counts[i] as number) - 1;
    }
  };
  walk(0, 0);
  return best;
}

describe('assignWithReplicas (standbys and warm-ups, KIP-441)', () => {
  const stateful = () => true;
  const options = (standbyReplicas: number, maxWarmups = 2) => ({
    standbyReplicas,
    maxWarmups,
    stateful,
  });
  const activeOf = (a: ReturnType<typeof assignWithReplicas>) => tasksOf(a.active);

  it('keeps every task with its owner while a new member warms up, at most maxWarmups at once', () => {
    const owner = { id: 'a', owned: ['0_0', '0_1', '0_2', '0_3', '0_4', '0_5'], cooperative: true };
    const a = assignWithReplicas(
      [owner, { id: 'b', owned: [], cooperative: true }],
      partitionsOf('t', 6),
      () => 0,
      options(0),
    );
    assert.deepEqual(activeOf(a).get('a'), ['0_0', '0_1', '0_2', '0_3', '0_4', '0_5']);
    assert.deepEqual(activeOf(a).get('b'), []);
    // Balance would move three; two warm up now, the third at a later rebalance.
    assert.equal(a.standby.get('b')?.warmup.length, 2);
    assert.deepEqual(a.standby.get('b')?.standby, a.standby.get('b')?.warmup);
    assert.deepEqual(a.standby.get('a'), { standby: [], warmup: [] });
  });

  it('moves a task once its warm-up reports it caught up (withheld first from a cooperative owner, kept as a standby meanwhile)', () => {
    const tasks = ['0_0', '0_1', '0_2', '0_3'];
    const first = assignWithReplicas(
      [
        { id: 'a', owned: tasks, cooperative: true },
        { id: 'b', owned: [], cooperative: true },
      ],
      partitionsOf('t', 4),
      () => 0,
      options(0),
    );
    const warm = first.standby.get('b')?.warmup ?? [];
    assert.equal(warm.length, 2);
    // b has caught up with both: the probing rebalance gives them to b, withheld from a (which
    // still runs them) in this generation, b keeping their standbys.
    const members = [
      { id: 'a', owned: tasks, cooperative: true },
      { id: 'b', owned: [], cooperative: true, standby: warm, caughtUp: warm },
    ];
    const probe = assignWithReplicas(members, partitionsOf('t', 4), () => 0, options(0));
    assert.deepEqual(
      activeOf(probe).get('a'),
      tasks.filter((t) => !warm.includes(t)),
    );
    assert.deepEqual(activeOf(probe).get('b'), []);
    assert.deepEqual(probe.standby.get('b')?.standby, warm);
    assert.deepEqual(probe.standby.get('b')?.warmup, []);
    // a gave them up and rejoined: b takes them.
    members[0] = { id: 'a', owned: tasks.filter((t) => !warm.includes(t)), cooperative: true };
    const moved = assignWithReplicas(members, partitionsOf('t', 4), () => 0, options(0));
    assert.deepEqual(activeOf(moved).get('b'), warm);
    assert.deepEqual(moved.standby.get('b'), { standby: [], warmup: [] });
  });

  it('moves a stateless task at once, without a warm-up', () => {
    const a = assignWithReplicas(
      [
        { id: 'a', owned: ['0_0', '0_1'] },
        { id: 'b', owned: [] },
      ],
      partitionsOf('t', 2),
      () => 0,
      { standbyReplicas: 1, maxWarmups: 2, stateful: () => false },
    );
    assert.equal(activeOf(a).get('b')?.length, 1);
    assert.deepEqual(a.standby.get('b'), { standby: [], warmup: [] });
  });

  it('gives a task whose owner left to a member holding it caught up, and a standby to another', () => {
    const members = [
      { id: 'a', owned: ['0_0'], standby: ['0_1'] },
      { id: 'b', owned: [], standby: ['0_1'] },
      { id: 'c', owned: ['0_2'], standby: ['0_1'], caughtUp: ['0_1'] },
    ];
    // The owner of 0_1 is gone; b owns nothing, but c holds 0_1 caught up. Balance gives each
    // one task, so 0_1 goes to b (the only one below its share) unless c may take it: with 3
    // tasks and 3 members it cannot. With 4 partitions, c's larger share takes it.
    const three = assignWithReplicas(members, partitionsOf('t', 3), () => 0, options(1));
    assert.deepEqual(activeOf(three).get('b'), ['0_1']);
    const four = assignWithReplicas(
      [
        { id: 'a', owned: ['0_0'] },
        { id: 'c', owned: ['0_2'], standby: ['0_1'], caughtUp: ['0_1'] },
      ],
      partitionsOf('t', 4),
      () => 0,
      options(1),
    );
    assert.ok(
      activeOf(four).get('c')?.includes('0_1'),
      `c should take 0_1: ${JSON.stringify([...activeOf(four)])}`,
    );
  });

  it('holds, for random groups, owners and states: one active owner per task, standbys elsewhere, as many as asked, balanced, and no move to a member not caught up', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = randomBelow(seed);
      const memberCount = 1 + random(5);
      const taskCount = 1 + random(12);
      const replicas = random(3);
      const tasks = Array.from({ length: taskCount }, (_, i) => `0_${i}`);
      const members: TaskMember[] = Array.from({ length: memberCount }, (_, i) => ({
        id: `m${i}`,
        owned: [],
        cooperative: false,
        standby: [],
        caughtUp: [],
      }));
      for (const task of tasks) {
        const owner = random(memberCount + 1);
        if (owner < memberCount) (members[owner] as TaskMember).owned.push(task);
        for (const m of members)
          if (random(3) === 0) {
            m.standby?.push(task);
            if (random(2) === 0) m.caughtUp?.push(task);
          }
      }
      const a = assignWithReplicas(
        members,
        partitionsOf('t', taskCount),
        () => 0,
        options(replicas, 1 + random(3)),
      );
      const active = activeOf(a);
      const ownerOf = new Map<string, string>();
      for (const [id, list] of active)
        for (const t of list) {
          assert.equal(ownerOf.has(t), false, `seed ${seed}: ${t} active twice`);
          ownerOf.set(t, id);
        }
      assert.equal(
        ownerOf.size,
        taskCount,
        `seed ${seed}: every task active once (eager members: none withheld)`,
      );
      const previous = new Map<string, string>();
      for (const m of [...members].sort((x, y) => (x.id < y.id ? -1 : 1)))
        for (const t of m.owned) if (!previous.has(t)) previous.set(t, m.id);
      for (const t of tasks) {
        const now = ownerOf.get(t) as string;
        const before = previous.get(t);
        if (before !== undefined && before !== now)
          assert.ok(
            members.find((m) => m.id === now)?.caughtUp?.includes(t),
            `seed ${seed}: ${t} moved from ${before} to ${now}, which is not caught up`,
          );
        const keepers = [...a.standby].filter(([, s]) => s.standby.includes(t)).map(([id]) => id);
        assert.equal(keepers.includes(now), false, `seed ${seed}: ${t} standby on its owner`);
        const warmups = [...a.standby].filter(([, s]) => s.warmup.includes(t)).length;
        assert.equal(
          keepers.length,
          Math.max(Math.min(replicas, memberCount - 1), warmups),
          `seed ${seed}: ${t} has ${keepers.length} standbys, ${replicas} asked`,
        );
      }
      for (const [, s] of a.standby)
        for (const w of s.warmup)
          assert.ok(s.standby.includes(w), `seed ${seed}: warm-up not a standby`);
    }
  });
});
