import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { RecordsBatch } from '@platformatic/kafka';

import { committedBatches } from '../../src/kafka/platformatic/aborted-filter.ts';
import { abortedLog, isMarker, randomLogs } from './aborted-log.ts';
import type { AbortedLog, LogMessage } from './aborted-log.ts';

const transactional = 0x10;
const control = 0x20;

/** One record batch of consecutive log entries of one producer. */
function batch(entries: LogMessage[]): RecordsBatch {
  const [first] = entries;
  if (first === undefined) throw new Error('an empty batch');
  return {
    firstOffset: BigInt(first.offset),
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes: transactional | (isMarker(first) ? control : 0),
    lastOffsetDelta: entries.length - 1,
    firstTimestamp: 0n,
    maxTimestamp: 0n,
    producerId: BigInt(first.batchContext.producerId),
    producerEpoch: 0,
    firstSequence: 0,
    records: entries.map((m, i) => ({
      length: 0,
      attributes: 0,
      timestampDelta: 0n,
      offsetDelta: i,
      key: m.key,
      value: Buffer.from(m.value),
      headers: [],
    })),
  };
}

/**
 * The log as a fetch response's record batches: one batch per entry, or (`merged`) the
 * consecutive records of one producer in one batch, as a producer's send writes them. A marker is
 * a batch of its own.
 */
function batchesOf(messages: LogMessage[], merged: boolean): RecordsBatch[] {
  const batches: LogMessage[][] = [];
  for (const m of messages) {
    const last = batches.at(-1);
    const head = last?.[0];
    const joins =
      merged &&
      head !== undefined &&
      !isMarker(head) &&
      !isMarker(m) &&
      head.batchContext.producerId === m.batchContext.producerId;
    if (joins) last?.push(m);
    else batches.push([m]);
  }
  return batches.map(batch);
}

const aborted = (log: Pick<AbortedLog, 'aborted'>) =>
  log.aborted.map((a) => ({
    firstOffset: BigInt(a.firstOffset),
    producerId: BigInt(a.producerId),
  }));

/** The values of the data records the filter keeps. */
function kept(messages: LogMessage[], log: Pick<AbortedLog, 'aborted'>, merged: boolean): string[] {
  return committedBatches(batchesOf(messages, merged), aborted(log)).flatMap((b) =>
    b.records.map((r) => r.value?.toString() ?? ''),
  );
}

describe("the platformatic adapter's filter of aborted transactions", () => {
  it('equals the oracle on random interleavings, from any fetch position, a batch per record or per send', () => {
    for (const { round, log, from, fetched } of randomLogs(300)) {
      for (const merged of [false, true]) {
        assert.deepEqual(kept(log.messages, log, merged), log.committed, `round ${round}`);
        assert.deepEqual(
          kept(fetched.messages, fetched, merged),
          fetched.committed,
          `round ${round} from ${from}${merged ? ', merged' : ''}`,
        );
      }
    }
  });

  it("drops both of a producer's aborted transactions in a row, which @platformatic/kafka's own filter lets the first through", () => {
    const plan = [
      { producer: '5', records: 2, outcome: 'abort' as const },
      { producer: '5', records: 2, outcome: 'abort' as const },
      { producer: '6', records: 1, outcome: 'commit' as const },
    ];
    const log = abortedLog(plan, [0, 0, 0, 2, 1, 1, 1, 2]);
    assert.deepEqual(log.committed, ['6-0']);
    assert.deepEqual(kept(log.messages, log, true), ['6-0']);
  });

  it('drops the records of an aborted transaction whose marker is beyond the fetch', () => {
    const plan = [
      { producer: '7', records: 3, outcome: 'abort' as const },
      { producer: '8', records: 2, outcome: 'commit' as const },
    ];
    const log = abortedLog(plan, [0, 1, 0, 1, 0, 1, 0]);
    // The fetch ends before producer 7's marker; the broker lists its transaction all the same.
    const fetched = log.messages.slice(0, 5);
    assert.deepEqual(kept(fetched, log, false), ['8-0', '8-1']);
  });

  it('keeps records written outside transactions and drops every marker', () => {
    const plain = {
      ...batch([
        {
          offset: '0',
          key: null,
          value: 'plain',
          batchContext: { producerId: '-1', inTransaction: false },
        },
      ]),
      attributes: 0,
    };
    const log = abortedLog([{ producer: '9', records: 1, outcome: 'commit' }], [0, 0]);
    const shifted = batchesOf(log.messages, false).map((b) => ({
      ...b,
      firstOffset: b.firstOffset + 1n,
    }));
    const result = committedBatches([plain, ...shifted], []);
    assert.deepEqual(
      result.flatMap((b) => b.records.map((r) => r.value?.toString())),
      ['plain', '9-0'],
    );
  });
});
