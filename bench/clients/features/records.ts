// Record-level probe: each client produces 200 keyed records to a 12-partition topic of its own,
// idempotent and acks=all, with its Java-compatible partitioner, a header and an explicit
// timestamp per record; a kafkajs reader then checks, per record, that the partition is the one
// Java's murmur2 gives (src/kafka/partitioner.ts, verified against kafka-clients 4.1.1 and kcat),
// that the header and the timestamp came through. @platformatic/kafka's default partitioner is
// checked too (its docs say it is not Java's).
//
//   node --import tsx bench/clients/features/records.ts [--client ...]
import {
  ProduceAcks,
  Producer,
  compatibilityPartitioner,
  defaultPartitioner,
} from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';

import { partitionForKey } from '../../../src/kafka/partitioner.ts';
import { loadConfluent } from '../confluent/load.ts';
import {
  brokers,
  chosenClients,
  describeError,
  kafka,
  report,
  uniqueName,
  until,
  withTopic,
} from './common.ts';

const partitions = 12;
const count = 200;
const baseTimestamp = 1_700_000_000_000;
const keyOf = (i: number): string => `sensor-${i * 7919}`;

type Writer = (topic: string) => Promise<string>;

const writers: Record<string, Writer> = {
  kafkajs: async (topic) => {
    const producer = kafka.producer({
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({
        key: keyOf(i),
        value: `v${i}`,
        headers: { probe: keyOf(i) },
        timestamp: String(baseTimestamp + i),
      })),
    });
    await producer.disconnect();
    return 'Partitioners.DefaultPartitioner, idempotent';
  },
  platformatic: async (topic) => platformaticWrite(topic, compatibilityPartitioner),
  'platformatic-default-partitioner': async (topic) => platformaticWrite(topic, defaultPartitioner),
  confluent: async (topic) => {
    const { KafkaJS } = loadConfluent();
    const ck = new KafkaJS.Kafka({
      kafkaJS: { brokers, logLevel: KafkaJS.logLevel['NOTHING'] },
    });
    const producer = ck.producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({
        key: keyOf(i),
        value: `v${i}`,
        headers: { probe: keyOf(i) },
        timestamp: String(baseTimestamp + i),
      })),
    });
    await producer.disconnect();
    return 'KafkaJS layer (partitioner fixed to murmur2_random), idempotent';
  },
};

async function platformaticWrite(
  topic: string,
  partitioner: typeof compatibilityPartitioner,
): Promise<string> {
  const producer = new Producer({
    clientId: 'i16cmp-probe',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner,
  });
  await producer.send({
    messages: Array.from({ length: count }, (_, i) => ({
      topic,
      key: Buffer.from(keyOf(i)),
      value: Buffer.from(`v${i}`),
      headers: new Map([[Buffer.from('probe'), Buffer.from(keyOf(i))]]),
      timestamp: BigInt(baseTimestamp + i),
    })),
  });
  await producer.close();
  return `${partitioner === compatibilityPartitioner ? 'compatibilityPartitioner' : 'defaultPartitioner'}, idempotent`;
}

interface Seen {
  key: string;
  partition: number;
  header: string | undefined;
  timestamp: string;
}

async function readBack(topic: string): Promise<Seen[]> {
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen: Seen[] = [];
  void consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({
        key: message.key?.toString() ?? '',
        partition,
        header: message.headers?.['probe']?.toString(),
        timestamp: message.timestamp,
      });
    },
  });
  await until('all records read back', () => seen.length >= count, 60_000);
  await consumer.disconnect();
  return seen;
}

const wanted = chosenClients();
for (const [name, write] of Object.entries(writers)) {
  if (!wanted.some((c) => name.startsWith(c))) continue;
  const topic = uniqueName(`records-${name}`);
  try {
    await withTopic(topic, partitions, async () => {
      const how = await write(topic);
      const seen = await readBack(topic);
      const misplaced = seen.filter((s) => s.partition !== partitionForKey(s.key, partitions));
      const noHeader = seen.filter((s) => s.header !== s.key);
      const index = (s: Seen): number => Number(s.key.slice('sensor-'.length)) / 7919;
      const badTime = seen.filter((s) => s.timestamp !== String(baseTimestamp + index(s)));
      const ok = misplaced.length === 0 && noHeader.length === 0 && badTime.length === 0;
      report(
        'records-partitioner-headers-timestamps',
        name,
        ok ? 'PASS' : 'FAIL',
        `${how}: ${seen.length} records read back; ${count - misplaced.length}/${count} on Java murmur2's partition` +
          `${misplaced.length > 0 ? ` (e.g. ${misplaced[0]?.key} on ${misplaced[0]?.partition}, Java: ${partitionForKey(misplaced[0]?.key ?? '', partitions)})` : ''}` +
          `; headers intact ${count - noHeader.length}/${count}; timestamps intact ${count - badTime.length}/${count}`,
      );
    });
  } catch (error) {
    report('records-partitioner-headers-timestamps', name, 'ERROR', describeError(error));
  }
}
process.exit(0);
