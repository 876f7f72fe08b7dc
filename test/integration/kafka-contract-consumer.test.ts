// The Kafka client contract (src/kafka/types.ts), BatchConsumer part: a group member's
// assignments, batches in offset order, commits, leaving the group, seeks, and what the
// handler's answers ('skip', 'halt', 'rejoin') do. Every adapter of kafka-contract/adapters.ts
// must pass it unchanged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { BatchConsumer, FetchedBatch, TopicPartition } from '../../src/kafka/index.ts';
import { eventually } from './helpers.ts';
import { adapters } from './kafka-contract/adapters.ts';
import {
  batchesOf,
  deliveredOf,
  describeMember,
  settledOwnership,
  startMember,
  tpKey,
} from './kafka-contract/members.ts';
import type { Member } from './kafka-contract/members.ts';
import { numbered, offsetsOf, valuesOf } from './kafka-contract/records.ts';
import { contractScope, outsideTheGroup } from './kafka-contract/scope.ts';

const partitionsOf = (topic: string, count: number): TopicPartition[] =>
  Array.from({ length: count }, (_, partition) => ({ topic, partition }));

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

/** Waits until `member` handled ('done') the records of `tp` up to offset `to` (exclusive). */
function handledUpTo(member: Member, tp: TopicPartition, to: number, name = 'member') {
  return eventually(
    () =>
      `${tp.topic}/${tp.partition} handled up to ${to} (${describeMember(name, member)}: ${offsetsOf(deliveredOf(member, tp)).join(',')})`,
    async () =>
      member.batches.some(
        ({ batch, result }) =>
          result === 'done' &&
          batch.topic === tp.topic &&
          batch.partition === tp.partition &&
          batch.records.some((r) => Number(r.offset) === to - 1),
      )
        ? true
        : undefined,
    30_000,
    100,
  );
}

