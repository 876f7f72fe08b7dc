import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { openProgressStore, runBackfill } from '../../src/connectors/http/index.ts';
import type { BackfillOptions } from '../../src/connectors/http/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import {
  expectedObservations,
  FakeOpenMeteo,
  FakeTopic,
  fiveLocations,
  http503,
  recordingSleep,
} from '../fixtures/open-meteo/fakes.ts';

const dir = mkdtempSync(join(tmpdir(), 'http-backfill-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const range = { from: '2026-11-01', to: '2026-11-07' };

function backfill(
  client: FakeOpenMeteo,
  topic: FakeTopic,
  progressPath: string,
  overrides: Partial<BackfillOptions> = {},
) {
  const clock = new ManualClock(Date.UTC(2026, 10, 20, 10));
  return openProgressStore(progressPath, clock).then((progress) =>
    runBackfill({
      ...range,
      locations: fiveLocations,
      client,
      publish: topic.publish,
      progress,
      chunkDays: 2,
      clock,
      output: null,
      sleep: recordingSleep().sleep,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, jitter: 0.5 },
      ...overrides,
    }),
  );
}

/** Every (location, hour) of the range exactly once, with the modelled values, in time order per location. */
function assertComplete(topic: FakeTopic): void {
  assert.equal(topic.records.length, 7 * 24 * 5);
  assert.ok([...topic.counts().values()].every((n) => n === 1));
  for (const location of fiveLocations) {
    const published = topic.records.filter((r) => r.key === location.id).map((r) => r.value);
    assert.deepEqual(
      published,
      expectedObservations(location, { startDate: range.from, endDate: range.to }),
    );
  }
}

describe('backfill', () => {
  it('publishes every hour of the range once, chunk by chunk, each location in time order', async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const report = await backfill(client, topic, join(dir, `p${files++}.json`));
    assert.deepEqual(
      { ...report, durationMs: 0 },
      {
        chunks: 20,
        skipped: 0,
        completed: 20,
        failed: [],
        notStarted: 0,
        records: 840,
        durationMs: 0,
        stopped: false,
      },
    );
    assert.equal(client.calls.length, 20);
    assert.ok(client.maxInFlight <= 4);
    assertComplete(topic);
  });

  it("leaves a failed chunk and its location's later chunks to the resumed run, which skips completed ones", async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const path = join(dir, `p${files++}.json`);
    client.failNext(3, http503, 'sydney'); // all attempts of sydney's first chunk
    const first = await backfill(client, topic, path);
    assert.equal(first.completed, 16);
    assert.deepEqual(
      first.failed.map((f) => [f.location, f.startDate, f.endDate]),
      [['sydney', '2026-11-01', '2026-11-02']],
    );
    assert.match(first.failed[0]?.error ?? '', /HTTP 503/);
    assert.equal(first.notStarted, 3);

    const calls = client.calls.length;
    const second = await backfill(client, topic, path);
    assert.deepEqual([second.skipped, second.completed, second.failed.length], [16, 4, 0]);
    assert.equal(client.calls.length - calls, 4);
    assertComplete(topic);
  });

  it('when stopped, finishes the chunks in flight and starts none; a resume completes the range', async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const path = join(dir, `p${files++}.json`);
    const stop = new AbortController();
    const publish = async (records: Parameters<FakeTopic['publish']>[0]) => {
      await topic.publish(records);
      if (topic.calls >= 6) stop.abort();
    };
    const first = await backfill(client, topic, path, { publish, signal: stop.signal });
    assert.equal(first.stopped, true);
    assert.ok(first.completed >= 6 && first.completed < 20, `completed ${first.completed}`);
    assert.equal(first.completed + first.notStarted, 20);
    const second = await backfill(client, topic, path);
    assert.equal(second.skipped, first.completed);
    assertComplete(topic);
  });

  it('reports progress lines without a terminal, and a bar redrawn in place on one', async () => {
    const lines: string[] = [];
    await backfill(new FakeOpenMeteo(), new FakeTopic(), join(dir, `p${files++}.json`), {
      output: { write: (text: string) => lines.push(text) },
      logEveryChunks: 5,
    });
    assert.equal(lines.length, 4); // after 5, 10 and 15 chunks, and the final line
    assert.match(
      lines[0] ?? '',
      /^backfill 5\/20 chunks {2}\d[\d,]* records {2}[\d,]+ rec\/s {2}ETA \d+:\d\d\n$/,
    );
    assert.match(lines[3] ?? '', /^backfill 20\/20 chunks {2}840 records .* took \d+:\d\d\n$/);

    const drawn: string[] = [];
    await backfill(new FakeOpenMeteo(), new FakeTopic(), join(dir, `p${files++}.json`), {
      output: { write: (text: string) => drawn.push(text), isTTY: true, columns: 100 },
    });
    // The manual clock stands still, so only the first chunk and the final state are drawn.
    assert.equal(drawn.length, 2);
    const last = drawn[1] ?? '';
    assert.match(last, /^\rbackfill \[#{30}\] 20\/20 chunks /);
    assert.ok(last.endsWith('\u001b[K\n'), 'clears the rest of the line and ends it');
  });

  it('refuses a range that reaches today or runs backwards', async () => {
    const run = (from: string, to: string) =>
      backfill(new FakeOpenMeteo(), new FakeTopic(), join(dir, `p${files++}.json`), { from, to });
    await assert.rejects(run('2026-11-18', '2026-11-20'), /backfill to must be a day before today/);
    await assert.rejects(
      run('2026-11-07', '2026-11-01'),
      /backfill from \(2026-11-07\) is after to/,
    );
    await assert.rejects(
      run('2026-11-1', '2026-11-07'),
      /backfill from must be a day as YYYY-MM-DD/,
    );
    await assert.rejects(
      backfill(new FakeOpenMeteo(), new FakeTopic(), join(dir, `p${files++}.json`), {
        chunkDays: 0,
      }),
      /chunk days must be an integer >= 1/,
    );
  });
});
