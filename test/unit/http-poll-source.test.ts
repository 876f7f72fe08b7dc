import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { createPollSource, openProgressStore } from '../../src/connectors/open-meteo/index.ts';
import type { PollSourceOptions } from '../../src/connectors/open-meteo/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import {
  FakeOpenMeteo,
  FakeTopic,
  fiveLocations,
  http400,
  http503,
  malformed,
  publishedKeys,
  recordingSleep,
  shuffledGate,
  timeOrderedKeys,
} from '../fixtures/open-meteo/fakes.ts';

const dir = mkdtempSync(join(tmpdir(), 'http-poll-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const minute = 60_000;
const hour = 60 * minute;
const start = Date.UTC(2026, 10, 20, 10, 20); // 10:20: 09:00 is the last complete hour

async function setup(overrides: Partial<PollSourceOptions> = {}, path?: string) {
  const clock = new ManualClock(start);
  const client = new FakeOpenMeteo();
  const topic = new FakeTopic();
  const { sleep, waits } = recordingSleep();
  const progressPath = path ?? join(dir, `progress-${files++}.json`);
  const progress = await openProgressStore(progressPath, clock);
  const source = createPollSource({
    locations: fiveLocations,
    intervalMs: 15 * minute,
    client,
    publish: topic.publish,
    progress,
    clock,
    sleep,
    random: () => 0,
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 },
    ...overrides,
  });
  return { clock, client, topic, waits, source, progressPath };
}

const allOnce = (topic: FakeTopic): boolean => [...topic.counts().values()].every((n) => n === 1);
const fiveIds = fiveLocations.map((l) => l.id);

describe('poll source', () => {
  it('publishes the complete hours since yesterday first, then only each new complete hour', async () => {
    const { clock, client, topic, source } = await setup();
    const first = await source.pollOnce();
    assert.equal(first.published, 5 * 34); // 2026-11-19T00:00 .. 2026-11-20T09:00
    assert.deepEqual(client.calls[0]?.range, { startDate: '2026-11-19', endDate: '2026-11-20' });
    assert.ok(topic.records.every((r) => r.key === r.value.location));
    assert.ok(topic.records.every((r) => r.value.time + hour <= start));

    clock.advance(10 * minute); // 10:30: no new complete hour, so no request at all
    assert.equal((await source.pollOnce()).published, 0);
    assert.equal(client.calls.length, 5);

    clock.advance(hour); // 11:30: 10:00 is complete
    assert.equal((await source.pollOnce()).published, 5);
    assert.deepEqual(client.calls[5]?.range, { startDate: '2026-11-20', endDate: '2026-11-20' });
    assert.equal(topic.records.length, 5 * 35);
    assert.ok(allOnce(topic));
    assert.deepEqual(
      { ...source.stats(), rounds: 3 },
      {
        rounds: 3,
        requests: 10,
        retries: 0,
        invalidResponses: 0,
        fetchFailures: 0,
        published: 175,
        publishFailures: 0,
        progressFailures: 0,
      },
    );
  });

  it("publishes a round's hours of all locations merged by event time, then moves every mark", async () => {
    const { clock, client, topic, source, progressPath } = await setup({ concurrency: 3 });
    client.gate = shuffledGate(3); // the fetches finish in a shuffled order
    await source.pollOnce();
    assert.equal(topic.calls, 1);
    const since = Date.UTC(2026, 10, 19);
    assert.deepEqual(
      publishedKeys(topic.records),
      timeOrderedKeys(fiveIds, since, start - 20 * minute),
    );
    const marks = (await openProgressStore(progressPath)).snapshot().poll;
    assert.deepEqual(
      marks,
      Object.fromEntries(fiveIds.map((id) => [id, '2026-11-20T09:00:00.000Z'])),
    );

    clock.advance(3 * hour); // 13:20: three more complete hours, again merged
    await source.pollOnce();
    assert.deepEqual(
      publishedKeys(topic.records.slice(5 * 34)),
      timeOrderedKeys(fiveIds, Date.UTC(2026, 10, 20, 10), Date.UTC(2026, 10, 20, 13)),
    );
  });

  it('retries a burst of 503s within the round, with backoff, and still publishes each hour once', async () => {
    const { client, topic, source, waits } = await setup({ concurrency: 1 });
    client.failNext(3, http503);
    const report = await source.pollOnce();
    assert.deepEqual(report.failed, []);
    assert.equal(report.published, 170);
    assert.deepEqual(waits, [50, 100, 200]); // random() = 0: the low end of each jittered delay
    assert.equal(source.stats().retries, 3);
    assert.equal(source.stats().requests, 8);
    assert.ok(allOnce(topic));
  });

  it('skips a location refused with a 4xx without retrying, and catches it up next round', async () => {
    const { clock, client, topic, source } = await setup();
    client.failNext(1, http400, 'berlin');
    const report = await source.pollOnce();
    assert.deepEqual(report.failed, ['berlin']);
    assert.equal(client.calls.filter((c) => c.location === 'berlin').length, 1);
    assert.equal(source.stats().fetchFailures, 1);
    clock.advance(hour);
    assert.equal((await source.pollOnce()).published, 35 + 4);
    assert.equal(topic.records.length, 5 * 35);
    assert.ok(allOnce(topic));
    // The catch-up round is in time order itself: berlin's hours first, then the new hour of all.
    assert.deepEqual(publishedKeys(topic.records.slice(4 * 34)), [
      ...timeOrderedKeys(['berlin'], Date.UTC(2026, 10, 19), Date.UTC(2026, 10, 20, 10)),
      ...timeOrderedKeys(fiveIds, Date.UTC(2026, 10, 20, 10), Date.UTC(2026, 10, 20, 11)),
    ]);
  });

  it('retries malformed answers like HTTP errors, then skips the location for the round, counted', async () => {
    const { client, topic, source } = await setup();
    client.failNext(4, malformed, 'lisbon');
    const report = await source.pollOnce();
    assert.deepEqual(report.failed, ['lisbon']);
    assert.equal(source.stats().invalidResponses, 4);
    assert.equal(source.stats().fetchFailures, 1);
    assert.equal(topic.records.filter((r) => r.key === 'lisbon').length, 0);
    assert.equal((await source.pollOnce()).published, 34);
    assert.ok(allOnce(topic));
  });

  it('leaves every mark after a failed publish, so the next round publishes those hours, none twice', async () => {
    const { topic, source, progressPath } = await setup();
    topic.failNext(1);
    const report = await source.pollOnce();
    assert.deepEqual(report.failed, fiveIds);
    assert.equal(report.published, 0);
    const reopened = await openProgressStore(progressPath);
    assert.ok(fiveIds.every((id) => reopened.highWater(id) === undefined));
    assert.equal(source.stats().publishFailures, 1);
    assert.equal((await source.pollOnce()).published, 170);
    assert.equal(topic.records.length, 170);
    assert.ok(allOnce(topic));
  });

  it('does not publish again after a restart with the same progress file', async () => {
    const first = await setup();
    await first.source.pollOnce();
    await first.source.stop();
    const second = await setup({}, first.progressPath);
    assert.equal((await second.source.pollOnce()).published, 0);
    assert.equal(second.client.calls.length, 0);
    second.clock.advance(2 * hour);
    assert.equal((await second.source.pollOnce()).published, 10);
    assert.deepEqual(
      second.topic.records.filter((r) => r.key === 'berlin').map((r) => r.value.time),
      [Date.UTC(2026, 10, 20, 10), Date.UTC(2026, 10, 20, 11)],
    );
  });

  it('repeats one batch after a crash between Kafka ack and the progress write (the at-least-once boundary)', async () => {
    const first = await setup();
    const progress = await openProgressStore(first.progressPath);
    // A crash right after publish: the mark is neither kept in memory nor written.
    const crashing = { ...progress, advanceHighWaters: () => Promise.reject(new Error('crash')) };
    const topic = new FakeTopic();
    const source = createPollSource({
      locations: fiveLocations.slice(0, 1),
      intervalMs: hour,
      client: first.client,
      publish: topic.publish,
      progress: crashing,
      clock: first.clock,
    });
    await source.pollOnce();
    assert.equal(source.stats().progressFailures, 1);
    const restarted = createPollSource({
      locations: fiveLocations.slice(0, 1),
      intervalMs: hour,
      client: first.client,
      publish: topic.publish,
      progress: await openProgressStore(first.progressPath),
      clock: first.clock,
    });
    await restarted.pollOnce();
    // The same 34 records twice, identical keys and values: an upsert downstream.
    assert.equal(topic.records.length, 68);
    assert.ok([...topic.counts().values()].every((n) => n === 2));
  });

  it('limits the catch-up after a long outage to maxCatchUpDays', async () => {
    const { clock, client, source } = await setup({ maxCatchUpDays: 3 });
    await source.pollOnce();
    clock.advance(10 * 24 * hour);
    await source.pollOnce();
    assert.deepEqual(client.calls[5]?.range, { startDate: '2026-11-27', endDate: '2026-11-30' });
  });

  it('fetches at most `concurrency` locations at a time', async () => {
    const { client, source } = await setup({ concurrency: 2 });
    await source.pollOnce();
    assert.equal(client.maxInFlight, 2);
  });

  it('stops: waits for the round in flight and starts no further location', async () => {
    const { client, source, topic } = await setup({ concurrency: 2 });
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    client.gate = () => held;
    source.start();
    assert.equal(source.state, 'running');
    while (client.inFlight < 2) await new Promise((resolve) => setImmediate(resolve));
    let stopped = false;
    const stopping = source.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false);
    assert.equal(source.state, 'stopping');
    release();
    await stopping;
    assert.equal(source.state, 'stopped');
    assert.equal(client.calls.length, 2);
    assert.equal(topic.records.length, 2 * 34); // the two in flight finished and published
    await assert.rejects(source.pollOnce(), /stopped/);
  });

  it('stops during a backoff wait without waiting it out: the location is skipped', async () => {
    let waiting = 0;
    const { client, source } = await setup({
      concurrency: 5,
      // Waits until aborted, as a long backoff would.
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          waiting++;
          signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    client.failNext(5, http503);
    const round = source.pollOnce();
    while (waiting < 5) await new Promise((resolve) => setImmediate(resolve));
    await source.stop();
    const report = await round;
    assert.equal(report.failed.length, 5);
    assert.equal(client.calls.length, 5);
  });

  it('refuses settings it cannot work with', async () => {
    await assert.rejects(setup({ intervalMs: 0 }), /poll interval must be > 0 ms/);
    await assert.rejects(setup({ concurrency: 0 }), /concurrency must be >= 1/);
    await assert.rejects(
      setup({ locations: [...fiveLocations, { id: 'berlin', latitude: 0, longitude: 0 }] }),
      /location id 'berlin' appears twice/,
    );
    await assert.rejects(
      setup({ locations: [{ id: 'x', latitude: 91, longitude: 0 }] }),
      /latitude of 'x' must be in \[-90, 90\]/,
    );
  });
});
