import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createRecordsBatch, Reader, readRecordsBatches } from '@platformatic/kafka';
import type { RecordsBatch } from '@platformatic/kafka';

import { readRecordBatches } from '../../src/kafka/platformatic/fetch-response.ts';
import type { FetchedRecordBatch } from '../../src/kafka/platformatic/fetch-response.ts';
import { encodeRecordBatch } from '../../src/kafka/platformatic/produce-request.ts';
import type {
  ProduceMessage,
  ProduceOptions,
} from '../../src/kafka/platformatic/produce-request.ts';

const t0 = 1_780_000_000_000n;
const day = 86_400_000n;

/**
 * A partition's messages as real producers write them: null and empty keys, values across every
 * varint width of their length, headers (absent values too), timestamps out of order up to
 * ±10 days from the first.
 */
function messages(count: number, seed: number): ProduceMessage[] {
  const out: ProduceMessage[] = [];
  let s = seed;
  const random = (n: number) => {
    s = (s * 48271) % 2147483647;
    return s % n;
  };
  for (let i = 0; i < count; i++) {
    const size = [0, 1, 63, 64, 200, 8_191, 8_192, 70_000][random(8)] as number;
    const headers = new Map<Buffer, Buffer | null>();
    if (random(3) === 0) headers.set(Buffer.from('tributary-reason'), Buffer.from(`bad ${i}`));
    if (random(5) === 0) headers.set(Buffer.from('absent'), null);
    out.push({
      topic: 't',
      partition: 0,
      key: random(9) === 0 ? null : Buffer.from(random(7) === 0 ? '' : `device-${random(1000)}`),
      value: random(11) === 0 ? null : Buffer.alloc(size, i % 251),
      headers,
      timestamp: t0 + BigInt(random(20 * Number(day))) - 10n * day,
    });
  }
  return out;
}

/** The library's decoding, in our shape: what ours must equal. */
function libraryView(buffer: Buffer): FetchedRecordBatch[] {
  return readRecordsBatches(Reader.from(buffer)).map((b: RecordsBatch) => ({
    firstOffset: b.firstOffset,
    lastOffsetDelta: b.lastOffsetDelta,
    attributes: b.attributes,
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    firstTimestamp: Number(b.firstTimestamp),
    maxTimestamp: Number(b.maxTimestamp),
    records: b.records.map((r) => ({
      offsetDelta: r.offsetDelta,
      timestampDelta: Number(r.timestampDelta),
      key: r.key ?? null,
      value: r.value ?? null,
      headers: r.headers.map(([k, v]) => [k, v ?? null] as [Buffer, Buffer | null]),
    })),
  }));
}

/**
 * Field by field, so that a difference names its batch and record (a deep comparison's diff of
 * values up to 70 KB takes minutes to print).
 */
function assertSame(ours: FetchedRecordBatch[], theirs: FetchedRecordBatch[], label = ''): void {
  assert.equal(ours.length, theirs.length, `${label} batches`);
  ours.forEach((batch, b) => {
    const other = theirs[b] as FetchedRecordBatch;
    const { records: mine, ...head } = batch;
    const { records: expected, ...otherHead } = other;
    assert.deepEqual(head, otherHead, `${label} batch ${b}`);
    assert.equal(mine.length, expected.length, `${label} batch ${b}: records`);
    mine.forEach((record, r) => {
      const want = expected[r] as (typeof expected)[number];
      const where = `${label} batch ${b} record ${r}`;
      assert.equal(record.offsetDelta, want.offsetDelta, `${where}: offset delta`);
      assert.equal(record.timestampDelta, want.timestampDelta, `${where}: timestamp delta`);
      for (const field of ['key', 'value'] as const)
        assert.ok(
          record[field] === want[field] ||
            record[field]?.equals(want[field] ?? Buffer.alloc(0)) === true,
          `${where}: ${field}`,
        );
      assert.equal(record.headers.length, want.headers.length, `${where}: headers`);
      record.headers.forEach(([name, value], h) => {
        const [wantName, wantValue] = want.headers[h] as [Buffer, Buffer | null];
        assert.ok(name.equals(wantName), `${where}: header ${h} name`);
        assert.ok(
          value === wantValue || value?.equals(wantValue ?? Buffer.alloc(0)) === true,
          `${where}: header ${h} value`,
        );
      });
    });
  });
}

/** Batches one after the other, as a Fetch response's records field holds them. */
function concatenated(batches: Buffer[], offsets: bigint[]): Buffer {
  return Buffer.concat(
    batches.map((batch, i) => {
      const copy = Buffer.from(batch);
      copy.writeBigInt64BE(offsets[i] as bigint, 0); // the broker's base offset (not in the CRC)
      return copy;
    }),
  );
}

describe('our record-batch decoder (fetch-response.ts)', () => {
  const options: ProduceOptions[] = [
    {},
    { producerId: 4242n, producerEpoch: 3 },
    { producerId: 7n, producerEpoch: 12, transactionalId: 'app-0_1' },
  ];

  it('reads what the library reads: batches of every producer kind, offsets up to 2^53 and past', () => {
    const batches = options.map((o, i) => encodeRecordBatch(messages(300, 17 + i), o));
    for (const offsets of [
      [0n, 300n, 600n],
      [123_456_789n, 123_457_089n, 2n ** 40n],
      [2n ** 53n + 5n, 2n ** 60n, 2n ** 62n],
    ]) {
      const buffer = concatenated(batches, offsets);
      const ours = readRecordBatches(buffer);
      assert.equal(ours.length, 3);
      assertSame(ours, libraryView(buffer), `offsets ${offsets.join(' ')}`);
    }
  });

  it('reads compressed batches through the library, in the same shape', () => {
    const tried: string[] = [];
    for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      let compressed: Buffer;
      try {
        compressed = createRecordsBatch(messages(50, 5) as never, { compression }).buffer;
      } catch {
        continue; // an algorithm this Node or the library's optional packages lack
      }
      const plain = encodeRecordBatch(messages(20, 9), {});
      const buffer = concatenated([plain, compressed, plain], [0n, 20n, 70n]);
      const ours = readRecordBatches(buffer);
      assert.notEqual((ours[1]?.attributes ?? 0) & 0x07, 0, `${compression}: compressed`);
      tried.push(compression);
      assertSame(ours, libraryView(buffer), compression);
    }
    assert.ok(tried.includes('gzip'), `compressions read: ${tried.join(' ')}`);
  });

  it('leaves out a batch cut short at the end, as the library does', () => {
    const whole = concatenated(
      [encodeRecordBatch(messages(40, 3), {}), encodeRecordBatch(messages(40, 4), {})],
      [0n, 40n],
    );
    for (const cut of [whole.length - 1, whole.length - 500, whole.length / 2 + 11, 13, 5, 0]) {
      const buffer = whole.subarray(0, Math.floor(cut));
      assertSame(readRecordBatches(buffer), libraryView(buffer), `cut at ${cut}`);
    }
  });

  it('returns timestamps and offset deltas as the records were written', () => {
    const list = messages(100, 23);
    const [batch] = readRecordBatches(encodeRecordBatch(list, {}));
    assert.ok(batch !== undefined);
    assert.deepEqual(
      batch.records.map((r) => BigInt(batch.firstTimestamp + r.timestampDelta)),
      list.map((m) => m.timestamp),
    );
    assert.deepEqual(
      batch.records.map((r) => r.offsetDelta),
      list.map((_, i) => i),
    );
    assert.deepEqual(
      batch.records.map((r) => r.value),
      list.map((m) => m.value ?? null),
    );
  });
});
