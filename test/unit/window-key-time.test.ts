import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { isKeyTimeKey, keyTimeKey, streamTimeKey, windowKey } from '../../src/operators/index.ts';
import { hours, minutes, session, tumbling } from '../../src/topology/index.ts';
import { aggregateSpec, Harness, windowed } from './window-fixtures.ts';

const hour = hours(1);
const isLate = (error: unknown) => error instanceof TributaryError && error.code === 'LATE_RECORD';

/** Counts per key in hourly windows with 10 minutes of grace, by each key's own time. */
const perKey = (idleTimeoutMs?: number) =>
  aggregateSpec((g) =>
    g.windowedBy(tumbling(hour, { grace: minutes(10) })).count({
      store: 'counts',
      name: 'agg',
      time: 'key',
      ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    }),
  );

const perPartition = aggregateSpec((g) =>
  g.windowedBy(tumbling(hour, { grace: minutes(10) })).count({ store: 'counts', name: 'agg' }),
);

/** Sends one reading per 15 minutes of [fromHour, toHour) for a key; returns those sent. */
function sendHours(h: Harness, key: string, fromHour: number, toHour: number): number {
  let sent = 0;
  for (let t = fromHour * hour; t < toHour * hour; t += minutes(15)) {
    h.send(key, t);
    sent++;
  }
  return sent;
}

