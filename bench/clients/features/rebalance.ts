// Rebalance probe: two consumers of one group share a 6-partition topic that receives a record
// per partition every 50 ms; a third joins. Logged per consumer, in ms from the third's start:
// each assignment change (and each revoke/assign callback where the client has one), and for
// the partitions a consumer owned both before and after, the longest pause between two records
// delivered from them. An incremental protocol keeps those partitions flowing; an eager one
// revokes everything and pauses them for the length of the rebalance.
//
//   node --import tsx bench/clients/features/rebalance.ts [--client ...]
//
// Variants: kafkajs (eager round-robin: its only protocol); @platformatic/kafka and
// @confluentinc/kafka-javascript each with eager round-robin, cooperative-sticky (KIP-429) and
// the KIP-848 consumer protocol (`group.protocol=consumer`, served by Kafka 4.1).
import { Consumer } from '@platformatic/kafka';

import { loadConfluent } from '../confluent/load.ts';
import type { CkjsConsumer } from '../confluent/load.ts';
import {
  brokers,
  chosenClients,
  describeError,
  kafka,
  report,
  sleep,
  uniqueName,
  until,
  withTopic,
} from './common.ts';
import type { Verdict } from './common.ts';

const feature = 'rebalance';
const partitions = 6;

/** One member: what it owns now, and a log of what happened to it. */
class Member {
  owned = new Set<number>();
  log: string[] = [];
  lastAt = new Map<number, number>();
  gaps = new Map<number, number>();
  revokeCallbacks = 0;
  /** Partitions this member stopped owning at some moment after the third member started. */
  dropped = new Set<number>();
  /** ms from the third member's start when a partition was last dropped or gained. */
  droppedAt = new Map<number, number>();
  gainedAt = new Map<number, number>();
  constructor(
    readonly name: string,
    readonly t0: () => number,
  ) {}
  at(): string {
    return `${Math.round(performance.now() - this.t0())}ms`;
  }
  event(what: string): void {
    this.log.push(`${this.at()} ${what}`);
  }
  setOwned(parts: number[], why: string): void {
    const next = new Set(parts);
    const same = next.size === this.owned.size && [...next].every((p) => this.owned.has(p));
    if (same) return;
    this.event(`${why} owns [${[...next].sort((a, b) => a - b).join(',')}]`);
    const t = performance.now() - this.t0();
    if (t >= 0) {
      for (const p of this.owned)
        if (!next.has(p)) {
          this.dropped.add(p);
          this.droppedAt.set(p, Math.round(t));
        }
      for (const p of next) if (!this.owned.has(p)) this.gainedAt.set(p, Math.round(t));
    }
    this.owned = next;
  }
  record(partition: number): void {
    const now = performance.now();
    const last = this.lastAt.get(partition);
    if (last !== undefined && now >= this.t0())
      this.gaps.set(
        partition,
        Math.max(this.gaps.get(partition) ?? 0, now - Math.max(last, this.t0())),
      );
    this.lastAt.set(partition, now);
  }
}

interface Handle {
  member: Member;
  stop(): Promise<void>;
}

type Starter = (topic: string, group: string, member: Member) => Promise<Handle>;

const kafkajsEager: Starter = async (topic, group, member) => {
  const c = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500 });
  // Eager: on REBALANCING its fetch loop has stopped for every partition, and the rejoin brings a
  // whole new assignment (GROUP_JOIN), so it owns nothing in between.
  c.on(c.events.REBALANCING, () => {
    member.event('REBALANCING event (not awaited; fetch loop already stopped)');
    member.setOwned([], 'REBALANCING');
  });
  c.on(c.events.GROUP_JOIN, (e) =>
    member.setOwned(Object.values(e.payload.memberAssignment).flat() as number[], 'GROUP_JOIN'),
  );
  await c.connect();
  await c.subscribe({ topics: [topic] });
  void c.run({ autoCommit: false, eachMessage: async ({ partition }) => member.record(partition) });
  return { member, stop: () => c.disconnect() };
};

