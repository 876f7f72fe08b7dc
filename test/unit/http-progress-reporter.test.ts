import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createProgressReporter, formatProgress } from '../../src/connectors/open-meteo/index.ts';
import { formatDuration } from '../../src/connectors/open-meteo/progress-reporter.ts';
import { ManualClock } from '../../src/testing/index.ts';

describe('backfill progress', () => {
  it('formats done/total chunks, records, rate and ETA', () => {
    const figures = {
      label: 'backfill',
      done: 5,
      failed: 0,
      total: 20,
      records: 840,
      elapsedMs: 2000,
    };
    assert.equal(formatProgress(figures), 'backfill 5/20 chunks  840 records  420 rec/s  ETA 0:06');
    assert.equal(
      formatProgress({ ...figures, failed: 5, records: 12_345 }, 10),
      'backfill [#####.....] 10/20 chunks (5 failed)  12,345 records  6,173 rec/s  ETA 0:02',
    );
    assert.equal(
      formatProgress({ ...figures, done: 0, records: 0 }),
      'backfill 0/20 chunks  0 records  0 rec/s  ETA --:--',
    );
    assert.equal(
      formatProgress({ ...figures, done: 20, elapsedMs: 3_723_000 }, 0, true),
      'backfill 20/20 chunks  840 records  0 rec/s  took 1:02:03',
    );
    assert.equal(formatDuration(59_600), '1:00');
  });

  it('without a terminal, writes one line for each step that passes a multiple of logEveryChunks', () => {
    const out: string[] = [];
    const reporter = createProgressReporter({
      label: 'backfill',
      total: 60,
      output: { write: (t: string) => out.push(t) },
      clock: new ManualClock(0),
      logEveryChunks: 10,
    });
    reporter.chunkDone(288, 12); // passes 10
    reporter.chunkDone(288, 12); // passes 20
    reporter.chunkDone(288, 5); // 29: passes nothing
    reporter.chunkFailed(25); // 54: passes 30, 40 and 50, one line
    reporter.chunkDone(144, 6); // 60: the end, left to the final line
    reporter.finish();
    assert.deepEqual(
      out.map((line) => /^backfill (\d+\/60 chunks(?: \(\d+ failed\))?)/.exec(line)?.[1]),
      ['12/60 chunks', '24/60 chunks', '54/60 chunks (25 failed)', '60/60 chunks (25 failed)'],
    );
    assert.match(out[3] ?? '', /1,008 records/);
  });

  it('redraws at most every redrawMs on a terminal, and ends the line when finished', () => {
    const clock = new ManualClock(0);
    const out: string[] = [];
    const reporter = createProgressReporter({
      label: 'backfill',
      total: 4,
      output: { write: (t: string) => out.push(t), isTTY: true },
      clock,
    });
    reporter.chunkDone(10);
    reporter.chunkDone(10); // same instant: not drawn
    clock.advance(150);
    reporter.chunkFailed();
    reporter.finish();
    reporter.finish();
    assert.equal(out.length, 3);
    assert.ok(out.every((line) => line.startsWith('\r') && line.includes('\x1b[K')));
    assert.ok(out[2]?.endsWith('\n'));
    assert.match(out[2] ?? '', /3\/4 chunks \(1 failed\) {2}20 records/);
  });
});
