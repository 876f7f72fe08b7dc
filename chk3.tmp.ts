import { Kafka, logLevel } from 'kafkajs';
const kafka = new Kafka({ clientId: 'chk', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const a = kafka.admin(); await a.connect();
const g = process.argv[2]!, t = process.argv[3]!;
const [e] = await a.fetchOffsets({ groupId: g, topics: [t] });
const ends = await a.fetchTopicOffsets(t);
console.log(e!.partitions.sort((x, y) => x.partition - y.partition).map((p) => `${p.partition}:${p.offset}/${ends.find((x) => x.partition === p.partition)?.high}`).join(' '));
console.log(JSON.stringify((await a.describeGroups([g])).groups[0]?.state));
await a.disconnect();
