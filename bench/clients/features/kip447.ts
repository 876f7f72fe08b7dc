// KIP-447 probe: a transactional producer commits consumed offsets for group G with consumer A's
// group metadata (generation id, member id). Once A has lost its generation (another member
// joined and A missed the rebalance, or its generation moved on), a commit carrying A's old
// metadata must be refused by the group coordinator (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID or
// FENCED_INSTANCE_ID); a client that sends no generation (TxnOffsetCommit < v3) cannot be fenced.
//
//   node --import tsx bench/clients/features/kip447.ts [--client kafkajs,platformatic,confluent]
//
// 1. topic T (2 partitions, 10 records), consumer A joins G and takes a record.
// 2. control: producer P commits offset 1 of T-0 for G with A's metadata: must succeed.
// 3. A stalls (its handler does not return) or, for @platformatic/kafka, whose group membership
//    runs apart from the handler, keeps the record it took under the old generation.
// 4. consumer B joins G; the probe waits until B owns both partitions (A is out, or A's
//    generation has moved on).
// 5. P commits offset 2 of T-0 for G with A's (old) metadata: PASS if the coordinator refuses it.
import { Consumer, Producer, ProduceAcks } from '@platformatic/kafka';
import type { Message } from '@platformatic/kafka';

import { loadConfluent } from '../confluent/load.ts';
import type { CkjsConsumer } from '../confluent/load.ts';
import {
  brokers,
  chosenClients,
  describeError,
  kafka,
  load,
  report,
  sleep,
  uniqueName,
  until,
  withTopic,
} from './common.ts';

const feature = 'kip447-txn-offsets-fencing';
const sessionTimeout = 6000;
const rebalanceTimeout = 10000;

interface Outcome {
  control: string;
  zombie: string;
  zombieRefused: boolean;
  notes: string;
}

const fencingErrors = /ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|FENCED_INSTANCE_ID|generation|member/i;

async function outcome(commit: () => Promise<void>): Promise<string> {
  try {
    await commit();
    return 'committed';
  } catch (error) {
    return `refused: ${describeError(error)}`;
  }
}

