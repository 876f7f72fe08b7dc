// What the feature probes share: topic set-up and tear-down through kafkajs's admin (any client
// would do), a loader of keyed records, names under the `i16cmp-` prefix, and the result line.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import { Kafka, logLevel } from 'kafkajs';

export const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
export const clientNames = ['kafkajs', 'platformatic', 'confluent'] as const;
export type ClientName = (typeof clientNames)[number];

/** --client a,b (default: all three). */
export function chosenClients(): ClientName[] {
  const { values } = parseArgs({ options: { client: { type: 'string' } }, strict: false });
  const wanted = typeof values.client === 'string' ? values.client.split(',') : clientNames;
  return clientNames.filter((c) => wanted.includes(c));
}

export const uniqueName = (what: string): string =>
  `i16cmp-${what}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;

export const kafka = new Kafka({
  clientId: 'i16cmp-probe',
  brokers,
  logLevel: logLevel.NOTHING,
});

export async function withTopic<T>(
  topic: string,
  partitions: number,
  body: () => Promise<T>,
): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions }],
    });
    return await body();
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** `count` records with keys k-<i> and values v-<i>, `partition` fixed or spread round-robin. */
export async function load(
  topic: string,
  count: number,
  partitions: number,
  partition?: number,
): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let from = 0; from < count; from += 2_000) {
    const messages = [];
    for (let i = from; i < Math.min(count, from + 2_000); i++)
      messages.push({
        key: `k-${i}`,
        value: `v-${i}-${'x'.repeat(180)}`,
        partition: partition ?? i % partitions,
      });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(
  what: string,
  condition: () => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export type Verdict = 'PASS' | 'FAIL' | 'UNSUPPORTED' | 'PARTIAL' | 'INFO' | 'ERROR';

/** The one line a probe prints per client: `<feature> <client> <VERDICT>: <what it observed>`. */
export function report(feature: string, client: string, verdict: Verdict, observed: string): void {
  console.log(`${feature} ${client} ${verdict}: ${observed}`);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const e = error as Error & { type?: string; code?: unknown; errors?: unknown[] };
    const inner = Array.isArray(e.errors)
      ? ` [${e.errors.map((x) => describeError(x)).join('; ')}]`
      : '';
    const cause = e.cause === undefined ? '' : ` (cause: ${describeError(e.cause)})`;
    return `${e.name}${e.type ? ` ${e.type}` : ''}${e.code !== undefined ? ` code=${String(e.code)}` : ''}: ${e.message}${inner}${cause}`;
  }
  return String(error);
}
