// kafkajs: eachBatch consumer, sendBatch-style idempotent producer.
import { Kafka, Partitioners, logLevel } from 'kafkajs';

import { keyBuffers, valueOf } from './records.ts';
import { sendBounded } from './types.ts';
import type { BenchOptions, ClientBench, Measured } from './types.ts';

function kafka(options: BenchOptions): Kafka {
  return new Kafka({
    clientId: 'tributary-clients-bench',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  });
}

async function consume(options: BenchOptions): Promise<Measured> {
  const consumer = kafka(options).consumer({
    groupId: options.groupId,
    maxBytes: options.maxBytes,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  let joinedAt: number | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt ??= performance.now()));
  let firstAt: number | undefined;
  let records = 0;
  let bytes = 0;
  const lastAt = await new Promise<number>((resolve, reject) => {
    consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          firstAt ??= performance.now();
          for (const message of batch.messages) {
            bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
            records++;
          }
          if (records >= options.records) resolve(performance.now());
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return {
    firstAt: firstAt ?? lastAt,
    lastAt,
    records,
    bytes,
    ...(joinedAt === undefined ? {} : { joinedAt }),
  };
}

async function produce(options: BenchOptions): Promise<Measured> {
  const producer = kafka(options).producer({
    createPartitioner: Partitioners.DefaultPartitioner, // Java's murmur2, as Tributary's
    idempotent: true, // implies acks -1
    maxInFlightRequests: options.inflight,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const keyAt = keyBuffers();
  let bytes = 0;
  const firstAt = performance.now();
  await sendBounded(options.records, options.batch, options.inflight, async (from, to) => {
    const messages = [];
    for (let seq = from; seq < to; seq++) {
      const key = keyAt(seq);
      const value = Buffer.from(valueOf(seq));
      bytes += key.length + value.length;
      messages.push({ key, value });
    }
    await producer.send({ topic: options.topic, acks: -1, messages });
  });
  const lastAt = performance.now();
  await producer.disconnect();
  return { firstAt, lastAt, records: options.records, bytes };
}

async function produceTransactional(options: BenchOptions): Promise<Measured> {
  const producer = kafka(options).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionalId: options.transactionalId,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const keyAt = keyBuffers();
  let bytes = 0;
  const firstAt = performance.now();
  for (let from = 0; from < options.records; from += options.transactionRecords) {
    const messages = [];
    for (
      let seq = from;
      seq < Math.min(options.records, from + options.transactionRecords);
      seq++
    ) {
      const key = keyAt(seq);
      const value = Buffer.from(valueOf(seq));
      bytes += key.length + value.length;
      messages.push({ key, value });
    }
    const transaction = await producer.transaction();
    await transaction.send({ topic: options.topic, acks: -1, messages });
    await transaction.commit();
  }
  const lastAt = performance.now();
  await producer.disconnect();
  return { firstAt, lastAt, records: options.records, bytes };
}

export const bench: ClientBench = {
  packageName: 'kafkajs',
  consume,
  produce,
  produceTransactional,
};
