// One read_committed reader of read-committed.ts, in a process of its own: reads the probe's
// topic in a fresh group from the beginning until the record keyed `last`, prints the values.
// Clients load dynamically, so `kafkajs-tributary` gets kafkajs through src/kafka/kafkajs.ts
// (which must load before any other importer of kafkajs for its corrections to apply).
//
//   node --import tsx bench/clients/features/read-committed-reader.ts <reader> <topic>
const [readerName, topic] = process.argv.slice(2);
if (readerName === undefined || topic === undefined) throw new Error('usage: <reader> <topic>');
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const group = `${topic}-${readerName}`;
const partitionMaxBytes = 2 ** 20;

interface KafkajsLike {
  new (config: object): {
    consumer(config: object): {
      connect(): Promise<void>;
      disconnect(): Promise<void>;
      subscribe(s: object): Promise<void>;
      run(config: {
        eachMessage: (p: {
          message: { key: Buffer | null; value: Buffer | null };
        }) => Promise<void>;
      }): Promise<void>;
    };
  };
}

async function kafkajsRead(K: KafkajsLike): Promise<string[]> {
  const consumer = new K({ brokers, logLevel: 0 }).consumer({
    groupId: group,
    maxBytesPerPartition: partitionMaxBytes,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(message.value?.toString() ?? '');
          if (message.key?.toString() === 'last') resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return seen;
}

const readers: Record<string, () => Promise<string[]>> = {
  'kafkajs-raw': async () => kafkajsRead((await import('kafkajs')).Kafka as unknown as KafkajsLike),
  'kafkajs-tributary': async () => {
    const tributary = await import('../../../src/kafka/kafkajs.ts');
    if (!tributary.abortedFilterReplaced) throw new Error('the corrected filter was not installed');
    return kafkajsRead(tributary.Kafka as unknown as KafkajsLike);
  },
  platformatic: async () => {
    const { Consumer } = await import('@platformatic/kafka');
    const consumer = new Consumer({
      clientId: 'i16cmp-probe',
      bootstrapBrokers: brokers,
      groupId: group,
      autocommit: false,
      maxBytesPerPartition: partitionMaxBytes,
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('data', (m) => {
        seen.push(m.value?.toString() ?? '');
        if (m.key?.toString() === 'last') resolve();
      });
    });
    await stream.close();
    await consumer.close(true);
    return seen;
  },
  confluent: async () => {
    const { loadConfluent } = await import('../confluent/load.ts');
    const { KafkaJS } = loadConfluent();
    const ck = new KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: KafkaJS.logLevel['NOTHING'] } });
    const consumer = ck.consumer({
      kafkaJS: {
        groupId: group,
        fromBeginning: true,
        autoCommit: false,
        maxBytesPerPartition: partitionMaxBytes,
      },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.value?.toString() ?? '');
            if (message.key?.toString() === 'last') resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return seen;
  },
};

const reader = readers[readerName];
if (reader === undefined) throw new Error(`no reader ${readerName}`);
// Exit only once stdout has taken the (possibly large) line.
process.stdout.write(`${JSON.stringify(await reader())}\n`, () => process.exit(0));