describe('per-key event time', () => {
  it('closes each key by its own time: an entity-ordered backfill loses nothing', () => {
    const h = new Harness(perKey());
    sendHours(h, 'a', 0, 10);
    // a's hours 0..8 closed by a's own time (9:45 passes 9:10 for hour 8); b has not begun.
    assert.deepEqual(
      h.take().map(windowed),
      Array.from({ length: 9 }, (_, i) => ['a', i * hour, (i + 1) * hour, 4, (i + 1) * hour - 1]),
    );
    sendHours(h, 'b', 0, 10); // hours a has already passed: on time for b
    assert.deepEqual(
      h.take().map(windowed),
      Array.from({ length: 9 }, (_, i) => ['b', i * hour, (i + 1) * hour, 4, (i + 1) * hour - 1]),
    );
    // The same input by the partition's stream time: b's first 9 hours are late.
    const p = new Harness(perPartition);
    sendHours(p, 'a', 0, 10);
    let late = 0;
    for (let t = 0; t < 10 * hour; t += minutes(15)) {
      try {
        p.send('b', t);
      } catch (error) {
        assert.ok(isLate(error));
        late++;
      }
    }
    assert.equal(late, 36);
  });

  it("judges lateness against the record's key only", () => {
    const h = new Harness(perKey());
    h.send('ahead', 10 * hour); // a clock hours ahead
    h.send('a', 30 * 60_000);
    h.send('a', 2 * hour); // a's time 2:00: [0, 1 h) closes at 1:10
    assert.deepEqual(h.take().map(windowed), [['a', 0, hour, 1, hour - 1]]);
    assert.throws(() => h.send('a', 50 * 60_000), isLate);
    h.send('b', 50 * 60_000); // b has no time yet: on time
    h.send('a', 2 * hour + 5 * 60_000);
    assert.deepEqual(h.take(), []);
  });

  it('keeps each key open until its own time passes, however far others run ahead', () => {
    const h = new Harness(perKey());
    h.send('slow', 0);
    for (let i = 1; i <= 48; i++) h.send('fast', i * hour);
    assert.ok(h.take().every((r) => r.key === 'fast'));
    h.send('slow', 59 * 60_000); // still its first hour
    h.send('slow', hour + minutes(10));
    assert.deepEqual(h.take().map(windowed), [['slow', 0, hour, 2, hour - 1]]);
  });

  it("closes all of a quiet key's windows after its idle timeout, and only that key's", () => {
    const h = new Harness(perKey(60_000));
    h.send('quiet', 5 * 60_000);
    h.send('quiet', hour + 5 * 60_000);
    h.clock.advance(30_000);
    h.send('busy', 5 * 60_000);
    h.clock.advance(29_999);
    h.punctuate();
    assert.deepEqual(h.take(), []); // quiet for 59.999 s
    h.clock.advance(1);
    h.punctuate();
    assert.deepEqual(h.take().map(windowed), [
      ['quiet', 0, hour, 1, hour - 1],
      ['quiet', hour, 2 * hour, 1, 2 * hour - 1],
    ]);
    h.send('busy', 6 * 60_000); // busy's records keep pushing its timeout back
    h.clock.advance(59_000);
    h.punctuate();
    assert.deepEqual(h.take(), []);
    h.clock.advance(1_000);
    h.punctuate();
    assert.deepEqual(h.take().map(windowed), [['busy', 0, hour, 2, hour - 1]]);
    // No open window left: no key state, only each key's retained time in the store.
    assert.equal(h.store.size, 2);
    assert.ok([...h.store.entries()].every(([key]) => isKeyTimeKey(key)));
  });

  it('judges a straggler of an idle-closed window late, and forgets the key after retention', () => {
    const h = new Harness(perKey(60_000));
    h.send('a', 5 * 60_000);
    h.clock.advance(60_000);
    h.punctuate();
    assert.equal(h.take().length, 1);
    assert.throws(() => h.send('a', 20 * 60_000), isLate); // its window was emitted
    // Another key's time runs a day and more past a's: a's retained time is forgotten.
    h.send('b', 30 * hour);
    h.punctuate();
    assert.equal(h.store.get(keyTimeKey(Buffer.from('a'))), undefined);
    h.send('a', 20 * 60_000); // a starts afresh
    assert.equal(h.store.size, 2);
  });

  it('restores each key time from the changelog: no window twice, none lost', () => {
    let h = new Harness(perKey());
    sendHours(h, 'a', 0, 3);
    sendHours(h, 'b', 0, 1);
    const before = h.take().map(windowed);
    assert.equal(before.length, 2); // a's hours 0 and 1
    h = h.restart();
    assert.equal(
      h.store.get(streamTimeKey),
      undefined,
      'per-key mode keeps no partition stream time',
    );
    assert.throws(() => h.send('a', 30 * 60_000), isLate); // hour 0 of a was emitted
    h.send('b', hour + minutes(10)); // b's hour 0 closes now, by b's own time
    h.send('a', 3 * hour + minutes(10));
    assert.deepEqual(h.take().map(windowed), [
      ['b', 0, hour, 4, hour - 1],
      ['a', 2 * hour, 3 * hour, 4, 3 * hour - 1],
    ]);
  });

  it('keeps the time of an idle-closed key through a restart', () => {
    let h = new Harness(perKey(60_000));
    h.send('a', 5 * 60_000);
    h.clock.advance(60_000);
    h.punctuate();
    assert.deepEqual(h.take().map(windowed), [['a', 0, hour, 1, hour - 1]]);
    h = h.restart();
    // Without its stored time, a would have none after the restart and reopen [0, 1 h).
    assert.throws(() => h.send('a', 50 * 60_000), isLate);
    h.send('a', hour + minutes(10));
    h.send('a', 2 * hour + minutes(10));
    assert.deepEqual(h.take().map(windowed), [['a', hour, 2 * hour, 1, 2 * hour - 1]]);
  });

  it('restores the idle queue: a restored key still closes by its idle timeout', () => {
    let h = new Harness(perKey(60_000));
    h.send('a', 5 * 60_000);
    h = h.restart();
    h.clock.advance(60_000);
    h.punctuate();
    assert.deepEqual(h.take().map(windowed), [['a', 0, hour, 1, hour - 1]]);
  });

  it('stores a window entry as its aggregate and the key time from its start, and reads the older form', () => {
    const h = new Harness(perKey());
    h.send('a', hour + 5 * 60_000);
    const storeKey = windowKey(Buffer.from('a'), hour);
    assert.deepEqual(h.store.get(storeKey), { a: 1, d: 5 * 60_000 });
    // An entry written before the compact form: { end, agg, t }.
    h.store.put(windowKey(Buffer.from('b'), 0), { end: hour, agg: 3, t: 40 * 60_000 });
    const restarted = h.restart();
    restarted.send('b', 50 * 60_000);
    restarted.send('b', hour + minutes(10));
    assert.deepEqual(restarted.take().map(windowed), [['b', 0, hour, 4, hour - 1]]);
  });

  it('merges and closes sessions by their key time', () => {
    const spec = aggregateSpec((g) =>
      g
        .windowedBy(session(minutes(5), { grace: 0 }))
        .count({ store: 's', name: 'agg', time: 'key' }),
    );
    const h = new Harness(spec);
    h.send('a', 0);
    h.send('a', minutes(4));
    h.send('b', hour); // b's time does not close a's session
    assert.deepEqual(h.take(), []);
    h.send('a', minutes(20));
    assert.deepEqual(h.take().map(windowed), [['a', 0, minutes(4) + 1, 2, minutes(4)]]);
  });

  it('rejects a time domain other than partition or key', () => {
    assert.throws(
      () =>
        aggregateSpec((g) =>
          g
            .windowedBy(tumbling(hour))
            .count({ store: 's', name: 'agg', time: 'wall' as unknown as 'key' }),
        ),
      (error: unknown) =>
        error instanceof TributaryError && /time of aggregation/.test(error.message),
    );
  });
});
