// The benchmark's round statistics (bench/compare/stats.ts): medians, spreads and per-round ratios.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatSpread, median, roundRatios, spread } from '../../bench/compare/stats.ts';

describe('benchmark round statistics', () => {
  it('takes the median of odd and even counts, and none of nothing', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), undefined);
  });

  it('gives the spread of the figures that exist', () => {
    assert.deepEqual(spread([5, undefined, 1, 9]), { median: 5, min: 1, max: 9, n: 3 });
    assert.equal(spread([undefined]), undefined);
  });

  it('pairs rounds by number for ratios, skipping a round missing on either side', () => {
    const ours = [
      { round: 1, v: 10 },
      { round: 2, v: 30 },
      { round: 3, v: 8 },
    ];
    const peer = [
      { round: 2, v: 10 },
      { round: 1, v: 20 },
    ];
    // round 1: 10/20, round 2: 30/10; round 3 has no peer.
    assert.deepEqual(
      roundRatios(ours, peer, (x) => x.v),
      { median: 1.75, min: 0.5, max: 3, n: 2 },
    );
    // A ratio of medians would say 10/15; the per-round ratios are what the rounds measured.
    const zero: { round?: number; v: number }[] = [{ v: 0 }];
    assert.equal(
      roundRatios([{ v: 1 }], zero, (x) => x.v),
      undefined,
    );
  });

  it('prints one figure alone and several with their spread', () => {
    const f = (n: number): string => n.toFixed(1);
    assert.equal(formatSpread({ median: 2, min: 2, max: 2, n: 1 }, f), '2.0');
    assert.equal(formatSpread({ median: 2, min: 1, max: 3, n: 3 }, f), '2.0 (1.0-3.0)');
    assert.equal(formatSpread(undefined, f), '-');
  });
});
