import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  createOpenMeteoClient,
  HttpSourceError,
  withRetries,
} from '../../src/connectors/open-meteo/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import { modelledWeather, startReplayServer } from '../../tools/open-meteo-replay/index.ts';
import type { MalformedKind, ReplayServer } from '../../tools/open-meteo-replay/index.ts';

const berlin = { id: 'berlin', latitude: 52.52, longitude: 13.41 };
const now = Date.UTC(2026, 10, 20, 10, 20);

describe('replay server and Open-Meteo client (loopback HTTP)', () => {
  let server: ReplayServer;

  before(async () => {
    server = await startReplayServer({ clock: new ManualClock(now) });
  });
  after(() => server.close());

  it('listens on 127.0.0.1 on a free port', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("answers in Open-Meteo's shape with the modelled values", async () => {
    const url = `${server.url}/v1/forecast?latitude=52.52&longitude=13.41&hourly=temperature_2m,relative_humidity_2m,precipitation,wind_speed_10m&timezone=UTC&past_days=1&forecast_days=1`;
    const body = (await (await fetch(url)).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), [
      'latitude',
      'longitude',
      'generationtime_ms',
      'utc_offset_seconds',
      'timezone',
      'timezone_abbreviation',
      'elevation',
      'hourly_units',
      'hourly',
    ]);
    const hourly = body.hourly as { time: string[]; temperature_2m: (number | null)[] };
    assert.equal(hourly.time.length, 48); // yesterday and today, by the server's clock
    assert.equal(hourly.time[0], '2026-11-19T00:00');
    assert.equal(
      hourly.temperature_2m[37],
      modelledWeather(52.52, 13.41, Date.UTC(2026, 10, 20, 13)).temperature_2m,
    );
  });

  it('serves the archive by days through the client, the same values as the forecast', async () => {
    const client = createOpenMeteoClient({ baseUrl: server.url });
    const archive = await client.archive(berlin, {
      startDate: '2026-11-01',
      endDate: '2026-11-07',
    });
    assert.equal(archive.length, 7 * 24);
    assert.equal(archive[0]?.time, Date.UTC(2026, 10, 1));
    for (const o of archive) {
      assert.deepEqual(o, {
        location: 'berlin',
        latitude: 52.52,
        longitude: 13.41,
        time: o.time,
        ...modelledWeather(52.52, 13.41, o.time),
      });
    }
    const forecast = await client.forecast(berlin, {
      startDate: '2026-11-07',
      endDate: '2026-11-07',
    });
    assert.deepEqual(forecast, archive.slice(6 * 24));
  });

  it('fails the next requests with 503 (and Retry-After) when told; the client retries through them', async () => {
    const client = createOpenMeteoClient({ baseUrl: server.url });
    server.faults.failNext(2, { retryAfterSeconds: 0 });
    const waits: number[] = [];
    const result = await withRetries(
      () => client.archive(berlin, { startDate: '2026-11-01', endDate: '2026-11-01' }),
      {
        policy: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, jitter: 0.5 },
        onRetry: (_e, _n, ms) => waits.push(ms),
      },
    );
    assert.equal(result.length, 24);
    assert.equal(waits.length, 2);
    assert.deepEqual(
      server.requests.slice(-3).map((r) => [r.status, r.fault]),
      [
        [503, 'fail'],
        [503, 'fail'],
        [200, undefined],
      ],
    );
  });

  it('sends each kind of malformed body when told, and the client names location and URL', async () => {
    const client = createOpenMeteoClient({ baseUrl: server.url });
    const kinds: MalformedKind[] = [
      'truncated',
      'html',
      'missing-variable',
      'length-mismatch',
      'wrong-type',
    ];
    for (const kind of kinds) {
      server.faults.malformNext(1, kind);
      await assert.rejects(client.forecast(berlin, { pastDays: 1 }), (error: unknown) => {
        assert.ok(error instanceof HttpSourceError, kind);
        assert.equal(error.code, 'HTTP_RESPONSE_INVALID', kind);
        assert.match(
          error.message,
          /location 'berlin' from http:\/\/127\.0\.0\.1:\d+\/v1\/forecast\?/,
        );
        return true;
      });
    }
  });

  it('delays answers when told: past the timeout the client fails retriably', async () => {
    const client = createOpenMeteoClient({ baseUrl: server.url, timeoutMs: 100 });
    server.faults.delayNext(1, 400);
    await assert.rejects(client.forecast(berlin, { pastDays: 1 }), /no answer within 100 ms/);
    server.faults.delayNext(1, 20);
    assert.equal((await client.forecast(berlin, { pastDays: 1, forecastDays: 1 })).length, 48);
  });

  it("answers bad requests with Open-Meteo's 400 body, which the client reports without retrying", async () => {
    const client = createOpenMeteoClient({ baseUrl: server.url });
    await assert.rejects(
      client.archive(
        { id: 'x', latitude: 52.52, longitude: 13.41 },
        { startDate: '2026-11-07', endDate: '2026-11-01' },
      ),
      (error: unknown) =>
        error instanceof HttpSourceError &&
        error.status === 400 &&
        !error.retriable &&
        /End-date must be larger or equals than start-date/.test(error.message),
    );
    const response = await fetch(
      `${server.url}/v1/archive?latitude=1&longitude=2&hourly=temperature_2m`,
    );
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: true,
      reason: "Parameter 'start_date' and 'end_date' are required",
    });
  });
});
