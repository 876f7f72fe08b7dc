import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import {
  chunkKey,
  HttpSourceError,
  openProgressStore,
} from '../../src/connectors/open-meteo/index.ts';
import { writeFileAtomically } from '../../src/core/index.ts';
import { ManualClock } from '../../src/testing/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'http-progress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('progress file', () => {
  it('round-trips marks and chunks through the file', async () => {
    const path = join(dir, 'a', 'progress.json');
    const clock = new ManualClock(Date.UTC(2026, 10, 20, 12));
    const store = await openProgressStore(path, clock);
    assert.equal(store.highWater('berlin'), undefined);
    await store.advanceHighWater('berlin', Date.UTC(2026, 10, 20, 10));
    await store.markChunkDone(chunkKey('berlin', '2026-11-01', '2026-11-07'), 168);

    const reopened = await openProgressStore(path);
    assert.equal(reopened.highWater('berlin'), Date.UTC(2026, 10, 20, 10));
    assert.equal(reopened.chunkDone('berlin/2026-11-01/2026-11-07'), true);
    assert.equal(reopened.chunkDone('berlin/2026-11-08/2026-11-14'), false);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), {
      version: 1,
      poll: { berlin: '2026-11-20T10:00:00.000Z' },
      backfill: {
        'berlin/2026-11-01/2026-11-07': { records: 168, completedAt: '2026-11-20T12:00:00.000Z' },
      },
    });
  });

  it('records several chunks, and moves several marks (never back), in one call each', async () => {
    const path = join(dir, 'batch', 'progress.json');
    const clock = new ManualClock(Date.UTC(2026, 10, 20, 12));
    const store = await openProgressStore(path, clock);
    await store.markChunksDone([
      { key: chunkKey('berlin', '2026-11-01', '2026-11-02'), records: 48 },
      { key: chunkKey('lisbon', '2026-11-01', '2026-11-02'), records: 47 },
    ]);
    await store.advanceHighWater('berlin', 7_200_000);
    await store.advanceHighWaters(
      new Map([
        ['berlin', 3_600_000], // behind its mark: stays
        ['lisbon', 10_800_000],
      ]),
    );
    const reopened = (await openProgressStore(path)).snapshot();
    assert.deepEqual(reopened.backfill, {
      'berlin/2026-11-01/2026-11-02': { records: 48, completedAt: '2026-11-20T12:00:00.000Z' },
      'lisbon/2026-11-01/2026-11-02': { records: 47, completedAt: '2026-11-20T12:00:00.000Z' },
    });
    assert.deepEqual(reopened.poll, {
      berlin: '1970-01-01T02:00:00.000Z',
      lisbon: '1970-01-01T03:00:00.000Z',
    });
  });

  it('never moves a mark back', async () => {
    const store = await openProgressStore(join(dir, 'back.json'));
    await store.advanceHighWater('x', 7_200_000);
    await store.advanceHighWater('x', 3_600_000);
    assert.equal(store.highWater('x'), 7_200_000);
  });

  it('keeps every change when many are made at once, and leaves no temporary file', async () => {
    const path = join(dir, 'many', 'progress.json');
    const store = await openProgressStore(path);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.advanceHighWater(`loc-${i}`, i * 3_600_000)),
    );
    const reopened = await openProgressStore(path);
    for (let i = 0; i < 50; i++) assert.equal(reopened.highWater(`loc-${i}`), i * 3_600_000);
    assert.deepEqual(readdirSync(join(dir, 'many')), ['progress.json']);
  });

  it('replaces a file whole', async () => {
    const path = join(dir, 'whole.json');
    await writeFileAtomically(path, 'first\n');
    await writeFileAtomically(path, 'second\n');
    assert.equal(readFileSync(path, 'utf8'), 'second\n');
  });

  it('refuses a damaged file instead of starting over (which would publish again)', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"version": 1, "poll": {');
    await assert.rejects(openProgressStore(broken), (error: unknown) => {
      assert.ok(error instanceof HttpSourceError);
      assert.equal(error.code, 'HTTP_PROGRESS_FAILED');
      assert.match(error.message, /broken\.json is not JSON.*fix or delete it/);
      return true;
    });
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ version: 1, poll: { x: 'yesterday' }, backfill: {} }));
    await assert.rejects(
      openProgressStore(wrong),
      /wrong\.json does not match its format at poll\.x/,
    );
  });
});
