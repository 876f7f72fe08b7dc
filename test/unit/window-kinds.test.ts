// Window kinds: the starts a kind gives for a timestamp against a brute-force oracle that
// enumerates every window of the grid, and the checks of sliding() and of hand-made kinds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { hopping, sliding, topology, tumbling } from '../../src/topology/index.ts';
import type { TimeWindowKind, WindowSpec } from '../../src/topology/index.ts';
import { windowText } from '../../src/topology/windows.ts';
import { json, string } from '../../src/serde/index.ts';
import { random } from '../random.ts';

/**
 * Every window `[k * step + offset, k * step + offset + size)` over a range of k wide enough to
 * hold all that can contain t (offset as given, negative or not), kept when it contains t and
 * does not start before the epoch.
 */
function bruteStarts(t: number, size: number, step: number, offset: number): number[] {
  const starts: number[] = [];
  const from = Math.floor((t - size - Math.abs(offset)) / step) - 2;
  const to = Math.ceil((t + Math.abs(offset)) / step) + 2;
  for (let k = from; k <= to; k++) {
    const start = k * step + offset;
    if (start >= 0 && start <= t && t < start + size) starts.push(start);
  }
  return starts;
}

const invalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof TributaryError &&
  error.code === 'TOPOLOGY_INVALID' &&
  pattern.test(error.message);

describe('window kinds', () => {
  it('sliding windows contain a timestamp exactly as the enumerated grid says, ascending', () => {
    const next = random(14);
    const int = (n: number) => Math.floor(next() * n);
    let multi = 0;
    for (let i = 0; i < 5000; i++) {
      const slide = 1 + int(i % 2 === 0 ? 50 : 100_000);
      const size = slide + int(slide * 5);
      const offset = int(2 * slide - 1) - (slide - 1); // in (-slide, slide)
      // Small timestamps reach the epoch edge; large ones are dates.
      const t = i % 3 === 0 ? int(3 * size) : 1_700_000_000_000 + int(1e9);
      const starts = sliding(size, slide, { offset }).windowStarts(t);
      assert.deepEqual(
        starts,
        bruteStarts(t, size, slide, offset),
        `${size}/${slide}/${offset}@${t}`,
      );
      if (starts.length > 1) multi++;
    }
    assert.ok(multi > 1000, `${multi} timestamps in several windows`);
  });

  it('tumbling and hopping windows are unchanged: the same oracle without offset', () => {
    const next = random(15);
    const int = (n: number) => Math.floor(next() * n);
    for (let i = 0; i < 3000; i++) {
      const advance = 1 + int(1000);
      const size = advance * (1 + int(6)) + (i % 2 === 0 ? 0 : int(advance));
      const t = i % 2 === 0 ? int(3 * size) : 1_700_000_000_000 + int(1e9);
      assert.deepEqual(tumbling(size).windowStarts(t), bruteStarts(t, size, size, 0));
      assert.deepEqual(hopping(size, advance).windowStarts(t), bruteStarts(t, size, advance, 0));
    }
  });

  it('aligns daily windows to a local midnight with a negative offset', () => {
    const day = 86_400_000;
    const hour = 3_600_000;
    const window = sliding(day, day, { offset: -hour });
    assert.equal(window.offsetMs, day - hour);
    // 00:30 at UTC+1 on 2026-06-02 is 2026-06-01T23:30Z: in the day from 2026-06-01T23:00Z.
    const t = Date.UTC(2026, 5, 1, 23, 30);
    assert.deepEqual(window.windowStarts(t), [Date.UTC(2026, 5, 1, 23)]);
    assert.deepEqual(window.windowStarts(Date.UTC(2026, 5, 1, 22, 59)), [
      Date.UTC(2026, 4, 31, 23),
    ]);
  });

  it('keeps the fields describe() shows as data, and shows the kind and its parameters', () => {
    const window = sliding(10_000, 3_000, { offset: -1_000, grace: 500 });
    assert.deepEqual(
      { ...window },
      { type: 'sliding', sizeMs: 10_000, slideMs: 3_000, offsetMs: 2_000, graceMs: 500 },
    );
    assert.equal(JSON.stringify(window), JSON.stringify({ ...window }));
    assert.equal(windowText(window), 'sliding 10000 ms slide 3000 ms offset 2000 ms, grace 500 ms');
    const custom: TimeWindowKind = {
      type: 'fortnight',
      sizeMs: 1_209_600_000,
      graceMs: 0,
      windowStarts: (t) => [t - (t % 1_209_600_000)],
    };
    assert.equal(windowText(custom), 'fortnight 1209600000 ms, grace 0 ms');
    assert.equal(windowText(hopping(10, 5)), 'hopping 10 ms advance 5 ms, grace 0 ms');
  });

  it('rejects sliding windows that lose records or have a bad offset, and bad hand-made kinds', () => {
    assert.throws(() => sliding(1000, 2000), invalid(/slide of a sliding window.*must not exceed/));
    assert.throws(() => sliding(1000, 0), invalid(/slide/));
    assert.throws(() => sliding(0, 1), invalid(/size of a sliding window/));
    assert.throws(() => sliding(1000, 500, { offset: 500 }), invalid(/offset/));
    assert.throws(() => sliding(1000, 500, { offset: -500 }), invalid(/offset/));
    assert.throws(() => sliding(1000, 500, { offset: 0.5 }), invalid(/offset/));
    assert.throws(() => sliding(1000, 500, { grace: -1 }), invalid(/grace/));
    assert.deepEqual(sliding(1000, 500, { offset: -499 }).offsetMs, 1);

    const grouped = topology('kinds').stream('in', { key: string(), value: json<number>() });
    const windowedBy = (w: unknown) => grouped.groupByKey().windowedBy(w as WindowSpec);
    const starts = () => [];
    assert.throws(
      () =>
        windowedBy({
          type: 'sliding',
          sizeMs: 10,
          slideMs: 20,
          offsetMs: 0,
          graceMs: 0,
          windowStarts: starts,
        }),
      invalid(/must not exceed/),
    );
    assert.throws(
      () =>
        windowedBy({
          type: 'sliding',
          sizeMs: 10,
          slideMs: 5,
          offsetMs: 5,
          graceMs: 0,
          windowStarts: starts,
        }),
      invalid(/offset/),
    );
    assert.throws(
      () => windowedBy({ type: 'mine', sizeMs: 1.5, graceMs: 0, windowStarts: starts }),
      invalid(/size of a mine window/),
    );
    assert.throws(
      () => windowedBy({ type: 'mine', sizeMs: 10, graceMs: -1, windowStarts: starts }),
      invalid(/grace/),
    );
    assert.throws(
      () => windowedBy({ type: 'mine', sizeMs: 10, graceMs: 0 }),
      invalid(/windowStarts/),
    );
    assert.throws(
      () => windowedBy({ sizeMs: 10, graceMs: 0, windowStarts: starts }),
      invalid(/unknown window type/),
    );
    windowedBy({ type: 'mine', sizeMs: 10, graceMs: 0, windowStarts: starts });
  });
});
