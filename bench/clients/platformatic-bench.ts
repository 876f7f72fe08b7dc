// @platformatic/kafka: the MessagesStream consumer ('data' events), idempotent Producer.send.
import {
  CompressionAlgorithms,
  Consumer,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  compatibilityPartitioner,
} from '@platformatic/kafka';

import { keyBuffers, valueOf } from './records.ts';
import { sendBounded } from './types.ts';
import type { BenchOptions, ClientBench, Measured } from './types.ts';

const clientId = 'tributary-clients-bench';

async function consume(options: BenchOptions): Promise<Measured> {
  const consumer = new Consumer({
    clientId,
    bootstrapBrokers: options.brokers,
    groupId: options.groupId,
    autocommit: false,
    maxBytes: options.maxBytes,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxWaitTime: 500,
  });
  let joinedAt: number | undefined;
  consumer.on('consumer:group:join', () => (joinedAt ??= performance.now()));
  const stream = await consumer.consume({
    topics: [options.topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  });
  let firstAt: number | undefined;
  let records = 0;
  let bytes = 0;
  const lastAt = await new Promise<number>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', (message) => {
      firstAt ??= performance.now();
      bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
      if (++records === options.records) resolve(performance.now());
    });
  });
  await stream.close();
  await consumer.close();
  return {
    firstAt: firstAt ?? lastAt,
    lastAt,
    records,
    bytes,
    ...(joinedAt === undefined ? {} : { joinedAt }),
  };
}

async function produce(options: BenchOptions): Promise<Measured> {
  const producer = new Producer({
    clientId,
    bootstrapBrokers: options.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: CompressionAlgorithms.NONE,
    partitioner: compatibilityPartitioner, // Java's murmur2, as Tributary's (the default is not)
    autocreateTopics: false,
  });
  const keyAt = keyBuffers();
  let bytes = 0;
  const firstAt = performance.now();
  await sendBounded(options.records, options.batch, options.inflight, async (from, to) => {
    const messages = [];
    for (let seq = from; seq < to; seq++) {
      const key = keyAt(seq);
      const value = Buffer.from(valueOf(seq));
      bytes += key.length + value.length;
      messages.push({ topic: options.topic, key, value });
    }
    await producer.send({ messages });
  });
  const lastAt = performance.now();
  await producer.close();
  return { firstAt, lastAt, records: options.records, bytes };
}

async function produceTransactional(options: BenchOptions): Promise<Measured> {
  const producer = new Producer({
    clientId,
    bootstrapBrokers: options.brokers,
    idempotent: true,
    transactionalId: options.transactionalId,
    // Its default retryDelay is 1,000 ms, also before retrying a CONCURRENT_TRANSACTIONS answer
    // (the broker still completing the previous transaction). PLT_RETRY_DELAY_MS to try others.
    ...(process.env['PLT_RETRY_DELAY_MS'] === undefined
      ? {}
      : { retryDelay: Number(process.env['PLT_RETRY_DELAY_MS']) }),
    acks: ProduceAcks.ALL,
    compression: CompressionAlgorithms.NONE,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
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
      messages.push({ topic: options.topic, key, value });
    }
    const transaction = await producer.beginTransaction();
    await transaction.send({ messages });
    await transaction.commit();
  }
  const lastAt = performance.now();
  await producer.close();
  return { firstAt, lastAt, records: options.records, bytes };
}

export const bench: ClientBench = {
  packageName: '@platformatic/kafka',
  consume,
  produce,
  produceTransactional,
};
