// @confluentinc/kafka-javascript (librdkafka) through its KafkaJS-compatible API: an eachBatch
// consumer and an idempotent producer whose send() resolves on the delivery reports.
import { confluentPackage, confluentVersion, loadConfluent } from './confluent/load.ts';
import type { CkjsKafka } from './confluent/load.ts';
import { keyBuffers, valueOf } from './records.ts';
import { sendBounded } from './types.ts';
import type { BenchOptions, ClientBench, Measured } from './types.ts';

function kafka(options: BenchOptions): CkjsKafka {
  const { KafkaJS } = loadConfluent();
  return new KafkaJS.Kafka({
    kafkaJS: {
      clientId: 'tributary-clients-bench',
      brokers: options.brokers,
      logLevel: KafkaJS.logLevel['NOTHING'],
    },
  });
}

/**
 * Records per eachBatch call: the package's default is 32, and -1 hands over whatever is cached.
 * 1,000,000 records on 12 partitions (2026-12-05, one run each): 32: 152k/s, 1000: 168k/s,
 * 5000: 163k/s, -1: 127k/s. CKJS_MAX_BATCH overrides it, CKJS_CONSUMER_CONFIG (JSON) adds
 * librdkafka properties, for such trials.
 */
const maxBatchSize = Number(process.env['CKJS_MAX_BATCH'] ?? '1000');
const extraConsumerConfig = JSON.parse(process.env['CKJS_CONSUMER_CONFIG'] ?? '{}') as object;

async function consume(options: BenchOptions): Promise<Measured> {
  const consumer = kafka(options).consumer({
    kafkaJS: {
      groupId: options.groupId,
      fromBeginning: true,
      autoCommit: false,
      maxBytes: options.maxBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTimeInMs: 500,
    },
    'js.consumer.max.batch.size': maxBatchSize,
    ...extraConsumerConfig,
    // Assignment is reported through the rebalance callback: the time the consume timing starts.
    rebalance_cb: (error: { code: number }) => {
      if (error.code === -175) joinedAt ??= performance.now(); // ERR__ASSIGN_PARTITIONS
    },
  });
  let joinedAt: number | undefined;
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic] });
  let firstAt: number | undefined;
  let records = 0;
  let bytes = 0;
  const lastAt = await new Promise<number>((resolve, reject) => {
    consumer
      .run({
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
  // Its KafkaJS layer always partitions with librdkafka's murmur2_random (Java's murmur2 for
  // keyed records) and refuses createPartitioner.
  const producer = kafka(options).producer({
    kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false },
    'compression.codec': 'none',
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
    await producer.send({ topic: options.topic, messages });
  });
  const lastAt = performance.now();
  await producer.disconnect();
  return { firstAt, lastAt, records: options.records, bytes };
}

async function produceTransactional(options: BenchOptions): Promise<Measured> {
  const producer = kafka(options).producer({
    kafkaJS: {
      idempotent: true,
      acks: -1,
      transactionalId: options.transactionalId,
      allowAutoTopicCreation: false,
    },
    'compression.codec': 'none',
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
    await transaction.send({ topic: options.topic, messages });
    await transaction.commit();
  }
  const lastAt = performance.now();
  await producer.disconnect();
  return { firstAt, lastAt, records: options.records, bytes };
}

export const bench: ClientBench = {
  packageName: confluentPackage,
  version: confluentVersion(),
  consume,
  produce,
  produceTransactional,
};
