// @confluentinc/kafka-javascript through its node-rdkafka layer (no KafkaJS-compatible wrapper):
// KafkaConsumer.consume(n) in a loop, Producer.produce() with delivery reports counted as they
// arrive. What an adapter written against the lower-level API would cost.
import { confluentPackage, confluentVersion, loadConfluent } from './confluent/load.ts';
import { keyBuffers, valueOf } from './records.ts';
import type { BenchOptions, ClientBench, Measured } from './types.ts';

interface RdClient {
  connect(options: object, cb: (error: unknown) => void): void;
  disconnect(cb: () => void): void;
  on(event: string, listener: (...args: never[]) => void): void;
}
interface RdConsumer extends RdClient {
  subscribe(topics: string[]): void;
  consume(n: number, cb: (error: unknown, messages: RdMessage[]) => void): void;
  setDefaultConsumeTimeout(ms: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void;
}
interface RdMessage {
  key?: Buffer | null;
  value: Buffer | null;
}
interface RdProducer extends RdClient {
  produce(
    topic: string,
    partition: number | null,
    value: Buffer,
    key: Buffer,
    timestamp: number,
  ): boolean;
  setPollInterval(ms: number): void;
  flush(timeout: number, cb: (error: unknown) => void): void;
}
interface RdModule {
  KafkaConsumer: new (
    conf: Record<string, unknown>,
    topicConf: Record<string, unknown>,
  ) => RdConsumer;
  Producer: new (conf: Record<string, unknown>, topicConf?: Record<string, unknown>) => RdProducer;
}

const rd = (): RdModule => loadConfluent() as unknown as RdModule;

const connect = (client: RdClient): Promise<void> =>
  new Promise((resolve, reject) => client.connect({}, (e) => (e ? reject(e) : resolve())));

async function consume(options: BenchOptions): Promise<Measured> {
  let joinedAt: number | undefined;
  const consumer = new (rd().KafkaConsumer)(
    {
      'bootstrap.servers': options.brokers.join(','),
      'group.id': options.groupId,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'fetch.max.bytes': options.maxBytes,
      'max.partition.fetch.bytes': options.maxBytesPerPartition,
      // librdkafka's default (1 s) pauses a partition's fetching whenever its queue holds
      // queued.min.messages: a single-partition read ran at 110k/s with it, 217k/s with 10 ms.
      'fetch.queue.backoff.ms': 10,
      rebalance_cb: true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  consumer.on('rebalance', ((error: { code: number }) => {
    if (error.code === -175) joinedAt ??= performance.now();
  }) as never);
  await connect(consumer);
  consumer.setDefaultConsumeTimeout(500);
  consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.subscribe([options.topic]);
  let firstAt: number | undefined;
  let records = 0;
  let bytes = 0;
  while (records < options.records) {
    const messages = await new Promise<RdMessage[]>((resolve, reject) =>
      consumer.consume(10_000, (e, m) => (e ? reject(e) : resolve(m))),
    );
    if (messages.length > 0) firstAt ??= performance.now();
    for (const m of messages) {
      bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
      records++;
    }
  }
  const lastAt = performance.now();
  await new Promise<void>((resolve) => consumer.disconnect(resolve));
  return {
    firstAt: firstAt ?? lastAt,
    lastAt,
    records,
    bytes,
    ...(joinedAt === undefined ? {} : { joinedAt }),
  };
}

async function produce(options: BenchOptions): Promise<Measured> {
  const producer = new (rd().Producer)({
    'bootstrap.servers': options.brokers.join(','),
    'enable.idempotence': true,
    acks: -1,
    'compression.codec': 'none',
    partitioner: 'murmur2_random', // Java's murmur2 for keyed records
    dr_cb: true,
  });
  let acknowledged = 0;
  let failure: unknown;
  producer.on('delivery-report', ((error: unknown) => {
    if (error) failure ??= error;
    acknowledged++;
  }) as never);
  await connect(producer);
  producer.setPollInterval(5);
  const keyAt = keyBuffers();
  const window = options.batch * options.inflight; // as many unacknowledged as the others allow
  let bytes = 0;
  const firstAt = performance.now();
  for (let seq = 0; seq < options.records; seq++) {
    while (seq - acknowledged >= window) await new Promise((r) => setTimeout(r, 1));
    if (failure !== undefined) throw failure;
    const key = keyAt(seq);
    const value = Buffer.from(valueOf(seq));
    bytes += key.length + value.length;
    producer.produce(options.topic, null, value, key, 0);
  }
  while (acknowledged < options.records) await new Promise((r) => setTimeout(r, 1));
  if (failure !== undefined) throw failure;
  const lastAt = performance.now();
  await new Promise<void>((resolve) => producer.disconnect(resolve));
  return { firstAt, lastAt, records: options.records, bytes };
}

async function produceTransactional(): Promise<Measured> {
  throw new Error('produce-txn is measured through the KafkaJS-compatible layer (confluent)');
}

export const bench: ClientBench = {
  packageName: confluentPackage,
  version: confluentVersion(),
  consume,
  produce,
  produceTransactional,
};
