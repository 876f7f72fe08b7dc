import type { FetchedRecord } from '../../../src/kafka/index.ts';
import { eventually } from '../helpers.ts';
import { deliveredOf, describeMember, startMember } from './members.ts';
import { readWholeTopic, valuesOf } from './records.ts';
import type { ContractScope } from './scope.ts';

/** The values each partition handed over, in order. */
export type ValuesByPartition = Map<number, (string | null)[]>;

const values = (byPartition: Map<number, FetchedRecord[]>): ValuesByPartition =>
  new Map(
    [...byPartition]
      .filter(([, records]) => records.length > 0)
      .sort(([a], [b]) => a - b)
      .map(([p, records]) => [p, valuesOf(records)]),
  );

/**
 * Reads `topic` from its start through every read_committed reader of the contract at once (a
 * BatchConsumer member, the ChangelogReader, the TopicReader and a TopicFollower's bootstrap)
 * and returns what each handed over, per partition (partitions without records left out).
 * `expected` says when the group member is done: once it handed over each partition's last
 * expected value (it has no end of its own).
 */
export async function readCommittedByEveryReader(
  scope: ContractScope,
  topic: string,
  partitions: number,
  expected: ValuesByPartition,
): Promise<Record<string, ValuesByPartition>> {
  const all = Array.from({ length: partitions }, (_, partition) => partition);
  const member = async (): Promise<ValuesByPartition> => {
    const m = await startMember(scope, { groupId: scope.name('readers-member'), topics: [topic] });
    const last = (p: number): string | null | undefined => expected.get(p)?.at(-1);
    await eventually(
      () => `the group member to hand over every committed record (${describeMember('member', m)})`,
      async () =>
        all.every((p) => {
          const end = last(p);
          return (
            end === undefined || valuesOf(deliveredOf(m, { topic, partition: p })).includes(end)
          );
        })
          ? true
          : undefined,
      30_000,
      100,
    );
    await m.stop();
    return values(new Map(all.map((p) => [p, deliveredOf(m, { topic, partition: p })])));
  };
  const changelog = async (): Promise<ValuesByPartition> => {
    const read = new Map<number, FetchedRecord[]>();
    await scope.client.changelogReader().read(
      all.map((partition) => ({ topic, partition, from: '0' })),
      async (tp, records) =>
        void read.set(tp.partition, [...(read.get(tp.partition) ?? []), ...records]),
    );
    return values(read);
  };
  const follower = async (): Promise<ValuesByPartition> => {
    const read = new Map<number, FetchedRecord[]>();
    const f = scope.client.topicFollower(scope.name('readers-follower'));
    scope.defer(() => f.stop());
    await f.follow([topic], async (tp, records) => {
      read.set(tp.partition, [...(read.get(tp.partition) ?? []), ...records]);
    });
    await f.stop();
    return values(read);
  };
  const whole = async (): Promise<ValuesByPartition> =>
    values(await readWholeTopic(scope.client, topic));
  const [batchConsumer, changelogReader, topicReader, topicFollower] = await Promise.all([
    member(),
    changelog(),
    whole(),
    follower(),
  ]);
  return { batchConsumer, changelogReader, topicReader, topicFollower };
}
