import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  addDays,
  backfillChunks,
  backoffDelay,
  HttpSourceError,
  hoursToPublish,
  isCompleteHour,
  parseDay,
  utcDay,
  withRetries,
} from '../../src/connectors/open-meteo/index.ts';
import type { Observation, RetryPolicy } from '../../src/connectors/open-meteo/index.ts';
import { http400, http503, recordingSleep } from '../fixtures/open-meteo/fakes.ts';

const h = (hour: number): number => Date.UTC(2026, 10, 20, hour);
const obs = (time: number): Observation => ({
  location: 'x',
  latitude: 0,
  longitude: 0,
  time,
  temperature_2m: 1,
  relative_humidity_2m: null,
  precipitation: 0,
  wind_speed_10m: 2,
});

describe('hour completeness', () => {
  it('counts an hour as complete once its end has passed, not before', () => {
    assert.equal(isCompleteHour(h(10), h(11) - 1), false);
    assert.equal(isCompleteHour(h(10), h(11)), true);
    assert.equal(isCompleteHour(h(10), h(10) + 30 * 60_000), false);
  });

  it('publishes only complete hours after the mark, once each, in time order', () => {
    const input = [h(12), h(9), h(10), h(11), h(10), h(8)].map(obs);
    const now = h(12) + 20 * 60_000; // 12:20: 11:00 is the last complete hour
    assert.deepEqual(
      hoursToPublish(input, h(8), now).map((o) => o.time),
      [h(9), h(10), h(11)],
    );
    assert.deepEqual(
      hoursToPublish(input, undefined, now).map((o) => o.time),
      [h(8), h(9), h(10), h(11)],
    );
    assert.deepEqual(hoursToPublish(input, h(11), now), []);
  });

  it('reads and writes UTC days', () => {
    assert.equal(parseDay('2026-11-20'), Date.UTC(2026, 10, 20));
    assert.equal(utcDay(h(23) + 3_599_999), '2026-11-20');
    assert.equal(addDays('2026-12-30', 3), '2027-01-02');
    assert.throws(
      () => parseDay('2026-02-30', 'backfill from'),
      /backfill from must be a day as YYYY-MM-DD, got '2026-02-30'/,
    );
  });

  it('splits a backfill range into chunks of at most chunkDays days', () => {
    assert.deepEqual(backfillChunks('2026-11-01', '2026-11-07', 2), [
      { startDate: '2026-11-01', endDate: '2026-11-02' },
      { startDate: '2026-11-03', endDate: '2026-11-04' },
      { startDate: '2026-11-05', endDate: '2026-11-06' },
      { startDate: '2026-11-07', endDate: '2026-11-07' },
    ]);
    assert.deepEqual(backfillChunks('2026-11-01', '2026-11-01', 7), [
      { startDate: '2026-11-01', endDate: '2026-11-01' },
    ]);
    assert.equal(backfillChunks('2026-01-01', '2026-12-31', 7).length, 53);
  });
});

describe('backoff', () => {
  const policy: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8000, jitter: 0.5 };

  it('doubles from the base up to the cap, the jitter share drawn at random', () => {
    const high = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 1 - Number.EPSILON));
    assert.deepEqual(high, [500, 1000, 2000, 4000, 8000, 8000]);
    const low = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0));
    assert.deepEqual(low, [250, 500, 1000, 2000, 4000, 4000]);
    assert.equal(
      backoffDelay(2, policy, () => 0.5),
      750,
    );
    assert.equal(backoffDelay(1, { ...policy, jitter: 0 }, Math.random), 500);
  });

  it("waits at least a server's Retry-After, but never past the cap", () => {
    assert.equal(
      backoffDelay(1, policy, () => 0, 3000),
      3000,
    );
    assert.equal(
      backoffDelay(1, policy, () => 0, 60_000),
      8000,
    );
  });

  it('retries retriable errors up to the attempts, with the backoff waits', async () => {
    const { sleep, waits } = recordingSleep();
    let calls = 0;
    const result = await withRetries(
      async () => {
        if (++calls < 4) throw http503();
        return 'ok';
      },
      { policy, sleep, random: () => 0 },
    );
    assert.equal(result, 'ok');
    assert.deepEqual(waits, [250, 500, 1000]);
  });

  it('throws the last error when the attempts are used up, and at once when not retriable', async () => {
    const { sleep, waits } = recordingSleep();
    let calls = 0;
    await assert.rejects(
      withRetries(
        async () => {
          calls++;
          throw http503();
        },
        { policy: { ...policy, attempts: 3 }, sleep },
      ),
      /HTTP 503/,
    );
    assert.deepEqual([calls, waits.length], [3, 2]);
    calls = 0;
    await assert.rejects(
      withRetries(
        async () => {
          calls++;
          throw http400();
        },
        { policy, sleep },
      ),
      /HTTP 400/,
    );
    assert.equal(calls, 1);
    await assert.rejects(
      withRetries(
        async () => {
          throw new Error('a bug, not an HTTP error');
        },
        { policy, sleep },
      ),
      /a bug/,
    );
  });

  it('stops retrying once the signal aborts', async () => {
    const { sleep } = recordingSleep();
    const stop = new AbortController();
    let calls = 0;
    await assert.rejects(
      withRetries(
        async () => {
          calls++;
          stop.abort();
          throw new HttpSourceError('HTTP_REQUEST_FAILED', 'down');
        },
        { policy, sleep, signal: stop.signal },
      ),
      /down/,
    );
    assert.equal(calls, 1);
  });
});