function platformatic(kind: 'eager' | 'cooperative' | 'kip848'): Starter {
  return async (topic, group, member) => {
    const c = new Consumer({
      clientId: `i16cmp-${member.name}`,
      bootstrapBrokers: brokers,
      groupId: group,
      autocommit: false,
      ...(kind === 'kip848'
        ? { groupProtocol: 'consumer' as const }
        : {
            sessionTimeout: 10000,
            heartbeatInterval: 500,
            protocols: [
              { name: kind === 'cooperative' ? 'cooperative-sticky' : 'roundrobin', version: 1 },
            ],
          }),
    });
    c.on('consumer:group:rebalance', () =>
      member.event('consumer:group:rebalance event (not awaited)'),
    );
    c.on('consumer:group:join', () => member.event('consumer:group:join event'));
    const poll = setInterval(() => {
      member.setOwned(
        (c.assignments ?? []).flatMap((a) => a.partitions),
        'assignments',
      );
    }, 10);
    const stream = await c.consume({ topics: [topic], mode: 'latest', autocommit: false });
    stream.on('data', (m) => member.record(m.partition));
    return {
      member,
      stop: async () => {
        clearInterval(poll);
        await stream.close();
        await c.close(true);
      },
    };
  };
}

function confluent(kind: 'eager' | 'cooperative' | 'kip848'): Starter {
  return async (topic, group, member) => {
    const { KafkaJS } = loadConfluent();
    const ck = new KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: KafkaJS.logLevel['NOTHING'] } });
    const c: CkjsConsumer = ck.consumer({
      kafkaJS: {
        groupId: group,
        autoCommit: false,
        ...(kind === 'kip848'
          ? {}
          : {
              sessionTimeout: 10000,
              heartbeatInterval: 500,
              partitionAssigners: [kind === 'cooperative' ? 'cooperative-sticky' : 'roundrobin'],
            }),
      },
      ...(kind === 'kip848' ? { 'group.protocol': 'consumer' } : {}),
      // Called (and awaited) before librdkafka applies the change: the place to commit.
      rebalance_cb: async (error: { code: number }, assignment: { partition: number }[]) => {
        const what =
          error.code === -175 ? 'assign' : error.code === -174 ? 'REVOKE' : `code ${error.code}`;
        member.event(`rebalance_cb ${what} [${assignment.map((a) => a.partition).join(',')}]`);
        if (error.code === -174) {
          member.revokeCallbacks++;
          const revoked = new Set(assignment.map((a) => a.partition));
          member.setOwned(
            [...member.owned].filter((p) => !revoked.has(p)),
            'after revoke',
          );
        }
      },
    });
    const poll = setInterval(() => {
      try {
        member.setOwned(
          c.assignment().map((a) => a.partition),
          'assignment()',
        );
      } catch {
        // Not connected yet.
      }
    }, 10);
    await c.connect();
    await c.subscribe({ topics: [topic] });
    void c.run({ eachMessage: async ({ partition }) => member.record(partition) });
    return {
      member,
      stop: async () => {
        clearInterval(poll);
        await c.disconnect();
      },
    };
  };
}

/** [variant, starter or why the client cannot, incremental protocol?] */
type Variant = [string, Starter | string, boolean];

const variants: Record<string, Variant[]> = {
  kafkajs: [
    ['eager round-robin', kafkajsEager, false],
    [
      'cooperative-sticky',
      'no cooperative assignor or owned-partitions protocol (kafkajs/src/consumer/assigners has roundRobinAssigner only; JoinGroup v5 with eager semantics)',
      true,
    ],
    [
      'KIP-848 consumer protocol',
      'no ConsumerGroupHeartbeat request (kafkajs/src/protocol/requests has no consumerGroupHeartbeat)',
      true,
    ],
  ],
  platformatic: [
    ['eager round-robin', platformatic('eager'), false],
    ['cooperative-sticky', platformatic('cooperative'), true],
    ['KIP-848 consumer protocol', platformatic('kip848'), true],
  ],
  confluent: [
    ['eager round-robin', confluent('eager'), false],
    ['cooperative-sticky', confluent('cooperative'), true],
    ['KIP-848 consumer protocol', confluent('kip848'), true],
  ],
};

