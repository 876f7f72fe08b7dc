import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createOpenMeteoClient,
  HttpSourceError,
  observationsFrom,
} from '../../src/connectors/open-meteo/index.ts';
import { parseLocalHour } from '../../src/connectors/open-meteo/open-meteo-response.ts';

const berlin = { id: 'berlin', latitude: 52.52, longitude: 13.41 };
const url = 'http://open-meteo.test/v1/forecast?latitude=52.52';

function body(overrides: Record<string, unknown> = {}, hourly: Record<string, unknown> = {}) {
  return {
    latitude: 52.52,
    longitude: 13.419998,
    generationtime_ms: 0.06,
    utc_offset_seconds: 0,
    timezone: 'UTC',
    timezone_abbreviation: 'UTC',
    elevation: 38,
    hourly_units: { time: 'iso8601', temperature_2m: '°C' },
    hourly: {
      time: ['2026-11-20T00:00', '2026-11-20T01:00'],
      temperature_2m: [3.4, null],
      relative_humidity_2m: [87, 88],
      precipitation: [0, 0.2],
      wind_speed_10m: [null, 11.5],
      ...hourly,
    },
    ...overrides,
  };
}

function invalid(error: unknown): boolean {
  return (
    error instanceof HttpSourceError &&
    error.code === 'HTTP_RESPONSE_INVALID' &&
    error.retriable &&
    error.message.includes("'berlin'") &&
    error.message.includes(url)
  );
}

describe('Open-Meteo response parsing', () => {
  it('turns each hour into an observation with the location id and configured coordinates, keeping nulls', () => {
    assert.deepEqual(observationsFrom(body(), berlin, url), [
      {
        location: 'berlin',
        latitude: 52.52,
        longitude: 13.41,
        time: Date.UTC(2026, 10, 20, 0),
        temperature_2m: 3.4,
        relative_humidity_2m: 87,
        precipitation: 0,
        wind_speed_10m: null,
      },
      {
        location: 'berlin',
        latitude: 52.52,
        longitude: 13.41,
        time: Date.UTC(2026, 10, 20, 1),
        temperature_2m: null,
        relative_humidity_2m: 88,
        precipitation: 0.2,
        wind_speed_10m: 11.5,
      },
    ]);
  });

  it('reads local times with the utc offset of the answer', () => {
    const shifted = body({ utc_offset_seconds: 3600, timezone: 'Europe/Berlin' });
    assert.equal(observationsFrom(shifted, berlin, url)[0]?.time, Date.UTC(2026, 10, 19, 23));
    assert.equal(parseLocalHour('2026-02-30T00:00', 0), NaN);
    assert.equal(parseLocalHour('2026-11-20 00:00', 0), NaN);
  });

  it('accepts an answer with no hours', () => {
    const empty = body(
      {},
      {
        time: [],
        temperature_2m: [],
        relative_humidity_2m: [],
        precipitation: [],
        wind_speed_10m: [],
      },
    );
    assert.deepEqual(observationsFrom(empty, berlin, url), []);
  });

  it('rejects malformed answers with an error naming the location, the URL and the field', () => {
    const cases: [string, unknown, RegExp][] = [
      ['not an object', 'oops', /body/],
      ['no hourly', { ...body(), hourly: undefined }, /hourly/],
      ['a variable missing', body({}, { temperature_2m: undefined }), /hourly\.temperature_2m/],
      ['a value as a string', body({}, { precipitation: ['0', 0.2] }), /hourly\.precipitation\.0/],
      ['arrays of different lengths', body({}, { wind_speed_10m: [1] }), /1 values for 2 times/],
      [
        'a time that is not an hour',
        body({}, { time: ['2026-11-20T00:30', '2026-11-20T01:00'] }),
        /not the start of an hour/,
      ],
      [
        'a time in another format',
        body({}, { time: ['1763596800', '2026-11-20T01:00'] }),
        /hourly\.time\.0/,
      ],
      ['no utc offset', { ...body(), utc_offset_seconds: undefined }, /utc_offset_seconds/],
    ];
    for (const [name, value, why] of cases) {
      assert.throws(
        () => observationsFrom(value, berlin, url),
        (error: unknown) => invalid(error) && why.test((error as Error).message),
        name,
      );
    }
  });
});

