// The Kafka client contract (src/kafka/types.ts), TransactionalProducer part: what a commit and
// an abort show every read_committed reader, offsets sent in a transaction, fencing by
// transactional id, and interleaved transactions of several producers. Every adapter of
// kafka-contract/adapters.ts must pass it unchanged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyKafkaError } from '../../src/kafka/index.ts';
import { eventually } from './helpers.ts';
import { adapters } from './kafka-contract/adapters.ts';
import { settledOwnership, startMember } from './kafka-contract/members.ts';
import { readCommittedByEveryReader } from './kafka-contract/readers.ts';
import type { ValuesByPartition } from './kafka-contract/readers.ts';
import {
  endsReached,
  numbered,
  outgoing,
  readWholeTopic,
  valuesOf,
} from './kafka-contract/records.ts';
import { contractScope, outsideTheGroup } from './kafka-contract/scope.ts';

/** Asserts that every reader handed over exactly `expected`. */
function assertEveryReader(
  read: Record<string, ValuesByPartition>,
  expected: ValuesByPartition,
): void {
  for (const [reader, values] of Object.entries(read))
    assert.deepEqual(values, expected, `what the ${reader} handed over`);
}

for (const adapter of adapters) {
  describe(`Kafka contract: ${adapter.name}`, () => {
    describe('TransactionalProducer', () => {
      it('shows the records of a committed transaction to every read_committed reader, and hides those of an aborted one', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(2);
        const producer = await scope.transactionalProducer(scope.name('tx-visible'));
        assert.equal(producer.inTransaction, false);
        await producer.begin();
        await producer.begin();
        assert.equal(producer.inTransaction, true, 'begun once, open');
        assert.deepEqual(
          await producer.send([...numbered(topic, 0, 'c1p0', 3), ...numbered(topic, 1, 'c1p1', 2)]),
          new Map([
            [`${topic}/0`, 3n],
            [`${topic}/1`, 2n],
          ]),
          'offsets after the last record of each partition',
        );
        await producer.commit();
        assert.equal(producer.inTransaction, false, 'closed by the commit');
        await producer.begin();
        await producer.send([...numbered(topic, 0, 'a', 4), ...numbered(topic, 1, 'a', 4)]);
        await producer.abort();
        assert.equal(producer.inTransaction, false, 'closed by the abort');
        await producer.begin();
        // After the first commit's marker (3) and the aborted records and marker (4 to 8).
        assert.deepEqual(
          await producer.send(numbered(topic, 0, 'c2p0', 2)),
          new Map([[`${topic}/0`, 11n]]),
        );
        await producer.commit();
        await endsReached(scope.admin, topic, [12, 8]);
        const expected: ValuesByPartition = new Map([
          [0, ['c1p0-0', 'c1p0-1', 'c1p0-2', 'c2p0-0', 'c2p0-1']],
          [1, ['c1p1-0', 'c1p1-1']],
        ]);
        assertEveryReader(await readCommittedByEveryReader(scope, topic, 2, expected), expected);
      });

      it("stores a group's offsets sent in a committed transaction, and not those sent in an aborted one", async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(2);
        const groupId = scope.name('tx-offsets');
        const producer = await scope.transactionalProducer(scope.name('tx-offsets'));
        await producer.begin();
        await producer.send(numbered(topic, 0, 'r', 10));
        await producer.sendOffsets(outsideTheGroup(groupId), [
          { topic, partition: 0, offset: '5' },
          { topic, partition: 1, offset: '5' },
        ]);
        await producer.abort();
        await producer.begin();
        await producer.send(numbered(topic, 1, 'r', 1));
        await producer.sendOffsets(outsideTheGroup(groupId), [
          { topic, partition: 0, offset: '7' },
        ]);
        await producer.commit();
        // The commit's markers may land just after commit() resolves.
        await eventually('the committed offset', async () =>
          (await scope.admin.committedOffsets(groupId, topic)).get(0) === 7n ? true : undefined,
        );
        assert.deepEqual(
          await scope.admin.committedOffsets(groupId, topic),
          new Map([[0, 7n]]),
          'partition 1 was only in the aborted transaction',
        );
      });

      it("refuses offsets sent under a generation the group has moved past (KIP-447): a zombie member's transaction cannot commit them", async (t) => {
        const scope = await contractScope(t, adapter);
        const producer = await scope.transactionalProducer(scope.name('tx-generation'));
        const topic = await scope.createTopic(2);
        const tps = [0, 1].map((partition) => ({ topic, partition }));
        const groupId = scope.name('tx-generation');
        const committedOf = async (): Promise<bigint | undefined> =>
          (await scope.admin.committedOffsets(groupId, topic)).get(0);
        const committedReaches = (offset: bigint, what: string) =>
          eventually(what, async () => ((await committedOf()) === offset ? true : undefined));
        const first = await startMember(scope, { groupId, topics: [topic] });
        await settledOwnership({ first }, tps);
        const before = first.consumer.groupMetadata();
        assert.deepEqual(first.groups.at(-1), before, 'read in onAssignment: the same place');
        assert.equal(before.groupId, groupId);
        if (!producer.fencesStaleGenerations) {
          // A client that cannot send the generation (kafkajs: its sendOffsets takes the group id
          // only) must say so, and report none: the runtime then fences zombies by transactional
          // id alone and re-reads the committed offsets after fencing (task-registry.ts).
          assert.equal(before.generationId, -1, `${adapter.name} reports no generation`);
          return;
        }
        assert.ok(before.generationId >= 0, `a generation (${before.generationId})`);
        assert.notEqual(before.memberId, '', 'a member id');

        // Under the current generation: committed.
        await producer.begin();
        await producer.send(numbered(topic, 0, 'g1', 1));
        await producer.sendOffsets(before, [{ topic, partition: 0, offset: '1' }]);
        await producer.commit();
        await committedReaches(1n, 'the offset committed under the current generation');

        // A second member joins: the group moves to a newer generation.
        const second = await startMember(scope, { groupId, topics: [topic] });
        await settledOwnership({ first, second }, tps);
        const after = first.consumer.groupMetadata();
        assert.ok(
          after.generationId > before.generationId,
          `a newer generation (${before.generationId} -> ${after.generationId})`,
        );

        // Under the past generation (a zombie's, or a commit that crossed the rebalance): refused.
        await producer.begin();
        await producer.send(numbered(topic, 0, 'zombie', 1));
        const refused = await (async () => {
          try {
            await producer.sendOffsets(before, [{ topic, partition: 0, offset: '5' }]);
            await producer.commit();
          } catch (error) {
            return error;
          }
          return undefined;
        })();
        assert.ok(refused !== undefined, 'offsets under the past generation are refused');
        assert.equal(classifyKafkaError(refused), 'membership', String(refused));
        await producer.abort().catch(() => undefined);
        assert.equal(await committedOf(), 1n, 'nothing of the refused transaction committed');

        // Another task's producer, under the member's current generation: committed.
        const again = await scope.transactionalProducer(scope.name('tx-generation-2'));
        await again.begin();
        await again.send(numbered(topic, 0, 'g2', 1));
        await again.sendOffsets(after, [{ topic, partition: 0, offset: '3' }]);
        await again.commit();
        await committedReaches(3n, 'the offset committed under the newer generation');
      });

      it('fences an older producer of the same transactional id on connect: its open transaction is aborted and its commit refused', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(1);
        const transactionalId = scope.name('tx-fence');
        const old = await scope.transactionalProducer(transactionalId);
        await old.begin();
        await old.send([outgoing(topic, 'k', 'old owner', { partition: 0 })]);

        const successor = await scope.transactionalProducer(transactionalId);
        // Completed before connect resolved: the record and the abort marker are both there.
        assert.equal(
          (await scope.admin.endOffsets(topic)).get(0),
          2n,
          "the old owner's open transaction was completed (aborted) by the successor's connect",
        );
        await assert.rejects(old.commit(), 'the fenced producer cannot commit');
        await successor.begin();
        await successor.send([outgoing(topic, 'k', 'new owner', { partition: 0 })]);
        await successor.commit();
        await endsReached(scope.admin, topic, [4]);
        const read = await readWholeTopic(scope.client, topic);
        assert.deepEqual(valuesOf(read.get(0) ?? []), ['new owner']);
      });

      it('keeps every aborted transaction from every reader when transactions of several producers interleave on a partition', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(2);
        const [first, second, third] = await Promise.all(
          ['first', 'second', 'third'].map((name) =>
            scope.transactionalProducer(scope.name(`tx-interleaved-${name}`)),
          ),
        );
        if (first === undefined || second === undefined || third === undefined)
          throw new Error('three producers');
        for (const p of [first, second, third]) await p.begin();
        // In the log of partition 0: first's records, second's, third's, first's again; then
        // second is aborted, third committed, first aborted last (as a killed task's
        // transaction is, by its timeout), so that the broker lists the aborted transactions
        // in an order other than their first offsets. Partition 1 gets the same, the other way.
        await first.send(numbered(topic, 0, 'first', 3));
        await second.send(numbered(topic, 0, 'second', 2));
        await third.send(numbered(topic, 0, 'third', 2));
        await first.send([
          ...numbered(topic, 0, 'first-more', 2),
          ...numbered(topic, 1, 'first', 2),
        ]);
        await third.send(numbered(topic, 1, 'third', 2));
        await second.send(numbered(topic, 1, 'second', 2));
        await second.abort();
        await third.commit();
        await first.abort();
        await second.begin();
        await second.send([...numbered(topic, 0, 'last', 1), ...numbered(topic, 1, 'last', 1)]);
        await second.commit();
        // Every record and marker: 9 + 3 + 2 on partition 0, 6 + 3 + 2 on partition 1.
        await endsReached(scope.admin, topic, [14, 11]);
        const expected: ValuesByPartition = new Map([
          [0, ['third-0', 'third-1', 'last-0']],
          [1, ['third-0', 'third-1', 'last-0']],
        ]);
        assertEveryReader(await readCommittedByEveryReader(scope, topic, 2, expected), expected);
      });
    });
  });
}