async function probe(
  variant: string,
  start: Starter,
  incrementalProtocol: boolean,
): Promise<{ verdict: Verdict; text: string }> {
  const topic = uniqueName('rebalance');
  return withTopic(topic, partitions, async () => {
    const producer = kafka.producer();
    await producer.connect();
    let producing = true;
    const traffic = (async () => {
      while (producing) {
        await producer.send({
          topic,
          messages: Array.from({ length: partitions }, (_, p) => ({ partition: p, value: 'x' })),
        });
        await sleep(50);
      }
    })();
    let t0 = Number.POSITIVE_INFINITY;
    const members = [1, 2, 3].map((i) => new Member(`c${i}`, () => t0));
    const group = `${topic}-g`;
    const handles: Handle[] = [];
    try {
      handles.push(await start(topic, group, members[0] as Member));
      handles.push(await start(topic, group, members[1] as Member));
      const total = (ms: Member[]): number => ms.reduce((n, m) => n + m.owned.size, 0);
      await until(
        'c1 and c2 share the 6 partitions',
        () =>
          total(members.slice(0, 2)) === partitions &&
          members.slice(0, 2).every((m) => m.owned.size > 0),
        90_000,
      );
      await sleep(3000);
      const before = members.map((m) => new Set(m.owned));
      t0 = performance.now();
      for (const m of members) m.event('--- c3 starts ---');
      handles.push(await start(topic, group, members[2] as Member));
      await until(
        'c3 owns partitions and all 6 are owned',
        () => (members[2]?.owned.size ?? 0) > 0 && total(members) === partitions,
        90_000,
      );
      const settledAt = Math.round(performance.now() - t0);
      await sleep(3000);
      const lines: string[] = [];
      let kept = 0;
      let worstGap = 0;
      for (const [i, m] of members.slice(0, 2).entries()) {
        const keptParts = [...(before[i] ?? [])].filter((p) => m.owned.has(p) && !m.dropped.has(p));
        const revokedThenBack = [...(before[i] ?? [])].filter(
          (p) => m.owned.has(p) && m.dropped.has(p),
        );
        kept += keptParts.length;
        const gap = Math.max(0, ...keptParts.map((p) => m.gaps.get(p) ?? 0));
        worstGap = Math.max(worstGap, gap);
        lines.push(
          `${m.name} before [${[...(before[i] ?? [])].join(',')}] after [${[...m.owned].join(',')}], kept without revocation [${keptParts.join(',')}] (longest pause ${Math.round(gap)} ms), revoked and given back [${revokedThenBack.join(',')}]; ${m.revokeCallbacks} revoke callbacks; log: ${m.log.join(' | ')}`,
        );
      }
      lines.push(`c3 log: ${members[2]?.log.join(' | ')}`);
      // Each partition c3 took: when its old owner dropped it, when c3 had it.
      const handovers = [...(members[2]?.owned ?? [])].map((p) => {
        const from = members.slice(0, 2).find((_, i) => before[i]?.has(p));
        return `p${p} dropped by ${from?.name ?? '?'} at ${from?.droppedAt.get(p) ?? '?'} ms, owned by c3 at ${members[2]?.gainedAt.get(p) ?? '?'} ms`;
      });
      // Incremental if c1 and c2 kept some partitions without ever losing them, and those never
      // stopped for long (a record arrives on each every 50 ms).
      const incremental = kept > 0 && worstGap < 1000;
      return {
        verdict: incrementalProtocol ? (incremental ? 'PASS' : 'FAIL') : 'INFO',
        text: `${variant}: all 6 owned again ${settledAt} ms after c3 started; c1 and c2 kept ${kept} partitions without losing them, paused at most ${Math.round(worstGap)} ms; handovers: ${handovers.join('; ')}. ${lines.join(' || ')}`,
      };
    } finally {
      producing = false;
      await traffic.catch(() => undefined);
      await producer.disconnect();
      for (const h of handles.reverse()) await h.stop().catch(() => undefined);
    }
  });
}

for (const client of chosenClients())
  for (const [variant, start, incrementalProtocol] of variants[client] ?? []) {
    if (typeof start === 'string') {
      report(`${feature}/${variant.replaceAll(' ', '-')}`, client, 'UNSUPPORTED', start);
      continue;
    }
    try {
      const { verdict, text } = await probe(variant, start, incrementalProtocol);
      report(`${feature}/${variant.replaceAll(' ', '-')}`, client, verdict, text);
    } catch (error) {
      report(`${feature}/${variant.replaceAll(' ', '-')}`, client, 'ERROR', describeError(error));
    }
  }
process.exit(0);
