import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { chunkKey, openProgressStore, runBackfill } from '../../src/connectors/open-meteo/index.ts';
import type { BackfillOptions } from '../../src/connectors/open-meteo/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import {
  expectedObservations,
  FakeOpenMeteo,
  FakeTopic,
  fiveLocations,
  http503,
  manyLocations,
  publishedKeys,
  recordingSleep,
  shuffledGate,
  timeOrderedKeys,
} from '../fixtures/open-meteo/fakes.ts';

const dir = mkdtempSync(join(tmpdir(), 'http-backfill-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const range = { from: '2026-11-01', to: '2026-11-07' };
const day = (d: number): number => Date.UTC(2026, 10, d);
const fiveIds = fiveLocations.map((l) => l.id);

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

  it('publishes chunk by chunk across all locations, merged by event time: 12 locations x 10 days, concurrency 3', async () => {
    const locations = manyLocations(12);
    const client = new FakeOpenMeteo();
    client.gate = shuffledGate(7); // requests in flight finish in a shuffled order
    const topic = new FakeTopic();
    const path = join(dir, `p${files++}.json`);
    const report = await backfill(client, topic, path, {
      locations,
      from: '2026-11-01',
      to: '2026-11-10',
      chunkDays: 3,
      concurrency: 3,
    });
    assert.deepEqual(
      [report.chunks, report.completed, report.records, report.failed.length],
      [48, 48, 2880, 0],
    );
    assert.equal(client.maxInFlight, 3);
    // Chunk after chunk: every request for a chunk is made before any for the next.
    const starts = client.calls.map((c) => ('startDate' in c.range ? c.range.startDate : ''));
    assert.deepEqual(starts, [...starts].sort());
    assert.equal(topic.calls, 4);
    // Overall and so per partition, whatever the partitioner: hour by hour, ids in order.
    const ids = locations.map((l) => l.id);
    assert.deepEqual(publishedKeys(topic.records), timeOrderedKeys(ids, day(1), day(11)));
    for (const location of locations) {
      assert.deepEqual(
        topic.records.filter((r) => r.key === location.id).map((r) => r.value),
        expectedObservations(location, { startDate: '2026-11-01', endDate: '2026-11-10' }),
      );
    }
    const recorded = (await openProgressStore(path)).snapshot().backfill;
    assert.equal(Object.keys(recorded).length, 48);
    assert.equal(recorded[chunkKey(ids[0] ?? '', '2026-11-10', '2026-11-10')]?.records, 24);
  });

  it('publishes nothing of a chunk with a failed location and starts no later chunk; the resume publishes each hour once, in time order', async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const path = join(dir, `p${files++}.json`);
    // After the first chunk, every attempt at sydney's second chunk fails.
    const publish = async (records: Parameters<FakeTopic['publish']>[0]) => {
      await topic.publish(records);
      if (topic.calls === 1) client.failNext(3, http503, 'sydney');
    };
    const first = await backfill(client, topic, path, { publish });
    assert.deepEqual(
      first.failed.map((f) => [f.location, f.startDate, f.endDate]),
      [['sydney', '2026-11-03', '2026-11-04']],
    );
    assert.match(first.failed[0]?.error ?? '', /HTTP 503/);
    assert.deepEqual(
      [first.completed, first.notStarted, first.records, first.stopped],
      [5, 4 + 10, 240, false],
    );
    assert.ok(
      topic.records.every((r) => r.value.time < day(3)),
      'only the first chunk',
    );
    assert.ok(
      client.calls.every((c) => 'startDate' in c.range && c.range.startDate < '2026-11-05'),
    );

    const calls = client.calls.length;
    const second = await backfill(client, topic, path);
    assert.deepEqual([second.skipped, second.completed, second.failed.length], [5, 15, 0]);
    assert.equal(client.calls.length - calls, 15);
    assertComplete(topic);
    // Both runs together: one stream in time order.
    assert.deepEqual(publishedKeys(topic.records), timeOrderedKeys(fiveIds, day(1), day(8)));
  });

  it('reports every location of a chunk whose publish failed, records none of it, and resumes there', async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const path = join(dir, `p${files++}.json`);
    const publish = async (records: Parameters<FakeTopic['publish']>[0]) => {
      await topic.publish(records);
      if (topic.calls === 2) topic.failNext(1); // the third chunk's publish
    };
    const first = await backfill(client, topic, path, { publish });
    assert.deepEqual(
      first.failed.map((f) => [f.location, f.startDate]),
      fiveIds.map((id) => [id, '2026-11-05']),
    );
    assert.ok(first.failed.every((f) => /broker unavailable/.test(f.error)));
    assert.deepEqual([first.completed, first.notStarted], [10, 5]);
    const progress = await openProgressStore(path);
    assert.equal(progress.chunkDone(chunkKey('berlin', '2026-11-05', '2026-11-06')), false);
    const second = await backfill(client, topic, path);
    assert.deepEqual([second.skipped, second.completed], [10, 10]);
    assertComplete(topic);
    assert.deepEqual(publishedKeys(topic.records), timeOrderedKeys(fiveIds, day(1), day(8)));
  });

  it('resumes a chunk recorded for some locations only by publishing just the missing ones, in time order', async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const path = join(dir, `p${files++}.json`);
    // A progress file as a location-by-location backfill leaves it: berlin ahead of the rest.
    const old = await openProgressStore(path);
    const done: Record<string, string[]> = {
      berlin: ['2026-11-01/2026-11-02', '2026-11-03/2026-11-04', '2026-11-05/2026-11-06'],
      lisbon: ['2026-11-01/2026-11-02', '2026-11-03/2026-11-04'],
      nairobi: ['2026-11-01/2026-11-02'],
      sydney: ['2026-11-01/2026-11-02'],
      anchorage: ['2026-11-01/2026-11-02'],
    };
    for (const [id, chunks] of Object.entries(done))
      for (const chunk of chunks) await old.markChunkDone(`${id}/${chunk}`, 48);

    const report = await backfill(client, topic, path);
    assert.deepEqual([report.skipped, report.completed, report.records], [8, 12, 7 * 48 + 5 * 24]);
    assert.deepEqual(
      client.calls.map((c) => `${c.location}/${'startDate' in c.range ? c.range.startDate : ''}`),
      [
        'nairobi/2026-11-03',
        'sydney/2026-11-03',
        'anchorage/2026-11-03',
        'lisbon/2026-11-05',
        'nairobi/2026-11-05',
        'sydney/2026-11-05',
        'anchorage/2026-11-05',
        ...fiveIds.map((id) => `${id}/2026-11-07`),
      ],
    );
    const missing = (id: string, time: number): boolean => {
      const chunk = Math.floor((time - day(1)) / (2 * 24 * 3_600_000));
      return chunk >= (done[id]?.length ?? 0);
    };
    const expected = timeOrderedKeys(fiveIds, day(1), day(8)).filter((k) => {
      const [id = '', iso = ''] = k.split('@');
      return missing(id, Date.parse(iso));
    });
    assert.deepEqual(publishedKeys(topic.records), expected);
  });

  it('when stopped, finishes the chunk in flight and starts none; a resume completes the range', async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const path = join(dir, `p${files++}.json`);
    const stop = new AbortController();
    // Stopped while the second chunk's requests are in flight: it still finishes.
    client.gate = async () => {
      if (client.calls.length === 7) stop.abort();
    };
    const first = await backfill(client, topic, path, { signal: stop.signal });
    assert.deepEqual([first.stopped, first.completed, first.notStarted], [true, 10, 10]);
    assert.equal(client.calls.length, 10);
    client.gate = () => Promise.resolve();
    const second = await backfill(client, topic, path);
    assert.equal(second.skipped, 10);
    assertComplete(topic);
    assert.deepEqual(publishedKeys(topic.records), timeOrderedKeys(fiveIds, day(1), day(8)));
  });

  it('when stopped during a backoff wait, gives that location up and publishes nothing of its chunk', async () => {
    const client = new FakeOpenMeteo();
    const topic = new FakeTopic();
    const stop = new AbortController();
    client.failNext(1, http503, 'sydney');
    const report = await backfill(client, topic, join(dir, `p${files++}.json`), {
      signal: stop.signal,
      // The stop comes while sydney waits to retry; the wait ends at once, as a real one would.
      sleep: async () => {
        stop.abort();
        throw new Error('aborted');
      },
    });
    assert.deepEqual(
      report.failed.map((f) => f.location),
      ['sydney'],
    );
    assert.deepEqual([report.stopped, report.completed, report.notStarted], [true, 0, 19]);
    assert.equal(topic.records.length, 0);
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