/** A promise the test resolves: a handler that waits for it holds its batch in flight. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

for (const adapter of adapters) {
  describe(`Kafka contract: ${adapter.name}`, () => {
    describe('BatchConsumer', () => {
      it('shares a topic between two members, each partition owned by exactly one after their assignments, and hands each its records in offset order', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(4);
        const tps = partitionsOf(topic, 4);
        const groupId = scope.name('consumer-share');
        const first = await startMember(scope, { groupId, topics: [topic] });
        await settledOwnership({ first }, tps);
        const second = await startMember(scope, { groupId, topics: [topic] });
        await settledOwnership({ first, second }, tps);
        assert.ok((first.owned?.size ?? 0) > 0 && (second.owned?.size ?? 0) > 0, 'both own some');

        const producer = await scope.recordProducer();
        // Three sends, so that a partition's records come in more than one batch.
        for (let round = 0; round < 3; round++)
          await producer.send(
            tps.flatMap((tp) => numbered(topic, tp.partition, `p${tp.partition}r${round}`, 10)),
          );
        const owners = new Map(
          tps.map((tp) => [
            tp.partition,
            first.owned?.has(`${topic}/${tp.partition}`) ? first : second,
          ]),
        );
        for (const tp of tps) await handledUpTo(owners.get(tp.partition) as Member, tp, 30);
        for (const tp of tps) {
          const owner = owners.get(tp.partition) as Member;
          const other = owner === first ? second : first;
          assert.deepEqual(
            offsetsOf(deliveredOf(owner, tp)),
            range(0, 30),
            `offsets of ${tp.partition}`,
          );
          assert.deepEqual(
            valuesOf(deliveredOf(owner, tp)),
            [0, 1, 2].flatMap((round) => range(0, 10).map((i) => `p${tp.partition}r${round}-${i}`)),
          );
          assert.equal(
            deliveredOf(other, tp).length,
            0,
            `partition ${tp.partition} went to one member only`,
          );
        }
      });

      it('commits offsets that TopicAdmin reads back; a member that stops leaves the group and the other resumes its partitions from the committed offsets', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(2);
        const tps = partitionsOf(topic, 2);
        const groupId = scope.name('consumer-handover');
        // As the runtime does: commit the offset after each batch once it is handled.
        const committing = {
          groupId,
          topics: [topic],
          onBatch: async (batch: FetchedBatch, consumer: BatchConsumer) => {
            const last = batch.records[batch.records.length - 1];
            if (last !== undefined)
              await consumer.commit([
                {
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: String(Number(last.offset) + 1),
                },
              ]);
            return 'done' as const;
          },
        };
        const producer = await scope.recordProducer();
        await producer.send(
          tps.flatMap((tp) => numbered(topic, tp.partition, `before-${tp.partition}`, 5)),
        );
        const first = await startMember(scope, committing);
        await settledOwnership({ first }, tps);
        const second = await startMember(scope, committing);
        await settledOwnership({ first, second }, tps);
        const members = { first, second };
        const ownerOf = (tp: TopicPartition): Member =>
          first.owned?.has(`${topic}/${tp.partition}`) ? first : second;
        // Whatever either member had handled before the rebalance, each partition ends at 5.
        await eventually(
          () =>
            `offsets 5 committed (${Object.entries(members)
              .map(([n, m]) => describeMember(n, m))
              .join(' | ')})`,
          async () => {
            const committed = await scope.admin.committedOffsets(groupId, topic);
            return committed.get(0) === 5n && committed.get(1) === 5n ? true : undefined;
          },
        );
        assert.deepEqual(
          await scope.admin.committedOffsets(groupId, topic),
          new Map([
            [0, 5n],
            [1, 5n],
          ]),
        );
        const [leaving, staying] =
          ownerOf({ topic, partition: 0 }) === second ? [second, first] : [first, second];
        const moved = tps.filter((tp) => leaving.owned?.has(`${topic}/${tp.partition}`));
        assert.equal(moved.length, 1);
        await leaving.stop();
        await eventually('one member left in the group', async () =>
          (await scope.admin.groupMembers(groupId)).length === 1 ? true : undefined,
        );
        await settledOwnership({ staying }, tps);
        const tp = moved[0] as TopicPartition;
        const before = deliveredOf(staying, tp).length;
        await producer.send(
          tps.flatMap((p) => numbered(topic, p.partition, `after-${p.partition}`, 3)),
        );
        await handledUpTo(staying, tp, 8, 'staying');
        assert.deepEqual(
          offsetsOf(deliveredOf(staying, tp).slice(before)),
          [5, 6, 7],
          'the remaining member starts the moved partition at its committed offset',
        );
      });

      it("starts a partition over from its log start when the group's committed offset is past its end (a topic created anew), as auto.offset.reset=earliest", async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(1);
        const tp = { topic, partition: 0 };
        const groupId = scope.name('consumer-out-of-range');
        // The offset a group kept from an older topic of the same name: past this one's end.
        const tx = await scope.transactionalProducer(scope.name('consumer-out-of-range'));
        await tx.begin();
        await tx.sendOffsets(outsideTheGroup(groupId), [{ topic, partition: 0, offset: '100' }]);
        await tx.commit();
        await eventually('the committed offset', async () =>
          (await scope.admin.committedOffsets(groupId, topic)).get(0) === 100n ? true : undefined,
        );
        const producer = await scope.recordProducer();
        await producer.send(numbered(topic, 0, 'r', 3));
        const member = await startMember(scope, { groupId, topics: [topic] });
        await handledUpTo(member, tp, 3);
        assert.deepEqual(offsetsOf(deliveredOf(member, tp)), [0, 1, 2]);
      });

      it('stops only after the batch in flight returned', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(1);
        const held = gate();
        const events: string[] = [];
        const member = await startMember(scope, {
          groupId: scope.name('consumer-stop'),
          topics: [topic],
          onBatch: async () => {
            events.push('batch started');
            await held.wait;
            events.push('batch returned');
            return 'done';
          },
        });
        const producer = await scope.recordProducer();
        await producer.send(numbered(topic, 0, 'r', 3));
        await eventually('the batch to be in flight', async () =>
          events.length > 0 ? true : undefined,
        );
        const stopped = member.stop().then(() => events.push('stopped'));
        // Give a wrong stop time to resolve before the batch returns.
        await sleep(500);
        held.open();
        await stopped;
        assert.deepEqual(events, ['batch started', 'batch returned', 'stopped']);
      });

      it('after a seek, fetches the partition from the offset: batches fetched before are stale, later ones not', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(1);
        const tp = { topic, partition: 0 };
        const producer = await scope.recordProducer();
        await producer.send(numbered(topic, 0, 'r', 10));
        const held = gate();
        const staleness: [string, boolean | undefined][] = [];
        let calls = 0;
        const member = await startMember(scope, {
          groupId: scope.name('consumer-seek'),
          topics: [topic],
          onBatch: async (batch, consumer) => {
            calls++;
            const first = batch.records[0]?.offset ?? 'empty';
            staleness.push([`${first} on arrival`, batch.isStale?.()]);
            // (1) a seek while handling the first batch: it becomes stale at once
            if (calls === 1) {
              consumer.seek(tp, 3n);
              staleness.push([`${first} after seek to 3`, batch.isStale?.()]);
              return 'skip';
            }
            // (2) a seek from outside while the second batch waits: stale when it goes on
            if (calls === 2) {
              await held.wait;
              staleness.push([`${first} after seek to 6`, batch.isStale?.()]);
              return 'skip';
            }
            return 'done';
          },
        });
        await eventually(
          () => `the second batch (${describeMember('member', member)})`,
          async () => (calls >= 2 ? true : undefined),
        );
        member.consumer.seek(tp, 6n);
        held.open();
        await handledUpTo(member, tp, 10);
        // (3) a seek back while idle: the records from there are handed over again
        const handled = batchesOf(member, tp).length;
        member.consumer.seek(tp, 8n);
        await eventually(
          () => `records again from 8 (${member.events.join(', ')})`,
          async () => (batchesOf(member, tp).length > handled ? true : undefined),
        );
        await handledUpTo(member, tp, 10);
        const firsts = batchesOf(member, tp).map((b) => Number(b.records[0]?.offset));
        assert.deepEqual(
          firsts.slice(0, 3),
          [0, 3, 6],
          'each batch after a seek starts at its offset',
        );
        assert.equal(firsts[handled], 8, 'the batch after the seek back starts at 8');
        assert.deepEqual(
          offsetsOf(
            batchesOf(member, tp)
              .slice(2)
              .flatMap((b) => b.records),
          ),
          [...range(6, 10), 8, 9],
          'offsets handed over after the seeks',
        );
        assert.deepEqual(staleness.slice(0, 4), [
          ['0 on arrival', false],
          ['0 after seek to 3', true],
          ['3 on arrival', false],
          ['3 after seek to 6', true],
        ]);
        assert.ok(
          staleness.slice(4).every(([, stale]) => stale === false),
          `later batches are not stale: ${JSON.stringify(staleness)}`,
        );
      });

      it("'skip' leaves the batch unconsumed: its records come again and the partition goes on; the consumer commits nothing itself", async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(1);
        const tp = { topic, partition: 0 };
        const groupId = scope.name('consumer-skip');
        const producer = await scope.recordProducer();
        await producer.send(numbered(topic, 0, 'r', 5));
        let skipped = false;
        const member = await startMember(scope, {
          groupId,
          topics: [topic],
          onBatch: async () => {
            if (skipped) return 'done';
            skipped = true;
            return 'skip';
          },
        });
        await handledUpTo(member, tp, 5);
        await eventually(
          () => `the skipped records again (${member.events.join(', ')})`,
          async () =>
            batchesOf(member, tp).length >= 2 &&
            offsetsOf(deliveredOf(member, tp)).filter((o) => o === 4).length === 2
              ? true
              : undefined,
        );
        await producer.send(numbered(topic, 0, 'later', 3));
        await handledUpTo(member, tp, 8);
        const batches = member.batches.map(({ batch, result }) => [
          offsetsOf(batch.records),
          result,
        ]);
        assert.deepEqual(batches.slice(0, 2), [
          [range(0, 5), 'skip'],
          [range(0, 5), 'done'],
        ]);
        assert.deepEqual(offsetsOf(deliveredOf(member, tp).slice(10)), [5, 6, 7]);
        assert.deepEqual(
          await scope.admin.committedOffsets(groupId, topic),
          new Map(),
          'nothing committed',
        );
      });

      it("'halt' pauses the partition and leaves its batch unconsumed, while the other partitions go on", async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(2);
        const [halted, running] = partitionsOf(topic, 2) as [TopicPartition, TopicPartition];
        const member = await startMember(scope, {
          groupId: scope.name('consumer-halt'),
          topics: [topic],
          onBatch: async (batch) => (batch.partition === halted.partition ? 'halt' : 'done'),
        });
        const producer = await scope.recordProducer();
        await producer.send([...numbered(topic, 0, 'h', 3), ...numbered(topic, 1, 'r', 3)]);
        await handledUpTo(member, running, 3);
        await eventually('the batch of the halted partition', async () =>
          batchesOf(member, halted).length > 0 ? true : undefined,
        );
        // Two more rounds on both partitions: the running one gets them, the halted one nothing.
        for (const round of [1, 2]) {
          await producer.send([
            ...numbered(topic, 0, `h${round}`, 3),
            ...numbered(topic, 1, `r${round}`, 3),
          ]);
          await handledUpTo(member, running, 3 + round * 3);
        }
        assert.deepEqual(offsetsOf(deliveredOf(member, running)), range(0, 9));
        assert.deepEqual(
          batchesOf(member, halted).map((b) => offsetsOf(b.records)),
          [range(0, 3)],
          'the halted partition was handed over once, and not again',
        );
      });

      it("'rejoin' leaves the batch unconsumed and rejoins the group: a new assignment, then the batch again", async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(1);
        const tp = { topic, partition: 0 };
        let rejoined = false;
        const member = await startMember(scope, {
          groupId: scope.name('consumer-rejoin'),
          topics: [topic],
          onBatch: async () => {
            if (rejoined) return 'done';
            rejoined = true;
            return 'rejoin';
          },
        });
        const producer = await scope.recordProducer();
        await producer.send(numbered(topic, 0, 'r', 3));
        await eventually(
          () => `the batch again after a new assignment (${member.events.join(', ')})`,
          async () => (batchesOf(member, tp).length >= 2 ? true : undefined),
        );
        const at = `batch ${topic}/0@0`;
        const firstBatch = member.events.indexOf(at);
        assert.ok(
          member.events.slice(firstBatch + 1).indexOf('assigned') !== -1 &&
            member.events.lastIndexOf(at) > member.events.lastIndexOf('assigned'),
          `a new assignment, then the batch from offset 0 again: ${member.events.join(', ')}`,
        );
        assert.deepEqual(offsetsOf(batchesOf(member, tp)[1]?.records ?? []), range(0, 3));
      });
    });
  });
}

// Only the @platformatic/kafka adapter keeps its own fetch loop, so only it can tell a partition
// that stopped moving on (BatchConsumerHandlers.onStalled; kafkajs's loop is the library's).
for (const adapter of adapters.filter((a) => a.name === 'platformatic')) {
  describe(`BatchConsumer of ${adapter.name}: stalled partitions`, () => {
    it('reports a partition whose batch is not handled within the stall time, once per interval, and not after it moves on', async (t) => {
      const scope = await contractScope(t, adapter);
      const topic = await scope.createTopic(2);
      const held = gate();
      const member = await startMember(scope, {
        groupId: scope.name('consumer-stall'),
        topics: [topic],
        stallReportMs: 2000,
        // Partition 0's first batch is held; partition 1 goes on.
        onBatch: async (batch) => {
          if (batch.partition === 0 && batchesOf(member, { topic, partition: 0 }).length === 1)
            await held.wait;
          return 'done';
        },
      });
      await settledOwnership({ member }, partitionsOf(topic, 2));
      const producer = await scope.recordProducer();
      await producer.send([...numbered(topic, 0, 'a', 3), ...numbered(topic, 1, 'b', 3)]);
      await eventually(
        () => `a stall of ${topic}/0 reported (${JSON.stringify(member.stalls)})`,
        async () => (member.stalls.length > 0 ? true : undefined),
        20_000,
        100,
      );
      const [stall] = member.stalls;
      assert.equal(`${stall?.topic}/${stall?.partition}`, `${topic}/0`, 'the held partition');
      assert.ok((stall?.seconds ?? 0) >= 2, `stalled at least 2 s: ${stall?.seconds}`);
      assert.match(stall?.waiting ?? '', /the handling of its batch from offset 0/);
      held.open();
      await handledUpTo(member, { topic, partition: 0 }, 3);
      await handledUpTo(member, { topic, partition: 1 }, 3);
      // Moving on ends the stall: nothing more is reported.
      const reported = member.stalls.length;
      await sleep(5000);
      assert.equal(member.stalls.length, reported, JSON.stringify(member.stalls));
      assert.ok(
        member.stalls.every((s) => s.partition === 0),
        `partition 1 never stalled: ${JSON.stringify(member.stalls)}`,
      );
    });
  });
}

// Incremental (cooperative) rebalancing, KIP-429 on the classic protocol: only the
// @platformatic/kafka adapter's members are cooperative (kafkajs's are eager), so a group of
// both is tested too.
for (const adapter of adapters.filter((a) => a.name === 'platformatic')) {
  describe(`BatchConsumer of ${adapter.name}: incremental rebalancing`, () => {
    it('keeps handling the partitions a member keeps while the group rebalances, and hands a moving partition to its new owner only after its old owner let it go', async (t) => {
      const scope = await contractScope(t, adapter);
      const partitions = 6;
      const topic = await scope.createTopic(partitions);
      const tps = partitionsOf(topic, partitions);
      const groupId = scope.name('consumer-cooperative');
      // `slow` is eager and holds one batch when told: its JoinGroup then waits for that batch
      // (at most 5 s), and the group's rebalance with it.
      const held = gate();
      let hold = false;
      const slow = await startMember(scope, {
        groupId,
        topics: [topic],
        cooperative: false,
        onBatch: async () => {
          if (hold) {
            hold = false;
            await held.wait;
          }
          return 'done';
        },
      });
      const first = await startMember(scope, { groupId, topics: [topic] });
      await settledOwnership({ slow, first }, tps);
      const before = new Set(first.owned);

      // A record to every partition every 100 ms, for the whole test.
      const producer = await scope.recordProducer();
      let producing = true;
      let rounds = 0;
      const sent = (async () => {
        for (; producing; rounds++) {
          await producer.send(tps.flatMap((tp) => numbered(topic, tp.partition, `r${rounds}-`, 1)));
          await sleep(100);
        }
      })();
      await sleep(1500);
      hold = true;
      await eventually(
        () => 'slow holding a batch',
        async () => (hold ? undefined : true),
        10_000,
        50,
      );
      const joinedAt = Date.now();
      const second = await startMember(scope, { groupId, topics: [topic] });
      await settledOwnership({ slow, first, second }, tps, 60_000);
      held.open();
      await sleep(1000);
      producing = false;
      await sent;

      // (1) first's kept partitions: batches handed over while the group waited for slow, from
      // 1.5 s after second's JoinGroup (first has rejoined by then: it heartbeats every 500 ms)
      // until first heard of its new assignment. The eager protocol hands none over meanwhile.
      const rebalanced = first.assignedAt.find((at) => at > joinedAt) ?? Infinity;
      assert.ok(
        rebalanced - joinedAt > 3000,
        `the rebalance waited for slow: first's assignment came ${rebalanced - joinedAt} ms after second joined`,
      );
      const kept = [...before].filter((tp) => first.owned?.has(tp));
      assert.ok(kept.length > 0, `first keeps some of ${[...before].join(' ')}`);
      const during = first.batches.filter(
        ({ batch, began }) =>
          began > joinedAt + 1500 && began < rebalanced && kept.includes(tpKey(batch)),
      );
      assert.ok(
        during.length > 0,
        `first handled its kept partitions (${kept.join(' ')}) during the rebalance (${rebalanced - joinedAt} ms): ${describeMember('first', first)}`,
      );
      t.diagnostic(
        `first handled ${during.length} batches of its kept partitions during the ${rebalanced - joinedAt} ms rebalance`,
      );
      // (2) Each partition that went from first to second: second's first batch of it was
      // handed over after first's last one was answered.
      const moved = [...before].filter((tp) => second.owned?.has(tp));
      assert.ok(moved.length > 0, `some partition moved from first to second`);
      for (const key of moved) {
        const last = first.batches.filter(({ batch }) => tpKey(batch) === key).at(-1);
        const next = second.batches.find(({ batch }) => tpKey(batch) === key);
        assert.ok(last?.ended !== undefined && next !== undefined, `${key} handled by both`);
        assert.ok(
          next.began >= last.ended,
          `${key}: second began at ${next.began}, first's last batch ended at ${last.ended}`,
        );
      }
      // (3) Nothing lost: every partition's last record (one per round) reached its final owner.
      for (const tp of tps) {
        const owner = [slow, first, second].find((m) => m.owned?.has(tpKey(tp)));
        assert.ok(owner !== undefined, `${tpKey(tp)} owned`);
        await handledUpTo(owner, tp, rounds);
      }
    });
  });
}
