import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { maxTimestampDeltaMs, timestampSafePieces } from '../../src/kafka/platformatic/producer.ts';

const day = 86_400_000n;
const message = (partition: number, timestamp: bigint, n: number) => ({
  topic: 't',
  partition,
  key: Buffer.from(String(n)),
  value: Buffer.from(String(n)),
  timestamp,
});

describe('timestampSafePieces: record batches @platformatic/kafka stamps right', () => {
  it('keeps a send whole when every partition spans less than 2^31 ms', () => {
    const messages = [message(0, 0n, 1), message(1, 40n * day, 2), message(0, 20n * day, 3)];
    assert.deepEqual(timestampSafePieces(messages), [messages]);
  });

  it('splits, in order, where a partition would span 2^31 ms or more, either way', () => {
    const t0 = 1_800_000_000_000n;
    const messages = [
      message(0, t0, 1),
      message(0, t0 + 36n * day, 2), // 36 days after the first: its own piece
      message(0, t0 + 36n * day + 1n, 3),
      message(0, t0, 4), // 36 days before the piece's first: a new piece
    ];
    const pieces = timestampSafePieces(messages);
    assert.deepEqual(
      pieces.map((p) => p.map((m) => String(m.key))),
      [['1'], ['2', '3'], ['4']],
    );
    for (const piece of pieces) {
      const first = piece[0]?.timestamp ?? 0n;
      for (const m of piece) {
        const delta = (m.timestamp ?? 0n) - first;
        assert.ok(delta <= maxTimestampDeltaMs && delta >= -maxTimestampDeltaMs);
      }
    }
  });
});
