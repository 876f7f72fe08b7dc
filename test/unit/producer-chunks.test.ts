import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { OutgoingRecord } from '../../src/kafka/index.ts';
import { chunkBySize } from '../../src/kafka/producer.ts';

const record = (i: number, bytes: number): OutgoingRecord => ({
  topic: 't',
  partition: 0,
  key: Buffer.from(`k${i}`),
  value: Buffer.alloc(bytes),
  timestamp: 0,
  headers: {},
});

describe('producer chunks', () => {
  it('splits a large send into requests under the size limit, keeping the order', () => {
    const records = Array.from({ length: 50_000 }, (_, i) => record(i, 30));
    const chunks = chunkBySize(records, 512 * 1024);
    assert.ok(chunks.length > 1);
    assert.deepEqual(chunks.flat(), records);
    for (const chunk of chunks) {
      const bytes = chunk.reduce(
        (n, r) => n + 70 + (r.key?.length ?? 0) + (r.value?.length ?? 0),
        0,
      );
      assert.ok(bytes <= 512 * 1024, `chunk of ${bytes} bytes`);
    }
  });

  it('sends a record larger than the limit on its own', () => {
    const chunks = chunkBySize([record(1, 10), record(2, 2_000_000), record(3, 10)], 1024);
    assert.deepEqual(
      chunks.map((c) => c.length),
      [1, 1, 1],
    );
  });
});
