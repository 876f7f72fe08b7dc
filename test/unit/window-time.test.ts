import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { parseWindowKey, streamTimeKey, windowKey } from '../../src/operators/index.ts';
import { hopping, summary, tumbling } from '../../src/topology/index.ts';
import { windowStarts } from '../../src/topology/window-starts.ts';
import { aggregateSpec, Harness, windowed } from './window-fixtures.ts';

const lateRecord = (pattern: RegExp) => (error: unknown) =>
  error instanceof TributaryError && error.code === 'LATE_RECORD' && pattern.test(error.message);

/** Counts per key in 10 s tumbling windows with 5 s grace. */
const tumblingCount = (emit: 'final' | 'updates' = 'final', idleTimeoutMs?: number) =>
  aggregateSpec((g) =>
    g
      .windowedBy(tumbling(10_000, { grace: 5_000 }))
      .count({ store: 'counts', name: 'agg', emit, ...(idleTimeoutMs ? { idleTimeoutMs } : {}) }),
  );

describe('window math', () => {
  it('finds the windows that contain a timestamp, none before the epoch', () => {
    assert.deepEqual(windowStarts(12_000, 10_000, 10_000, 0), [10_000]);
    assert.deepEqual(windowStarts(10_000, 10_000, 10_000, 0), [10_000]);
    assert.deepEqual(windowStarts(9_999, 10_000, 10_000, 0), [0]);
    assert.deepEqual(windowStarts(12_000, 10_000, 5_000, 0), [5_000, 10_000]);
    assert.deepEqual(windowStarts(15_000, 10_000, 3_000, 0), [6_000, 9_000, 12_000, 15_000]);
    assert.deepEqual(windowStarts(2_000, 10_000, 5_000, 0), [0]);
  });

  it('encodes a window store key as the key bytes and an 8-byte big-endian start', () => {
    const start = 1_700_000_000_000;
    const key = windowKey(Buffer.from('abc'), start);
    assert.equal(key.length, 11);
    assert.equal(key.readBigUInt64BE(3), BigInt(start));
    assert.deepEqual(parseWindowKey(key), { keyBytes: Buffer.from('abc'), start });
    assert.deepEqual(streamTimeKey, Buffer.from([0xff]));
  });
});

