import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { systemClock } from '../../src/core/index.ts';
import type { Clock } from '../../src/core/index.ts';
import { dayMs, hourMs, parseDay } from '../../src/connectors/open-meteo/hours.ts';
import { hourlyVariables } from '../../src/connectors/open-meteo/observation.ts';
import type { HourlyVariable } from '../../src/connectors/open-meteo/observation.ts';
import { modelledWeather } from './weather-model.ts';
import type { WeatherValues } from './weather-model.ts';

export type ReplayEndpoint = 'forecast' | 'archive';

/** What a malformed answer looks like (all with status 200). */
export type MalformedKind =
  | 'truncated' // JSON cut off halfway
  | 'html' // an HTML page, as a misconfigured proxy sends
  | 'missing-variable' // hourly.temperature_2m absent
  | 'length-mismatch' // hourly.precipitation one value short
  | 'wrong-type'; // hourly.temperature_2m values as strings

export interface ReplayRequest {
  endpoint: ReplayEndpoint | 'unknown';
  url: string;
  status: number;
  /** The injected fault that shaped the answer, if any. */
  fault?: 'fail' | 'malformed' | 'delay';
}

/** Faults for the next requests, consumed in the order they were added. */
export interface ReplayFaults {
  /** Answers the next `count` requests (Infinity: all, until clear) with `status` (default 503). */
  failNext(
    count: number,
    options?: { status?: number; retryAfterSeconds?: number; endpoint?: ReplayEndpoint },
  ): void;
  /** Answers the next `count` requests with a malformed 200 body. */
  malformNext(count: number, kind?: MalformedKind, endpoint?: ReplayEndpoint): void;
  /** Delays the next `count` answers by `ms` (then answers normally). */
  delayNext(count: number, ms: number, endpoint?: ReplayEndpoint): void;
  /** Drops every pending fault. */
  clear(): void;
}

export interface ReplayServerOptions {
  /** Default 127.0.0.1; keep it on loopback. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Today, for forecast requests by past_days/forecast_days. */
  clock?: Clock;
  /** The values served; default modelledWeather. */
  weather?: (latitude: number, longitude: number, time: number) => WeatherValues;
}

export interface ReplayServer {
  /** e.g. `http://127.0.0.1:40123`: the baseUrl (and archiveBaseUrl) of the client. */
  readonly url: string;
  readonly faults: ReplayFaults;
  /** The requests answered so far, in order (the latest 100,000). */
  readonly requests: readonly ReplayRequest[];
  close(): Promise<void>;
}

type Fault =
  | { kind: 'fail'; status: number; retryAfterSeconds?: number }
  | { kind: 'malformed'; malformed: MalformedKind }
  | { kind: 'delay'; ms: number };

interface PendingFault {
  fault: Fault;
  remaining: number;
  endpoint?: ReplayEndpoint;
}

const units: Record<HourlyVariable, string> = {
  temperature_2m: '°C',
  relative_humidity_2m: '%',
  precipitation: 'mm',
  wind_speed_10m: 'km/h',
};

const maxLoggedRequests = 100_000;

/** A 400 with Open-Meteo's error body. */
class BadRequest extends Error {}

function numberParam(params: URLSearchParams, name: string, low: number, high: number): number {
  const text = params.get(name);
  const value = Number(text);
  if (text === null || text.trim() === '' || !Number.isFinite(value)) {
    throw new BadRequest(`Parameter '${name}' is required and must be a number`);
  }
  if (value < low || value > high) {
    throw new BadRequest(`${name} must be in range of ${low} to ${high}. Given: ${value}.`);
  }
  return value;
}

function dayParam(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  try {
    return parseDay(text, name);
  } catch {
    throw new BadRequest(`Invalid date format for '${name}': ${text}, expected YYYY-MM-DD`);
  }
}

/** The first and last day (ms, midnight UTC) a request covers. */
function daysOf(endpoint: ReplayEndpoint, params: URLSearchParams, now: number): [number, number] {
  const start = dayParam(params, 'start_date');
  const end = dayParam(params, 'end_date');
  if ((start === undefined) !== (end === undefined)) {
    throw new BadRequest("Parameter 'start_date' and 'end_date' must be given together");
  }
  if (start !== undefined && end !== undefined) {
    if (params.has('past_days') || params.has('forecast_days')) {
      throw new BadRequest("Parameter 'start_date' and 'past_days' are mutually exclusive");
    }
    if (end < start) throw new BadRequest('End-date must be larger or equals than start-date');
    if (end - start > 366 * dayMs) throw new BadRequest('At most 366 days per request');
    return [start, end];
  }
  if (endpoint === 'archive') {
    throw new BadRequest("Parameter 'start_date' and 'end_date' are required");
  }
  const pastDays = params.has('past_days') ? numberParam(params, 'past_days', 0, 92) : 0;
  const forecastDays = params.has('forecast_days')
    ? numberParam(params, 'forecast_days', 0, 16)
    : 7;
  const today = Math.floor(now / dayMs) * dayMs;
  return [today - pastDays * dayMs, today + (forecastDays - 1) * dayMs];
}

function variablesOf(params: URLSearchParams): HourlyVariable[] {
  const list = (params.get('hourly') ?? '').split(',').filter((v) => v !== '');
  if (list.length === 0)
    throw new BadRequest("Parameter 'hourly' is required by the replay server");
  for (const v of list) {
    if (!(hourlyVariables as readonly string[]).includes(v)) {
      throw new BadRequest(`Cannot initialize WeatherVariable from invalid String value ${v}.`);
    }
  }
  return list as HourlyVariable[];
}

