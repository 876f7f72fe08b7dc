import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { fetchedRange } from '../../src/kafka/changelog-reader.ts';
import type { FetchedMessageData, FetchedPartitionData } from '../../src/kafka/kafkajs.ts';

/** A record of a record batch that starts at `first` and ends at `first + delta`. */
function record(
  offset: number,
  batch: { first: number; delta: number; producer?: number; transactional?: boolean },
  control?: 'abort' | 'commit',
): FetchedMessageData {
  return {
    offset: String(offset),
    key:
      control === undefined
        ? Buffer.from(`k${offset}`)
        : Buffer.from([0, 0, 0, control === 'abort' ? 0 : 1]),
    value: Buffer.from(`v${offset}`),
    timestamp: '0',
    attributes: 0,
    headers: {},
    isControlRecord: control !== undefined,
    batchContext: {
      firstOffset: String(batch.first),
      lastOffsetDelta: batch.delta,
      producerId: batch.producer ?? -1,
      inTransaction: batch.transactional ?? false,
    },
  } as unknown as FetchedMessageData;
}

const offsets = (r: { records: { offset: string }[] }): number[] =>
  r.records.map((x) => Number(x.offset));

describe('fetchedRange: what one fetched partition gives a read', () => {
  it('hands over the records from the position to the end, and moves past the batches returned', () => {
    const batch = { first: 10, delta: 9 };
    const data: FetchedPartitionData = {
      partition: 0,
      messages: Array.from({ length: 10 }, (_, i) => record(10 + i, batch)),
    };
    const r = fetchedRange(data, 13n, 17n);
    assert.deepEqual(offsets(r), [13, 14, 15, 16]);
    assert.equal(r.next, 17n, 'never past the end');
    assert.equal(fetchedRange(data, 13n, 100n).next, 20n);
  });

  it('moves past a compacted batch by its header, not its last surviving record', () => {
    // Offsets 20..29 in one batch of which 20 and 23 survive compaction.
    const batch = { first: 20, delta: 9 };
    const r = fetchedRange(
      { partition: 0, messages: [record(20, batch), record(23, batch)] },
      20n,
      100n,
    );
    assert.deepEqual(offsets(r), [20, 23]);
    assert.equal(r.next, 30n);
  });

  it('skips aborted and control records but moves past them', () => {
    const aborted = { first: 0, delta: 2, producer: 7, transactional: true };
    const marker = { first: 3, delta: 0, producer: 7, transactional: true };
    const committed = { first: 4, delta: 1, producer: 8, transactional: true };
    const commitMarker = { first: 6, delta: 0, producer: 8, transactional: true };
    const data: FetchedPartitionData = {
      partition: 0,
      abortedTransactions: [{ firstOffset: '0', producerId: 7 }],
      messages: [
        record(0, aborted),
        record(1, aborted),
        record(2, aborted),
        record(3, marker, 'abort'),
        record(4, committed),
        record(5, committed),
        record(6, commitMarker, 'commit'),
      ],
    };
    const r = fetchedRange(data, 0n, 100n);
    assert.deepEqual(offsets(r), [4, 5]);
    assert.equal(r.next, 7n);
  });

  it('stays where it is when nothing came', () => {
    assert.deepEqual(fetchedRange({ partition: 0, messages: [] }, 5n, 9n), {
      records: [],
      next: 5n,
    });
  });
});