describe('Open-Meteo client (fake fetch)', () => {
  const answer =
    (status: number, text: string, headers: Record<string, string> = {}): typeof fetch =>
    async () =>
      new Response(text, { status, headers });

  it('asks for the hourly variables in UTC with the days given', async () => {
    const seen: string[] = [];
    const client = createOpenMeteoClient({
      baseUrl: 'http://om.test/',
      archiveBaseUrl: 'http://archive.om.test',
      fetch: async (input) => {
        seen.push(String(input));
        return new Response(JSON.stringify(body()), { status: 200 });
      },
    });
    await client.forecast(berlin, { pastDays: 2, forecastDays: 1 });
    await client.forecast(berlin, { startDate: '2026-11-19', endDate: '2026-11-20' });
    await client.archive(berlin, { startDate: '2026-01-01', endDate: '2026-01-07' });
    const hourly = 'hourly=temperature_2m,relative_humidity_2m,precipitation,wind_speed_10m';
    assert.deepEqual(seen, [
      `http://om.test/v1/forecast?latitude=52.52&longitude=13.41&${hourly}&timezone=UTC&past_days=2&forecast_days=1`,
      `http://om.test/v1/forecast?latitude=52.52&longitude=13.41&${hourly}&timezone=UTC&start_date=2026-11-19&end_date=2026-11-20`,
      `http://archive.om.test/v1/archive?latitude=52.52&longitude=13.41&start_date=2026-01-01&end_date=2026-01-07&${hourly}&timezone=UTC`,
    ]);
  });

  it('marks 5xx, 429 and network errors retriable and other 4xx not, with the reason given', async () => {
    const classify = async (fetchFn: typeof fetch) => {
      const client = createOpenMeteoClient({ baseUrl: 'http://om.test', fetch: fetchFn });
      try {
        await client.forecast(berlin, { pastDays: 1 });
        return undefined;
      } catch (error) {
        assert.ok(error instanceof HttpSourceError);
        assert.match(error.message, /'berlin'.*http:\/\/om\.test\/v1\/forecast/);
        return error;
      }
    };
    const e503 = await classify(answer(503, 'busy'));
    assert.deepEqual(
      [e503?.code, e503?.status, e503?.retriable],
      ['HTTP_REQUEST_FAILED', 503, true],
    );
    const e429 = await classify(answer(429, '', { 'retry-after': '3' }));
    assert.deepEqual([e429?.retriable, e429?.retryAfterMs], [true, 3000]);
    const e400 = await classify(
      answer(400, JSON.stringify({ error: true, reason: 'Latitude must be in range' })),
    );
    assert.deepEqual([e400?.retriable, e400?.status], [false, 400]);
    assert.match(e400?.message ?? '', /HTTP 400 .*Latitude must be in range/);
    const network = await classify(async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    });
    assert.deepEqual([network?.code, network?.retriable], ['HTTP_REQUEST_FAILED', true]);
    assert.match(network?.message ?? '', /fetch failed: connect ECONNREFUSED/);
    const html = await classify(answer(200, '<html>502</html>'));
    assert.deepEqual([html?.code, html?.retriable], ['HTTP_RESPONSE_INVALID', true]);
  });

  it('gives up on a request after its timeout, retriably', async () => {
    const client = createOpenMeteoClient({
      baseUrl: 'http://om.test',
      timeoutMs: 5,
      // A request that never answers. AbortSignal.timeout's timer does not hold the process
      // open (a real request's socket does), so this fake holds it until aborted.
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => {
          const open = setInterval(() => undefined, 1000);
          init?.signal?.addEventListener('abort', () => {
            clearInterval(open);
            reject(init.signal?.reason);
          });
        }),
    });
    await assert.rejects(client.forecast(berlin, { pastDays: 1 }), (error: unknown) => {
      assert.ok(error instanceof HttpSourceError);
      assert.equal(error.retriable, true);
      assert.match(error.message, /no answer within 5 ms/);
      return true;
    });
  });
});
