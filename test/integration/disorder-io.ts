// Kafka I/O of the disorder tests: publish readings with the project's producer, wait until an
// application has processed all of its input, and read a topic to its end, exactly. Nothing
// here waits a fixed time: the end of a run is known from committed offsets, not guessed.
import { eventually } from './helpers.ts';
import type { Reading } from './disorder-scenarios.ts';
import { kafka } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { uniqueName } from './helpers.ts';

/**
 * Publishes the readings in order with the project's record producer (idempotent, one request
 * in flight, Java's murmur2 partitioner): each partition's offsets follow the list's order, as
 * the oracle assumes. Record timestamps are the wall clock: the broker refuses timestamps more
 * than an hour ahead (log.message.timestamp.after.max.ms), and event time is in the payload.
 */
export async function publishReadings(
  topic: string,
  readings: Reading[],
  chunk = 5000,
  /** Called after each chunk with how many readings are out so far. */
  onChunk: (sent: number) => void = () => undefined,
): Promise<void> {
  const producer = kafka.recordProducer();
  await producer.connect();
  try {
    for (let i = 0; i < readings.length; i += chunk) {
      const records = readings.slice(i, i + chunk).map((r) => ({
        topic,
        key: Buffer.from(r.device),
        value: Buffer.from(JSON.stringify(r)),
        timestamp: Date.now(),
        headers: {},
      }));
      await producer.send(records);
      onChunk(i + records.length);
    }
  } finally {
    await producer.disconnect();
  }
}

/** Each partition's end offset (high watermark). */
export async function endOffsets(topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the application (consumer group `groupId`) has committed every partition of
 * `topic` up to its end. Whatever the records produced (results, dead letters) was written
 * before: at-least-once flushes outputs before committing offsets, and exactly-once commits
 * both in one transaction.
 */
export async function waitForCommitted(
  groupId: string,
  topic: string,
  timeoutMs: number,
  describe: () => string = () => '',
): Promise<void> {
  const ends = await endOffsets(topic);
  const admin = kafka.admin();
  await admin.connect();
  try {
    let committed = new Map<number, number>();
    await eventually(
      () =>
        `${groupId} to commit ${topic} to its end (${[...ends].map(([p, end]) => `${p}: ${committed.get(p) ?? -1}/${end}`).join(', ')}) ${describe()}`,
      async () => {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        committed = new Map(offsets?.partitions.map((p) => [p.partition, Number(p.offset)]));
        return [...ends].every(([p, end]) => committed.get(p) === end) ? true : undefined;
      },
      timeoutMs,
      500,
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Everything on `topic` up to the end offsets it has now: one fresh consumer reads until each
 * partition's last fetched offset (transaction markers and aborted records included) reaches its
 * end offset minus one. Read committed unless `uncommitted` (then aborted records too). Call it
 * once nothing writes the topic any more.
 */
export async function readToEnd(
  topic: string,
  options: { uncommitted?: boolean; timeoutMs?: number } = {},
): Promise<ReadRecord[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ends = await endOffsets(topic);
  const reached = new Map<number, number>();
  const records: ReadRecord[] = [];
  const seen = new Set<string>();
  const consumer = kafka.consumer({
    groupId: uniqueName('it-disorder-reader'),
    maxBytesPerPartition: 4 * 1024 * 1024,
    readUncommitted: options.uncommitted === true,
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const last = Number(payload.lastOffset);
    if (last > (reached.get(payload.partition) ?? -1)) reached.set(payload.partition, last);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        // A rebalance of the reader's own group may deliver a record again: once per position.
        const position = `${partition}/${message.offset}`;
        if (seen.has(position)) return;
        seen.add(position);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          const last = Array.isArray(value) ? value.at(-1) : value;
          if (last !== undefined) headers[name] = last.toString();
        }
        records.push({
          key: message.key?.toString() ?? null,
          value: message.value,
          partition,
          offset: message.offset,
          headers,
        });
      },
    });
    await eventually(
      () =>
        `${topic} to its end (${[...ends].map(([p, end]) => `${p}: ${reached.get(p) ?? -1}/${end - 1}`).join(', ')})`,
      async () =>
        [...ends].every(([p, end]) => end === 0 || (reached.get(p) ?? -1) >= end - 1)
          ? true
          : undefined,
      timeoutMs,
      200,
    );
    return records;
  } finally {
    await consumer.disconnect();
  }
}
