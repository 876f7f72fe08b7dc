import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { parseWindowKey, streamTimeKey } from '../../src/operators/index.ts';
import { session, summary } from '../../src/topology/index.ts';
import { aggregateSpec, Harness, windowed } from './window-fixtures.ts';

const lateRecord = (pattern: RegExp) => (error: unknown) =>
  error instanceof TributaryError && error.code === 'LATE_RECORD' && pattern.test(error.message);

const sessionCount = (gapMs: number, grace = 0, emit: 'final' | 'updates' = 'final') =>
  aggregateSpec((g) =>
    g.windowedBy(session(gapMs, { grace })).count({ store: 'sessions', name: 'agg', emit }),
  );

describe('session windows', () => {
  it('extends a session by records within the gap and emits it once it closes', () => {
    const h = new Harness(sessionCount(10_000));
    h.send('a', 0);
    h.send('a', 5_000);
    h.send('a', 15_000); // 10 s after the last record: still the same session
    h.send('b', 20_000);
    assert.deepEqual(h.take(), []);
    // The session [0, 15 s] closes when last + gap + grace < stream time: after 25 s.
    h.send('b', 25_000);
    assert.deepEqual(h.take(), []);
    h.send('b', 25_001);
    assert.deepEqual(h.take().map(windowed), [['a', 0, 15_001, 3, 15_000]]);
  });

  it('merges the sessions a record bridges, with the aggregator merge', () => {
    const h = new Harness(
      aggregateSpec((g) =>
        g.windowedBy(session(10_000, { grace: 20_000 })).aggregate(
          summary((r) => r.celsius),
          { store: 's', name: 'agg' },
        ),
      ),
    );
    h.send('a', 100_000, 5);
    h.send('a', 101_000, 7);
    h.send('a', 112_000, -1); // more than the gap after 101 s: a second session
    const starts = (): number[] =>
      [...h.store.entries()]
        .filter(([key]) => !key.equals(streamTimeKey))
        .map(([key]) => parseWindowKey(key).start)
        .sort((x, y) => x - y);
    assert.deepEqual(starts(), [100_000, 112_000]);
    h.send('a', 106_000, 3); // within the gap of both: one session [100 s, 112 s]
    assert.deepEqual(starts(), [106_000 - 6_000]);
    h.send('a', 200_000, 0);
    assert.deepEqual(h.take().map(windowed), [
      ['a', 100_000, 112_001, { count: 4, sum: 14, min: -1, max: 7, mean: 3.5 }, 112_000],
    ]);
  });

  it('merges an earlier record into a session, moving its start', () => {
    const h = new Harness(sessionCount(10_000, 10_000, 'updates'));
    h.send('a', 50_000);
    h.send('a', 45_000);
    h.send('a', 52_000);
    assert.deepEqual(h.take().map(windowed), [
      ['a', 50_000, 50_001, 1, 50_000],
      ['a', 45_000, 50_001, 2, 50_000],
      ['a', 45_000, 52_001, 3, 52_000],
    ]);
    assert.equal(h.store.size, 2); // one session and the stream time
  });

  it('rejects a record that would only make a session closed already, by the same rule', () => {
    const h = new Harness(sessionCount(10_000));
    h.send('b', 200_000);
    h.send('a', 190_000); // last + gap + grace = 200 s, not < stream time: accepted
    assert.throws(
      () => h.send('a', 179_999),
      lateRecord(/record at .*02:59\.999Z is later than the grace period of session/),
    );
    h.send('c', 200_001); // closes a's session [190 s, 190 s]
    assert.deepEqual(h.take().map(windowed), [['a', 190_000, 190_001, 1, 190_000]]);
  });

  it('keeps sessions open across a restart from the changelog', () => {
    let h = new Harness(sessionCount(10_000, 20_000));
    h.send('a', 0);
    h.send('a', 12_000);
    h = h.restart();
    h.send('a', 6_000); // bridges the two restored sessions
    h = h.restart();
    h.send('z', 100_000);
    assert.deepEqual(h.take().map(windowed), [['a', 0, 12_001, 3, 12_000]]);
  });
});

describe('aggregations without a window', () => {
  it('forwards the new aggregate of the key after every record', () => {
    let h = new Harness(aggregateSpec((g) => g.count({ store: 'counts', name: 'agg' })));
    h.send('a', 5);
    h.send('b', 6);
    h.send('a', 7);
    h = h.restart();
    h.send('a', 1);
    assert.deepEqual(
      h.out.map((r) => [r.key, r.value, r.timestamp]),
      [['a', 3, 1]],
    );
    assert.equal(h.store.size, 2);
    h.punctuate(Number.MAX_SAFE_INTEGER); // nothing to close
    assert.equal(h.out.length, 1);
  });

  it('reduces values, the first one as it is', () => {
    const h = new Harness(
      aggregateSpec((g) =>
        g.reduce((a, b) => (a.celsius >= b.celsius ? a : b), { store: 'max', name: 'agg' }),
      ),
    );
    h.send('a', 1, 3);
    h.send('a', 2, 9);
    h.send('a', 3, 4);
    assert.deepEqual(
      h.out.map((r) => (r.value as { celsius: number }).celsius),
      [3, 9, 9],
    );
  });
});
