import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { crc32c, NumericMap, produceV11, Reader, readRecordsBatch } from '@platformatic/kafka';

import {
  createProduceRequestV11,
  encodeRecordBatch,
} from '../../src/kafka/platformatic/produce-request.ts';
import type {
  ProduceMessage,
  ProduceOptions,
} from '../../src/kafka/platformatic/produce-request.ts';

const day = 86_400_000n;
const t0 = 1_780_000_000_000n;

/**
 * Messages shaped like the adapter's sends: several topics and partitions interleaved, keys
 * null and empty, values of a few bytes to a few KiB (lengths across every varint width),
 * headers with absent values, a tombstone, timestamps out of order and up to 20 days apart.
 */
function messages(): ProduceMessage[] {
  const out: ProduceMessage[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 400; i++) {
    const size = [0, 1, 63, 64, 127, 128, 300, 8_191, 8_192, 20_000][i % 10] as number;
    const message: ProduceMessage = {
      topic: ['readings-out', 'tributary-app-store-changelog', '7'][i % 3] as string,
      partition: Math.floor(random() * 5),
      key: i % 17 === 0 ? null : Buffer.from(i % 13 === 0 ? '' : `device-${i}`),
      value: i % 29 === 0 ? null : Buffer.alloc(size, i % 251),
      headers: new Map(),
      timestamp: t0 + BigInt(Math.floor((random() - 0.3) * 20 * Number(day))),
    };
    if (i % 5 === 0)
      message.headers = new Map<Buffer, Buffer | null>([
        [Buffer.from('tributary-reason'), Buffer.from(`bad ${i}`)],
        [Buffer.from('empty'), null],
      ]);
    out.push(message);
  }
  return out;
}

const cases: [string, ProduceOptions][] = [
  ['idempotent', { producerId: 4242n, producerEpoch: 3, sequences: sequences() }],
  [
    'transactional',
    { producerId: 7n, producerEpoch: 12, sequences: sequences(), transactionalId: 'app-0_3' },
  ],
  ['plain', {}],
];

function sequences(): NumericMap {
  const map = new NumericMap();
  map.set('readings-out:2', 1_000_000);
  map.set('7:4', 2 ** 31 - 5);
  return map;
}

/** A deep copy, since the library's encoder writes timestamps back into its messages. */
const copy = (list: ProduceMessage[]): ProduceMessage[] =>
  list.map((m) => ({ ...m, headers: new Map(m.headers) }));

describe('our Produce v11 encoder (produce-request.ts)', () => {
  for (const [name, options] of cases)
    for (const acks of [-1, 1, 0])
      it(`writes the library's bytes: ${name}, acks ${acks}`, () => {
        const input = messages();
        const ours = createProduceRequestV11(acks, 30_000, copy(input), options);
        const theirs = (produceV11.createRequest as (...a: unknown[]) => typeof ours)(
          acks,
          30_000,
          copy(input),
          options,
        );
        assert.equal(ours.length, theirs.length);
        assert.ok(ours.buffer.equals(theirs.buffer), 'the request bytes differ');
        assert.equal(ours.context.noResponse, theirs.context.noResponse);
      });

  it('stamps records 24.8 days or more from the first right (the library does not)', () => {
    const list: ProduceMessage[] = [0n, 36n * day, -40n * day, 400n * day, 1n].map((d, i) => ({
      topic: 't',
      partition: 0,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      headers: new Map(),
      timestamp: t0 + d,
    }));
    const batch = readRecordsBatch(Reader.from(encodeRecordBatch(list, {})));
    assert.equal(batch.firstTimestamp, t0);
    assert.equal(batch.maxTimestamp, t0 + 400n * day);
    assert.deepEqual(
      batch.records.map((r) => batch.firstTimestamp + r.timestampDelta),
      list.map((m) => m.timestamp),
    );
    assert.deepEqual(
      batch.records.map((r) => r.offsetDelta),
      [0, 1, 2, 3, 4],
    );
  });

  it('writes a CRC-32C over attributes to the end, and the batch length after its field', () => {
    const input = messages().filter((m) => m.topic === '7' && m.partition === 4);
    const buffer = encodeRecordBatch(input, sequencesOnly());
    assert.equal(buffer.readInt32BE(8), buffer.length - 12);
    assert.equal(buffer.readUInt32BE(17), crc32c(buffer.subarray(21)));
    const batch = readRecordsBatch(Reader.from(buffer));
    assert.equal(batch.firstSequence, 2 ** 31 - 5);
    assert.equal(batch.records.length, input.length);
    batch.records.forEach((record, i) => {
      const message = input[i] as ProduceMessage;
      assert.deepEqual(record.key ?? null, message.key ?? null);
      assert.deepEqual(record.value ?? null, message.value ?? null);
    });
  });
});

function sequencesOnly(): ProduceOptions {
  return { sequences: sequences() };
}
