import { randomUUID } from 'node:crypto';

import type { KafkaClient } from '../../src/kafka/index.ts';

/** A record read back, headers as strings (the last value of a repeated header). */
export interface TopicRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, string>;
}

/**
 * Reads a whole topic, every partition from its start to the end offset it has when the read
 * starts (so a topic still written to ends), read_committed, with a group of its own that it
 * deletes afterwards. A topic that does not exist reads as empty (a dead-letter topic nobody
 * wrote to). Fails when nothing arrives for `quietMs` before the ends are reached.
 *
 * Batches of transaction markers or aborted records are never handed to eachBatch; kafkajs
 * still reports them (END_BATCH_PROCESS with their last offset), so positions pass them too.
 */
export async function readWholeTopic(
  client: KafkaClient,
  topic: string,
  quietMs = 30_000,
): Promise<TopicRecord[]> {
  const admin = client.admin();
  await admin.connect();
  const pending = new Map<number, { position: bigint; end: bigint }>();
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const low = BigInt(p.low);
      const end = BigInt(p.high);
      if (low < end) pending.set(p.partition, { position: low, end });
    }
  } finally {
    await admin.disconnect();
  }
  const records: TopicRecord[] = [];
  if (pending.size === 0) return records;

  const groupId = `tributary-verify-${process.pid}-${randomUUID()}`;
  const consumer = client.consumer({
    groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let lastProgress = Date.now();
  let finish: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const advance = (partition: number, next: bigint): void => {
    const state = pending.get(partition);
    if (state === undefined) return;
    if (next > state.position) state.position = next;
    lastProgress = Date.now();
    if (state.position >= state.end) pending.delete(partition);
    if (pending.size === 0) finish();
  };
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > quietMs)
      fail(
        new Error(
          `reading ${topic}: nothing arrived for ${quietMs} ms (${[...pending].map(([p, s]) => `partition ${p} at ${s.position} of ${s.end}`).join(', ')})`,
        ),
      );
  }, 500);
  try {
    await consumer.connect();
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const last = event.payload.lastOffset;
      if (last !== null && last !== undefined) advance(event.payload.partition, BigInt(last) + 1n);
    });
    consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const state = pending.get(batch.partition);
        if (state === undefined) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          // Each record once, and none appended after the read started.
          if (offset < state.position || offset >= state.end) continue;
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(m.headers ?? {})) {
            const last = Array.isArray(value) ? value[value.length - 1] : value;
            if (last !== undefined) headers[name] = last.toString();
          }
          records.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
            headers,
          });
          state.position = offset + 1n;
        }
        advance(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
    await finished;
  } finally {
    clearInterval(watchdog);
    await consumer.disconnect();
    const cleanup = client.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  // Stable: each partition's records stay in offset order.
  return records.sort((a, b) => a.partition - b.partition);
}
