// The side-by-side benchmark's input and oracle (bench/compare/data.ts): a fast wrong answer
// must score nothing, so the checker itself is tested.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compareW2, hour, keepW1, oracle, reading, sensorsFor } from '../../bench/compare/data.ts';
import type { W2Output } from '../../bench/compare/data.ts';

describe('benchmark oracle', () => {
  const total = 20_000;
  const expected = oracle(total);

  it('closes hours 0-23 of every sensor and leaves the 25th open', () => {
    assert.equal(sensorsFor(total), 200);
    assert.equal(expected.w2.size, 200 * 24);
    const last = reading(total - 1, total);
    const lastHour = last.ts - (last.ts % hour);
    for (const w of expected.w2.values()) assert.ok(w.end <= lastHour);
    // Every sensor reads in the last hour: per-key event time closes the same windows.
    assert.deepEqual([...expected.w2ByKey.keys()].sort(), [...expected.w2.keys()].sort());
    // Event time only moves forward, so nothing is late under any grace.
    for (let i = 1; i < total; i++) assert.ok(reading(i, total).ts >= reading(i - 1, total).ts);
    let kept = 0;
    for (let i = 0; i < total; i++) if (keepW1(reading(i, total))) kept++;
    assert.equal(expected.w1, kept);
    assert.ok(kept < total && kept > total * 0.9, `W1 keeps ${kept} of ${total}`);
  });

  it('accepts the oracle itself and finds a missing, a doubled, a wrong and an extra window', () => {
    const right = [...expected.w2.values()];
    assert.deepEqual(compareW2(right, expected.w2), []);
    // A sum computed in another order differs in the last bits: still equal.
    const [first, ...others] = right as [W2Output, ...W2Output[]];
    assert.deepEqual(
      compareW2([{ ...first, sum: first.sum * (1 + 1e-12) }, ...others], expected.w2),
      [],
    );
    assert.match(compareW2(others, expected.w2).join(), /1 windows missing/);
    assert.match(
      compareW2([first, ...right], expected.w2).join(),
      /1 windows emitted more than once/,
    );
    assert.match(
      compareW2([{ ...first, count: first.count + 1 }, ...others], expected.w2).join(),
      /window s-/,
    );
    const extra = { ...first, start: first.start + 24 * hour, end: first.end + 24 * hour };
    assert.match(compareW2([...right, extra], expected.w2).join(), /1 windows not in the oracle/);
  });
});
