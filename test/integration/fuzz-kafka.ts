// Kafka and process helpers of the fuzz test: sends in batches the broker accepts, reads a topic
// to its end offsets (committed records only), the windows oracle, and a process's peak RSS.
import { readFileSync } from 'node:fs';

import type { IHeaders } from 'kafkajs';

import type { FuzzReading } from './fixtures/fuzz-reading.ts';
import { flushTime, tenMinutes } from './fuzz-records.ts';
import type { BadRecord } from './fuzz-records.ts';
import { eventually, uniqueName } from './helpers.ts';
import { kafka } from './topics.ts';

export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

/**
 * Sends the records in order, in requests well under the broker's 1 MB message batch limit,
 * each acknowledged by every replica before the next: per partition, order as given.
 */
export async function sendInOrder(topic: string, records: RawRecord[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    let batch: RawRecord[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await producer.send({ topic, acks: -1, messages: batch });
      batch = [];
      bytes = 0;
    };
    for (const r of records) {
      const size = (r.key?.length ?? 0) + (r.value?.length ?? 0) + 64;
      if (bytes + size > 256 * 1024 || batch.length >= 500) await flush();
      batch.push(r);
      bytes += size;
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
}

function buffers(headers: IHeaders | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = Buffer.from(last);
  }
  return out;
}

/** Every committed record of a topic, read to the end offsets it has now. */
export async function readAll(topic: string): Promise<RawRecord[]> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  const ends = await admin.endOffsets(topic);
  await admin.disconnect();
  const records: RawRecord[] = [];
  const seen = new Set<string>();
  const positions = new Map<number, bigint>();
  const reached = (partition: number, lastOffset: string): void => {
    const next = BigInt(lastOffset) + 1n;
    if (next > (positions.get(partition) ?? 0n)) positions.set(partition, next);
  };
  const consumer = kafka.consumer({
    groupId: uniqueName('it-fuzz-read'),
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  // Batches of transaction markers only never reach eachBatch; kafkajs reports them here.
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const last = event.payload.lastOffset;
    if (last !== null && last !== undefined) reached(event.payload.partition, last);
  });
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const id = `${batch.partition}/${m.offset}`;
          const end = ends.get(batch.partition) ?? 0n;
          if (seen.has(id) || BigInt(m.offset) >= end) continue;
          seen.add(id);
          records.push({ key: m.key, value: m.value, headers: buffers(m.headers) });
        }
        reached(batch.partition, batch.lastOffset());
      },
    });
    await eventually(
      () => `${topic} read to its end offsets (${records.length} records)`,
      async () =>
        [...ends].every(([p, end]) => end === 0n || (positions.get(p) ?? 0n) >= end)
          ? true
          : undefined,
      120_000,
      250,
    );
    return records;
  } finally {
    await consumer.disconnect();
  }
}

/** The number of records a topic holds now (markers included: an upper bound under transactions). */
export async function endOffsetSum(topic: string): Promise<number> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  try {
    return [...(await admin.endOffsets(topic)).values()].reduce((n, o) => n + Number(o), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect();
  }
}

export interface WindowResult {
  key: string;
  start: number;
  end: number;
  value: { count: number; sum: number; min: number; max: number; mean: number };
}

/**
 * The 10-minute windows of the good readings, by key and start: computed here from what the
 * test sent, in the order it was sent. The flush readings' windows never close, so are left out.
 */
export function windowOracle(good: FuzzReading[]): Map<string, WindowResult> {
  const out = new Map<string, WindowResult>();
  for (const r of good) {
    if (r.time >= flushTime) continue;
    const start = r.time - (r.time % tenMinutes);
    const id = `${r.sensor}@${start}`;
    const w = out.get(id);
    if (w === undefined) {
      out.set(id, {
        key: r.sensor,
        start,
        end: start + tenMinutes,
        value: { count: 1, sum: r.celsius, min: r.celsius, max: r.celsius, mean: r.celsius },
      });
    } else {
      const v = w.value;
      v.count++;
      v.sum += r.celsius;
      v.min = Math.min(v.min, r.celsius);
      v.max = Math.max(v.max, r.celsius);
      v.mean = v.sum / v.count;
    }
  }
  return out;
}

/** A process's peak resident set (VmHWM), in MB, while it is alive. */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

const codeHeader = 'tributary.error.code';
const reasonHeader = 'tributary.error.reason';

const hex = (b: Buffer | null): string => (b === null ? 'null' : b.toString('hex'));
const identity = (r: { key: Buffer | null; value: Buffer | null }): string =>
  `${hex(r.key)}/${hex(r.value)}`;

/**
 * Each dead letter matched to one bad record sent with the same key and value bytes (records
 * with equal bytes are interchangeable), with a code that record may get. Returns what is wrong.
 */
export function matchLetters(sent: BadRecord[], letters: RawRecord[]): string[] {
  const problems: string[] = [];
  const waiting = new Map<string, BadRecord[]>();
  for (const b of sent) {
    const id = identity(b);
    waiting.set(id, [...(waiting.get(id) ?? []), b]);
  }
  for (const letter of letters) {
    const code = letter.headers[codeHeader]?.toString();
    const candidates = waiting.get(identity(letter)) ?? [];
    const match = candidates.find((b) => code !== undefined && b.codes.includes(code));
    if (match === undefined) {
      const kinds = candidates.map((b) => b.kind).join(',') || 'none sent';
      problems.push(
        `letter ${identity(letter).slice(0, 120)} code ${code} reason ${letter.headers[reasonHeader]?.toString()}: no bad record left with these bytes and that code (kinds: ${kinds})`,
      );
      continue;
    }
    candidates.splice(candidates.indexOf(match), 1);
  }
  for (const left of waiting.values())
    for (const b of left)
      problems.push(
        `${b.kind} record ${identity(b).slice(0, 120)} is not in the dead-letter topic`,
      );
  return problems;
}