/**
 * A deterministic stand-in for Open-Meteo on loopback: GET /v1/forecast and /v1/archive answer in
 * Open-Meteo's JSON shape with modelledWeather's values, and faults can be injected.
 *
 * @example
 *   const server = await startReplayServer();
 *   const client = createOpenMeteoClient({ baseUrl: server.url });
 *   server.faults.failNext(2); // the next two requests get 503
 */
export async function startReplayServer(options: ReplayServerOptions = {}): Promise<ReplayServer> {
  const { host = '127.0.0.1', port = 0, clock = systemClock, weather = modelledWeather } = options;
  let pending: PendingFault[] = [];
  const requests: ReplayRequest[] = [];

  const takeFault = (endpoint: ReplayEndpoint): Fault | undefined => {
    const entry = pending.find((p) => p.endpoint === undefined || p.endpoint === endpoint);
    if (entry === undefined) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0) pending = pending.filter((p) => p !== entry);
    return entry.fault;
  };

  function body(endpoint: ReplayEndpoint, params: URLSearchParams): Record<string, unknown> {
    const latitude = numberParam(params, 'latitude', -90, 90);
    const longitude = numberParam(params, 'longitude', -180, 180);
    const timezone = params.get('timezone') ?? 'GMT';
    if (timezone !== 'UTC' && timezone !== 'GMT') {
      throw new BadRequest(`The replay server serves timezone UTC only, got ${timezone}`);
    }
    const variables = variablesOf(params);
    const [first, last] = daysOf(endpoint, params, clock.now());
    const time: string[] = [];
    const columns = new Map<HourlyVariable, (number | null)[]>(variables.map((v) => [v, []]));
    for (let t = first; t < last + dayMs; t += hourMs) {
      time.push(new Date(t).toISOString().slice(0, 16));
      const values = weather(latitude, longitude, t);
      for (const v of variables) columns.get(v)?.push(values[v]);
    }
    return {
      latitude,
      longitude,
      generationtime_ms: 0.05,
      utc_offset_seconds: 0,
      timezone,
      timezone_abbreviation: timezone,
      elevation: Math.round(Math.abs(Math.sin(latitude * 7.1 + longitude * 3.3)) * 800),
      hourly_units: Object.fromEntries([
        ['time', 'iso8601'],
        ...variables.map((v) => [v, units[v]]),
      ]),
      hourly: Object.fromEntries([['time', time], ...columns]),
    };
  }

  function malformed(kind: MalformedKind, full: Record<string, unknown>): string {
    const hourly = { ...(full.hourly as Record<string, unknown[]>) };
    switch (kind) {
      case 'truncated': {
        const text = JSON.stringify(full);
        return text.slice(0, Math.floor(text.length / 2));
      }
      case 'html':
        return '<html><body><h1>502 Bad Gateway</h1></body></html>';
      case 'missing-variable':
        delete hourly.temperature_2m;
        break;
      case 'length-mismatch':
        hourly.precipitation = (hourly.precipitation ?? []).slice(0, -1);
        break;
      case 'wrong-type':
        hourly.temperature_2m = (hourly.temperature_2m ?? []).map(String);
        break;
    }
    return JSON.stringify({ ...full, hourly });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replay');
    const endpoint: ReplayEndpoint | undefined =
      url.pathname === '/v1/forecast'
        ? 'forecast'
        : url.pathname === '/v1/archive'
          ? 'archive'
          : undefined;
    const send = (
      status: number,
      text: string,
      fault?: ReplayRequest['fault'],
      type = 'application/json',
    ): void => {
      // A long demo run keeps the latest entries only.
      if (requests.length >= maxLoggedRequests) requests.splice(0, requests.length / 2);
      requests.push({
        endpoint: endpoint ?? 'unknown',
        url: req.url ?? '/',
        status,
        ...(fault ? { fault } : {}),
      });
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    };
    if (req.method !== 'GET' || endpoint === undefined) {
      send(404, JSON.stringify({ error: true, reason: 'Not Found' }));
      return;
    }
    const fault = takeFault(endpoint);
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'fail') {
      if (fault.retryAfterSeconds !== undefined)
        res.setHeader('retry-after', String(fault.retryAfterSeconds));
      send(
        fault.status,
        JSON.stringify({ error: true, reason: `injected HTTP ${fault.status}` }),
        'fail',
      );
      return;
    }
    let full: Record<string, unknown>;
    try {
      full = body(endpoint, url.searchParams);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      send(400, JSON.stringify({ error: true, reason: error.message }));
      return;
    }
    if (fault?.kind === 'malformed') {
      const type = fault.malformed === 'html' ? 'text/html' : 'application/json';
      send(200, malformed(fault.malformed, full), 'malformed', type);
      return;
    }
    send(200, JSON.stringify(full), fault?.kind);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: true, reason: (error as Error).message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;

  const add = (fault: Fault, count: number, endpoint?: ReplayEndpoint): void => {
    if (count > 0) pending.push({ fault, remaining: count, ...(endpoint ? { endpoint } : {}) });
  };
  return {
    url: `http://${address.address}:${address.port}`,
    requests,
    faults: {
      failNext: (count, o = {}) =>
        add(
          {
            kind: 'fail',
            status: o.status ?? 503,
            ...(o.retryAfterSeconds === undefined
              ? {}
              : { retryAfterSeconds: o.retryAfterSeconds }),
          },
          count,
          o.endpoint,
        ),
      malformNext: (count, kind = 'truncated', endpoint) =>
        add({ kind: 'malformed', malformed: kind }, count, endpoint),
      delayNext: (count, ms, endpoint) => add({ kind: 'delay', ms }, count, endpoint),
      clear: () => {
        pending = [];
      },
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
