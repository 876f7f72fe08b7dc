import { systemClock } from '../../core/index.ts';
import type { Clock } from '../../core/index.ts';
import { HttpSourceError } from './errors.ts';
import { hourlyVariables } from './observation.ts';
import type { Location, Observation } from './observation.ts';
import { observationsFrom } from './open-meteo-response.ts';

/** The days a forecast request covers: relative to the server's today, or explicit UTC days. */
export type ForecastRange =
  { pastDays?: number; forecastDays?: number } | { startDate: string; endDate: string };

/** Explicit UTC days, both included, as `YYYY-MM-DD`. */
export interface DayRange {
  startDate: string;
  endDate: string;
}

/** What the poll source needs: one attempt at the forecast endpoint (retries are the caller's). */
export interface ForecastClient {
  forecast(location: Location, range: ForecastRange, signal?: AbortSignal): Promise<Observation[]>;
}

/** What a backfill needs: one attempt at the archive endpoint. */
export interface ArchiveClient {
  archive(location: Location, range: DayRange, signal?: AbortSignal): Promise<Observation[]>;
}

export interface OpenMeteoClient extends ForecastClient, ArchiveClient {
  forecastUrl(location: Location, range: ForecastRange): string;
  archiveUrl(location: Location, range: DayRange): string;
}

export interface OpenMeteoClientOptions {
  /** Serves /v1/forecast, e.g. `https://api.open-meteo.com` or the replay server's URL. */
  baseUrl: string;
  /** Serves /v1/archive (Open-Meteo: `https://archive-api.open-meteo.com`); default baseUrl. */
  archiveBaseUrl?: string;
  /** Per request, body included (default 10 s); a timeout is retriable. */
  timeoutMs?: number;
  /** For tests; default the global fetch. */
  fetch?: typeof fetch;
  /** Reads a Retry-After given as a date. */
  clock?: Clock;
}

function endpoint(base: string, path: string, params: Record<string, string>): string {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  // Open-Meteo lists variables with plain commas; URLSearchParams would write %2C.
  return url.toString().replaceAll('%2C', ',');
}

function coordinates(location: Location): Record<string, string> {
  return { latitude: String(location.latitude), longitude: String(location.longitude) };
}

const common = { hourly: hourlyVariables.join(','), timezone: 'UTC' };

/** Seconds or an HTTP date, as ms; undefined if absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `fetch failed: connect ECONNREFUSED 127.0.0.1:1`: undici hides the reason in the cause. */
function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e instanceof Error && parts.length < 3; e = e.cause) parts.push(e.message);
  return parts.length === 0 ? String(error) : parts.join(': ');
}

/** Open-Meteo explains a 4xx as `{"error": true, "reason": "..."}`. */
function reasonOf(text: string): string {
  try {
    const body = JSON.parse(text) as { reason?: unknown };
    if (typeof body.reason === 'string') return body.reason;
  } catch {
    // not JSON: fall through to the text itself
  }
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}

/** An Open-Meteo style HTTP client: each call is one request, classified for retrying. */
export function createOpenMeteoClient(options: OpenMeteoClientOptions): OpenMeteoClient {
  const { baseUrl, archiveBaseUrl = baseUrl, timeoutMs = 10_000 } = options;
  const fetchFn = options.fetch ?? fetch;
  const clock = options.clock ?? systemClock;

  const forecastUrl = (location: Location, range: ForecastRange): string => {
    const days: Record<string, string> = {};
    if ('startDate' in range) {
      days.start_date = range.startDate;
      days.end_date = range.endDate;
    } else {
      if (range.pastDays !== undefined) days.past_days = String(range.pastDays);
      if (range.forecastDays !== undefined) days.forecast_days = String(range.forecastDays);
    }
    return endpoint(baseUrl, 'v1/forecast', { ...coordinates(location), ...common, ...days });
  };
  const archiveUrl = (location: Location, range: DayRange): string =>
    endpoint(archiveBaseUrl, 'v1/archive', {
      ...coordinates(location),
      start_date: range.startDate,
      end_date: range.endDate,
      ...common,
    });

  async function get(location: Location, url: string, signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    const where = `for location '${location.id}' from ${url}`;
    let text: string;
    let response: Response;
    try {
      response = await fetchFn(url, { signal: combined, headers: { accept: 'application/json' } });
      text = await response.text();
    } catch (cause) {
      const why = timeout.aborted
        ? `no answer within ${timeoutMs} ms`
        : signal?.aborted === true
          ? 'stopped'
          : messageChain(cause);
      throw new HttpSourceError('HTTP_REQUEST_FAILED', `request ${where} failed: ${why}`, {
        cause,
      });
    }
    if (!response.ok) {
      const status = response.status;
      // 5xx and 429 are the server's passing trouble; any other 4xx is our request's fault.
      const retriable = status >= 500 || status === 429;
      const after = retryAfterMs(response.headers.get('retry-after'), clock.now());
      throw new HttpSourceError(
        'HTTP_REQUEST_FAILED',
        `HTTP ${status} ${where}: ${reasonOf(text) || response.statusText}`,
        { retriable, status, ...(after === undefined ? {} : { retryAfterMs: after }) },
      );
    }
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new HttpSourceError(
        'HTTP_RESPONSE_INVALID',
        `invalid Open-Meteo response ${where}: not JSON (${(cause as Error).message})`,
        { cause, status: response.status },
      );
    }
  }

  return {
    forecastUrl,
    archiveUrl,
    async forecast(location, range, signal) {
      const url = forecastUrl(location, range);
      return observationsFrom(await get(location, url, signal), location, url);
    },
    async archive(location, range, signal) {
      const url = archiveUrl(location, range);
      return observationsFrom(await get(location, url, signal), location, url);
    },
  };
}
