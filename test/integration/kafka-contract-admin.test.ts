// The Kafka client contract (src/kafka/types.ts), TopicAdmin part: what the runtime and the tools
// rely on of an adapter's admin, against the real broker. Every adapter of
// kafka-contract/adapters.ts must pass it unchanged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { endpoints, eventually } from './helpers.ts';
import { adapters } from './kafka-contract/adapters.ts';
import { startMember } from './kafka-contract/members.ts';
import { outgoing } from './kafka-contract/records.ts';
import { contractScope } from './kafka-contract/scope.ts';

/** Kafka 4's defaults (KIP-937), which the local broker keeps. */
const kafka4Limits = { type: 'CreateTime', afterMaxMs: 3_600_000, beforeMaxMs: Infinity };

for (const adapter of adapters) {
  describe(`Kafka contract: ${adapter.name}`, () => {
    describe('TopicAdmin', () => {
      it('creates the absent topics with their partitions and config, leaves existing ones as they are, and counts partitions of existing topics only', async (t) => {
        const scope = await contractScope(t, adapter);
        const [first, second, third, absent] = ['a', 'b', 'c', 'absent'].map((p) =>
          scope.name(`admin-${p}`),
        ) as [string, string, string, string];
        for (const topic of [first, second, third]) scope.ownTopic(topic);
        const limited = {
          'message.timestamp.type': 'CreateTime',
          'message.timestamp.after.max.ms': '5000',
          'message.timestamp.before.max.ms': '60000',
        };
        await scope.admin.createTopics([
          { topic: first, partitions: 3, config: limited },
          { topic: second, partitions: 1 },
        ]);
        assert.deepEqual(
          await scope.admin.partitionCounts([first, second, absent]),
          new Map([
            [first, 3],
            [second, 1],
          ]),
        );
        assert.deepEqual(await scope.admin.partitionCounts([]), new Map());

        // Again, with other partitions and config for the existing topic, and one new topic.
        await scope.admin.createTopics([
          { topic: first, partitions: 5, config: { 'message.timestamp.type': 'LogAppendTime' } },
          { topic: third, partitions: 2 },
        ]);
        assert.deepEqual(
          await scope.admin.partitionCounts([first, second, third]),
          new Map([
            [first, 3],
            [second, 1],
            [third, 2],
          ]),
          'the existing topics kept their partitions',
        );
        const limits = await scope.admin.timestampLimits([first]);
        assert.deepEqual(
          limits.get(first),
          { type: 'CreateTime', afterMaxMs: 5000, beforeMaxMs: 60_000, from: 'topic' },
          'the first creation config holds, the second did not replace it',
        );
      });

      it("reads timestamp limits from a topic's config, Kafka 4's defaults for a topic without one, and the broker's for an absent topic", async (t) => {
        const scope = await contractScope(t, adapter);
        const limited = await scope.createTopic(1, {
          'message.timestamp.after.max.ms': '5000',
          'message.timestamp.before.max.ms': '60000',
        });
        const appendTime = await scope.createTopic(1, {
          'message.timestamp.type': 'LogAppendTime',
        });
        const plain = await scope.createTopic(1);
        const absent = scope.name('admin-absent');
        const limits = await scope.admin.timestampLimits([limited, appendTime, plain, absent]);
        assert.deepEqual(limits.get(limited), {
          type: 'CreateTime',
          afterMaxMs: 5000,
          beforeMaxMs: 60_000,
          from: 'topic',
        });
        assert.deepEqual(limits.get(appendTime), {
          ...kafka4Limits,
          type: 'LogAppendTime',
          from: 'topic',
        });
        assert.deepEqual(limits.get(plain), { ...kafka4Limits, from: 'topic' });
        // The local broker's configs can be read: an absent topic gets the broker's (Kafka 4's).
        assert.deepEqual(limits.get(absent), { ...kafka4Limits, from: 'broker' });
        assert.deepEqual(
          (await scope.admin.partitionCounts([absent])).size,
          0,
          'reading the limits of an absent topic did not create it',
        );
      });

      it('counts the brokers of the cluster', async (t) => {
        const scope = await contractScope(t, adapter);
        assert.equal(await scope.admin.brokerCount(), endpoints.kafkaBrokers.length);
      });

      it('reports the end offset of each partition, the next offset to be written', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(3);
        assert.deepEqual(
          await scope.admin.endOffsets(topic),
          new Map([
            [0, 0n],
            [1, 0n],
            [2, 0n],
          ]),
        );
        const producer = await scope.recordProducer();
        await producer.send([
          ...Array.from({ length: 4 }, (_, i) => outgoing(topic, 'k', `p0-${i}`, { partition: 0 })),
          ...Array.from({ length: 2 }, (_, i) => outgoing(topic, 'k', `p1-${i}`, { partition: 1 })),
        ]);
        assert.deepEqual(
          await scope.admin.endOffsets(topic),
          new Map([
            [0, 4n],
            [1, 2n],
            [2, 0n],
          ]),
        );
      });

      it('lists the live members of a group and the offsets they committed (partitions without a commit absent)', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(3);
        const groupId = scope.name('admin-group');
        assert.deepEqual(await scope.admin.groupMembers(groupId), [], 'an unknown group');
        assert.deepEqual(await scope.admin.committedOffsets(groupId, topic), new Map());

        const member = await startMember(scope, { groupId, topics: [topic] });
        await eventually('the member to be assigned', async () =>
          member.owned?.size === 3 ? true : undefined,
        );
        const members = await scope.admin.groupMembers(groupId);
        assert.equal(members.length, 1, JSON.stringify(members));
        assert.equal(members[0]?.clientId, scope.clientId);
        assert.match(members[0]?.host ?? '', /127\.0\.0\.1/, 'the host the member connects from');

        await member.consumer.commit([
          { topic, partition: 0, offset: '3' },
          { topic, partition: 2, offset: '0' },
        ]);
        assert.deepEqual(
          await scope.admin.committedOffsets(groupId, topic),
          new Map([
            [0, 3n],
            [2, 0n],
          ]),
        );
        await member.stop();
        assert.deepEqual(await scope.admin.groupMembers(groupId), [], 'the member left');
        assert.deepEqual(
          (await scope.admin.committedOffsets(groupId, topic)).get(0),
          3n,
          'the offsets outlive the member',
        );
      });

      it('moves the offsets of a group without members to the start of each partition or to the first record at or after a timestamp', async (t) => {
        const scope = await contractScope(t, adapter);
        const topic = await scope.createTopic(2);
        const groupId = scope.name('admin-seek');
        // Stamped in the past: partition 0 one record a second for 10 s, partition 1 for 3 s.
        const base = Date.now() - 600_000;
        const producer = await scope.recordProducer();
        await producer.send([
          ...Array.from({ length: 10 }, (_, i) =>
            outgoing(topic, 'k', `p0-${i}`, { partition: 0, timestamp: base + i * 1000 }),
          ),
          ...Array.from({ length: 3 }, (_, i) =>
            outgoing(topic, 'k', `p1-${i}`, { partition: 1, timestamp: base + i * 1000 }),
          ),
        ]);
        // Two seeks only: one takes kafkajs 5 s (it joins the group and waits for a fetch).
        const expectations: [Parameters<typeof scope.admin.seekGroup>[2], [number, bigint][]][] = [
          // Partition 0 has a record stamped exactly then; partition 1 none at or after: its end.
          [
            { timestamp: base + 4000 },
            [
              [0, 4n],
              [1, 3n],
            ],
          ],
          // (The log start is 0 here: the contract's admin cannot delete records to move it.)
          [
            'earliest',
            [
              [0, 0n],
              [1, 0n],
            ],
          ],
        ];
        for (const [to, offsets] of expectations) {
          const set = await scope.admin.seekGroup(groupId, topic, to);
          assert.deepEqual(set, new Map(offsets), `offsets set by a seek to ${JSON.stringify(to)}`);
          assert.deepEqual(
            await scope.admin.committedOffsets(groupId, topic),
            new Map(offsets),
            `offsets committed by a seek to ${JSON.stringify(to)}`,
          );
        }
      });

      it('deletes the topics that exist, waits until they are gone and returns them', async (t) => {
        const scope = await contractScope(t, adapter);
        const first = await scope.createTopic(2);
        const second = await scope.createTopic(1);
        const absent = scope.name('admin-absent');
        const deleted = await scope.admin.deleteTopics([first, absent, second]);
        assert.deepEqual([...deleted].sort(), [first, second].sort());
        assert.deepEqual(await scope.admin.partitionCounts([first, second]), new Map());
        assert.deepEqual(await scope.admin.deleteTopics([first, absent]), []);
      });

      it('connects through SASL with each mechanism of the client options, and is refused with a wrong password', async (t) => {
        const scope = await contractScope(t, adapter);
        const { username, password } = endpoints.kafkaSaslUser;
        for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
          const client = adapter.create({
            brokers: endpoints.kafkaSaslBrokers,
            clientId: scope.clientId,
            sasl: { mechanism, username, password },
          });
          const admin = client.topicAdmin();
          await admin.connect();
          try {
            assert.equal(await admin.brokerCount(), endpoints.kafkaBrokers.length, mechanism);
          } finally {
            await admin.disconnect();
          }
        }
        const refused = adapter
          .create({
            brokers: endpoints.kafkaSaslBrokers,
            clientId: scope.clientId,
            sasl: { mechanism: 'scram-sha-256', username, password: `${password}-wrong` },
          })
          .topicAdmin();
        await assert.rejects(async () => {
          await refused.connect();
          await refused.brokerCount();
        }, 'a wrong password is refused');
        await refused.disconnect().catch(() => undefined);
      });
    });
  });
}