async function probeKafkajs(topic: string, group: string): Promise<Outcome> {
  const a = kafka.consumer({ groupId: group, sessionTimeout, rebalanceTimeout });
  const b = kafka.consumer({ groupId: group, sessionTimeout, rebalanceTimeout });
  const producer = kafka.producer({
    transactionalId: `${group}-txn`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await Promise.all([a.connect(), b.connect(), producer.connect()]);
  let release = (): void => undefined;
  let taken = 0;
  try {
    await a.subscribe({ topics: [topic], fromBeginning: true });
    void a.run({
      autoCommit: false,
      eachMessage: async () => {
        taken++;
        // 3. A stalls: no heartbeat (kafkajs heartbeats from its fetch loop), no rejoin.
        await new Promise<void>((r) => (release = r));
      },
    });
    await until('A took a record', () => taken > 0);
    // The API takes a group id only: there is no consumer or metadata to pass.
    const commit = (offset: string) => async () => {
      const txn = await producer.transaction();
      await txn.sendOffsets({
        consumerGroupId: group,
        topics: [{ topic, partitions: [{ partition: 0, offset }] }],
      });
      await txn.commit();
    };
    const control = await outcome(commit('1'));
    let bPartitions = 0;
    b.on(b.events.GROUP_JOIN, (e) => {
      bPartitions = Object.values(e.payload.memberAssignment).flat().length;
    });
    await b.subscribe({ topics: [topic], fromBeginning: true });
    void b.run({ autoCommit: false, eachMessage: async () => undefined });
    await until('B owns both partitions', () => bPartitions === 2, 60_000);
    const zombie = await outcome(commit('2'));
    return {
      control,
      zombie,
      zombieRefused: zombie.startsWith('refused') && fencingErrors.test(zombie),
      notes:
        'sendOffsets({ consumerGroupId, topics }) takes no consumer; TxnOffsetCommit v0-v1 only ' +
        '(kafkajs/src/protocol/requests/txnOffsetCommit/v1/request.js: no generation_id/member_id)',
    };
  } finally {
    release();
    await Promise.allSettled([a.disconnect(), b.disconnect(), producer.disconnect()]);
  }
}

async function probePlatformatic(topic: string, group: string): Promise<Outcome> {
  const common = { clientId: 'i16cmp-probe', bootstrapBrokers: brokers };
  const a = new Consumer({
    ...common,
    groupId: group,
    sessionTimeout,
    rebalanceTimeout,
    autocommit: false,
  });
  const b = new Consumer({
    ...common,
    groupId: group,
    sessionTimeout,
    rebalanceTimeout,
    autocommit: false,
  });
  const producer = new Producer({
    ...common,
    idempotent: true,
    transactionalId: `${group}-txn`,
    acks: ProduceAcks.ALL,
  });
  try {
    const streamA = await a.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const first = await new Promise<Message>((resolve) => streamA.once('data', resolve));
    streamA.pause();
    const generationBefore = a.generationId;
    // A Message carries the consumer's group metadata as it was when the record was fetched.
    const asOffset = (message: Message, offset: bigint): Message =>
      ({ ...message, topic, partition: 0, offset: offset - 1n }) as Message;
    const commit = (message: Message) => async () => {
      const txn = await producer.beginTransaction();
      await txn.addConsumer(a);
      await txn.addOffset(message);
      await txn.commit();
    };
    const control = await outcome(commit(asOffset(first, 1n)));
    const streamB = await b.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    streamB.on('data', () => undefined);
    await until(
      'B assigned and A on a new generation',
      () =>
        (b.assignments?.flatMap((x) => x.partitions).length ?? 0) >= 1 &&
        a.generationId !== generationBefore,
      60_000,
    );
    const zombie = await outcome(commit(asOffset(first, 2n)));
    await streamB.close();
    await streamA.close();
    return {
      control,
      zombie,
      zombieRefused: zombie.startsWith('refused') && fencingErrors.test(zombie),
      notes:
        `A's generation ${generationBefore} -> ${a.generationId}; B owns ${JSON.stringify(b.assignments)}. ` +
        'Transaction.addOffset(message) sends message.metadata.consumer {generationId, memberId} ' +
        '(dist/clients/producer/producer.js kTransactionCommitOffset; TxnOffsetCommit v4 in ' +
        'dist/apis/producer/txn-offset-commit-v4.js); one request per addOffset call',
    };
  } finally {
    await Promise.allSettled([a.close(true), b.close(true), producer.close()]);
  }
}

async function probeConfluent(topic: string, group: string): Promise<Outcome> {
  const { KafkaJS } = loadConfluent();
  const ck = new KafkaJS.Kafka({
    kafkaJS: { brokers, clientId: 'i16cmp-probe', logLevel: KafkaJS.logLevel['NOTHING'] },
  });
  const consumerConfig = {
    kafkaJS: {
      groupId: group,
      fromBeginning: true,
      autoCommit: false,
      sessionTimeout,
      rebalanceTimeout,
    },
  };
  const a: CkjsConsumer = ck.consumer(consumerConfig);
  const b: CkjsConsumer = ck.consumer(consumerConfig);
  const producer = ck.producer({ kafkaJS: { transactionalId: `${group}-txn`, idempotent: true } });
  await Promise.all([a.connect(), b.connect(), producer.connect()]);
  let release = (): void => undefined;
  let taken = 0;
  try {
    await a.subscribe({ topics: [topic] });
    void a.run({
      eachMessage: async () => {
        taken++;
        // 3. A stalls: librdkafka keeps heartbeating, but the rebalance callback runs only when
        //    the JS layer polls again, so A cannot take part in the next rebalance.
        await new Promise<void>((r) => (release = r));
      },
    });
    await until('A took a record', () => taken > 0);
    const commit = (offset: string) => async () => {
      const txn = await producer.transaction();
      await txn.sendOffsets({
        consumer: a,
        topics: [{ topic, partitions: [{ partition: 0, offset }] }],
      });
      await txn.commit();
    };
    const control = await outcome(commit('1'));
    await b.subscribe({ topics: [topic] });
    void b.run({ eachMessage: async () => undefined });
    const started = Date.now();
    await until('B owns both partitions', () => b.assignment().length === 2, 60_000);
    const waited = Date.now() - started;
    const zombie = await outcome(commit('2'));
    return {
      control,
      zombie,
      zombieRefused: zombie.startsWith('refused') && fencingErrors.test(zombie),
      notes:
        `B owned both partitions ${waited} ms after joining. sendOffsets({ consumer, topics }) ` +
        'sends the consumer group metadata read at call time (src/producer.cc: ' +
        'KafkaConsumer::groupMetadata()); TxnOffsetCommit v3 with generation_id, member_id, ' +
        'group_instance_id (deps/librdkafka/src/rdkafka_txnmgr.c, ' +
        'rd_kafka_txn_send_TxnOffsetCommitRequest)',
    };
  } finally {
    release();
    await sleep(100);
    await Promise.allSettled([a.disconnect(), b.disconnect(), producer.disconnect()]);
  }
}

const probes = {
  kafkajs: probeKafkajs,
  platformatic: probePlatformatic,
  confluent: probeConfluent,
};

for (const client of chosenClients()) {
  const topic = uniqueName(`kip447-${client}`);
  try {
    const o = await withTopic(topic, 2, async () => {
      await load(topic, 10, 2);
      return probes[client](topic, `${topic}-g`);
    });
    const verdict = !o.control.startsWith('committed')
      ? 'ERROR'
      : o.zombieRefused
        ? 'PASS'
        : 'FAIL';
    report(
      feature,
      client,
      verdict,
      `control commit: ${o.control}; commit with A's old metadata after B joined: ${o.zombie}. ${o.notes}`,
    );
  } catch (error) {
    report(feature, client, 'ERROR', describeError(error));
  }
}
process.exit(0);