describe('tumbling and hopping windows', () => {
  it('emits each window once when the watermark passes its end, out-of-order records included', () => {
    const h = new Harness(tumblingCount());
    h.send('a', 1_000);
    h.send('a', 12_000);
    h.send('a', 9_000); // out of order, within the grace of [0, 10 s)
    h.send('b', 3_000);
    assert.deepEqual(h.take(), []);
    h.send('a', 14_999); // stream time 14.999 s: [0, 10 s) closes at 10 s + 5 s grace
    assert.deepEqual(h.take(), []);
    h.send('a', 15_000);
    assert.deepEqual(h.take().map(windowed), [
      ['a', 0, 10_000, 2, 9_999],
      ['b', 0, 10_000, 1, 9_999],
    ]);
    h.send('c', 40_000);
    assert.deepEqual(h.take().map(windowed), [['a', 10_000, 20_000, 3, 19_999]]);
    // Closed windows are deleted: the store holds the open one and the stream time.
    assert.equal(h.store.size, 2);
    assert.deepEqual(h.store.get(streamTimeKey), { streamTime: 40_000 });
  });

  it('rejects a record later than the grace period with LATE_RECORD and changes nothing', () => {
    const h = new Harness(tumblingCount());
    h.send('a', 1_000);
    h.send('a', 16_000);
    assert.equal(h.take().length, 1);
    const before = [...h.store.entries()];
    assert.throws(
      () => h.send('a', 4_000),
      lateRecord(
        /record at 1970-01-01T00:00:04\.000Z is later than the grace period of window \[1970-01-01T00:00:00\.000Z, 1970-01-01T00:00:10\.000Z\) of aggregation 'agg'/,
      ),
    );
    assert.deepEqual([...h.store.entries()], before);
    assert.deepEqual(h.take(), []);
    h.send('a', 30_000);
    assert.deepEqual(h.take().map(windowed), [['a', 10_000, 20_000, 1, 19_999]]);
  });

  it('counts a record in every hopping window containing it, and only in those still open', () => {
    const h = new Harness(
      aggregateSpec((g) => g.windowedBy(hopping(10_000, 5_000)).count({ store: 's', name: 'agg' })),
    );
    h.send('a', 7_000); // [0, 10 s) and [5 s, 15 s)
    h.send('a', 12_000); // [5 s, 15 s) and [10 s, 20 s); closes [0, 10 s)
    assert.deepEqual(h.take().map(windowed), [['a', 0, 10_000, 1, 9_999]]);
    h.send('a', 8_000); // [0, 10 s) is closed, [5 s, 15 s) is open: counted there only
    assert.throws(
      () => h.send('a', 4_000),
      lateRecord(/record at .*00:00:04\.000Z .* window \[.*00:00:00\.000Z, .*00:00:10\.000Z\)/),
    );
    h.send('a', 25_000);
    assert.deepEqual(h.take().map(windowed), [
      ['a', 5_000, 15_000, 3, 14_999],
      ['a', 10_000, 20_000, 1, 19_999],
    ]);
  });

  it('emits the new result after every record with emit updates, and drops closed windows', () => {
    const h = new Harness(tumblingCount('updates'));
    h.send('a', 1_000);
    h.send('a', 2_000);
    h.send('b', 12_000);
    h.send('a', 3_000);
    assert.deepEqual(h.take().map(windowed), [
      ['a', 0, 10_000, 1, 9_999],
      ['a', 0, 10_000, 2, 9_999],
      ['b', 10_000, 20_000, 1, 19_999],
      ['a', 0, 10_000, 3, 9_999],
    ]);
    h.send('b', 15_000); // closes [0, 10 s): nothing more is emitted for it
    assert.deepEqual(h.take().map(windowed), [['b', 10_000, 20_000, 2, 19_999]]);
    assert.equal(h.store.size, 2);
  });

  it('closes windows of a quiet partition after the idle timeout, following the wall clock', () => {
    const h = new Harness(tumblingCount('final', 5_000));
    h.send('a', 1_000); // wall clock 1,000,000
    h.punctuate(1_003_000);
    h.punctuate(1_004_999);
    assert.deepEqual(h.take(), []);
    h.punctuate(1_005_000); // idle for 5 s: stream time 1 s + 5 s
    assert.deepEqual(h.store.get(streamTimeKey), { streamTime: 6_000 });
    h.punctuate(1_013_000); // + 8 s: 14 s, [0, 10 s) needs 15 s
    assert.deepEqual(h.take(), []);
    h.punctuate(1_014_000);
    assert.deepEqual(h.take().map(windowed), [['a', 0, 10_000, 1, 9_999]]);
  });

  it('does not move stream time on punctuate without an idle timeout, or before one passes', () => {
    const quiet = new Harness(tumblingCount());
    quiet.send('a', 1_000);
    quiet.punctuate(9_000_000);
    assert.deepEqual(quiet.take(), []);
    const busy = new Harness(tumblingCount('final', 5_000));
    busy.send('a', 1_000);
    busy.clock.advance(4_000);
    busy.send('a', 2_000); // a record resets the idle time
    busy.punctuate(1_008_000);
    assert.deepEqual(busy.store.get(streamTimeKey), { streamTime: 2_000 });
  });

  it('continues with the same stream time and open windows after a restart from the changelog', () => {
    const records: [string, number][] = [
      ['a', 1_000],
      ['b', 2_000],
      ['a', 12_000],
      ['a', 9_000],
      ['c', 14_000],
      ['b', 16_000],
      ['a', 13_000],
      ['a', 31_000],
    ];
    const straight = new Harness(tumblingCount());
    for (const [key, t] of records) straight.send(key, t);

    let h = new Harness(tumblingCount());
    const outputs = [];
    for (const [i, [key, t]] of records.entries()) {
      h.send(key, t);
      if (i % 3 === 2) {
        outputs.push(...h.take());
        h = h.restart();
      }
    }
    outputs.push(...h.take());
    assert.deepEqual(outputs.map(windowed), straight.take().map(windowed));
    // The restored stream time still makes old records late.
    assert.throws(() => h.send('a', 5_000), lateRecord(/later than the grace period/));
  });

  it('rejects a record without a usable event time', () => {
    const h = new Harness(tumblingCount());
    assert.throws(
      () => h.send('a', Number.NaN),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'OPERATOR_FAILED' &&
        /event time NaN/.test(error.message),
    );
    assert.throws(() => h.send('a', -1), /event time -1/);
  });

  it('emits the aggregator result for each window', () => {
    const h = new Harness(
      aggregateSpec((g) =>
        g.windowedBy(tumbling(10_000)).aggregate(
          summary((r) => r.celsius),
          { store: 's', name: 'agg' },
        ),
      ),
    );
    h.send('a', 1_000, 4);
    h.send('a', 2_000, -2);
    h.send('a', 3_000, 7);
    h.send('a', 10_000, 0);
    assert.deepEqual(h.take().map(windowed), [
      ['a', 0, 10_000, { count: 3, sum: 9, min: -2, max: 7, mean: 3 }, 9_999],
    ]);
  });
});
