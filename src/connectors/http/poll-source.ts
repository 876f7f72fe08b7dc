import { silentLogger, systemClock, TributaryError } from '../../core/index.ts';
import type { Clock, Logger } from '../../core/index.ts';
import { forEachConcurrently } from './concurrency.ts';
import { HttpSourceError } from './errors.ts';
import { dayMs, hourMs, hoursToPublish, utcDay } from './hours.ts';
import { validateLocations } from './observation.ts';
import type { Location, Publish } from './observation.ts';
import type { DayRange, ForecastClient } from './open-meteo-client.ts';
import type { ProgressStore } from './progress-store.ts';
import { defaultRetryPolicy, realSleep, withRetries } from './retry.ts';
import type { RetryPolicy, Sleep } from './retry.ts';

export interface PollSourceOptions {
  locations: readonly Location[];
  /** Time from the start of one round to the start of the next (a late round starts at once). */
  intervalMs: number;
  client: ForecastClient;
  publish: Publish;
  /** Holds each location's high-water mark; one poll source per file. */
  progress: ProgressStore;
  clock?: Clock;
  logger?: Logger;
  /** Locations fetched at the same time (default 4). */
  concurrency?: number;
  /** Retries of a request within a round (default 4 attempts, 0.5 s doubling to 8 s, jitter 0.5). */
  retry?: RetryPolicy;
  /** How many days before today the first poll of a location starts (default 1). */
  firstPollDays?: number;
  /** After a long outage, the oldest day fetched is today minus this (default 92, Open-Meteo's past_days limit). */
  maxCatchUpDays?: number;
  sleep?: Sleep;
  random?: () => number;
}

/** Counters since the source was created. */
export interface PollSourceStats {
  rounds: number;
  /** HTTP requests made (attempts, retries included). */
  requests: number;
  retries: number;
  /** Responses that were not valid Open-Meteo JSON (each attempt counts). */
  invalidResponses: number;
  /** Locations skipped for a round: their request failed after its retries, or was refused (4xx). */
  fetchFailures: number;
  /** Records acknowledged by Kafka. */
  published: number;
  /** Publishes that failed: the location's mark stayed, its hours go again next round. */
  publishFailures: number;
  /** Progress file writes that failed (the mark holds in memory; a restart may repeat a batch). */
  progressFailures: number;
}

export interface PollRoundReport {
  /** The clock at the start of the round: hours ending at or before it were complete. */
  now: number;
  /** Records published in this round. */
  published: number;
  /** Locations whose fetch or publish failed in this round. */
  failed: string[];
}

/**
 * Lifecycle:
 *
 *   idle --start()--> running --stop()--> stopping --(round in flight done)--> stopped
 *     \---------------------------stop()------------------------------------/
 */
export type PollSourceState = 'idle' | 'running' | 'stopping' | 'stopped';

export interface PollSource {
  /** Polls now, then every intervalMs, until stopped. */
  start(): void;
  /** Runs one round (after any round in flight) and reports it; rounds never overlap. */
  pollOnce(): Promise<PollRoundReport>;
  /** Stops scheduling, cuts short any backoff wait, and resolves when the round in flight ended. */
  stop(): Promise<void>;
  readonly state: PollSourceState;
  stats(): PollSourceStats;
}

/**
 * Polls each location's forecast every interval and publishes one keyed observation per location
 * and complete hour (key = location id), each at most once per progress file:
 *
 *   1. fetch the days from the hour after the location's mark to the last complete hour
 *      (retrying 5xx, 429, network errors, timeouts and malformed bodies with backoff);
 *   2. publish the complete hours after the mark, and wait for Kafka's acknowledgement;
 *   3. only then advance the mark and write the progress file.
 *
 * A failure in 1 or 2 leaves the mark, so the next round fetches and publishes those hours
 * again; nothing is published twice on that path. The boundary is at-least-once: a crash
 * between 2 and 3 (or a failed write in 3 followed by a restart) publishes that one batch again,
 * and a publish that failed after Kafka took part of it repeats that part. Every copy has the same
 * key and value (location, hour), so downstream upserts keyed by (location, window) rewrite
 * identical rows.
 */
export function createPollSource(options: PollSourceOptions): PollSource {
  const {
    locations,
    intervalMs,
    client,
    publish,
    progress,
    clock = systemClock,
    logger = silentLogger,
    concurrency = 4,
    retry = defaultRetryPolicy,
    firstPollDays = 1,
    maxCatchUpDays = 92,
    sleep = realSleep,
    random = Math.random,
  } = options;
  validateLocations(locations);
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new TributaryError('CONFIG_INVALID', `poll interval must be > 0 ms, got ${intervalMs}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TributaryError('CONFIG_INVALID', `concurrency must be >= 1, got ${concurrency}`);
  }

  const stats: PollSourceStats = {
    rounds: 0,
    requests: 0,
    retries: 0,
    invalidResponses: 0,
    fetchFailures: 0,
    published: 0,
    publishFailures: 0,
    progressFailures: 0,
  };
  let state: PollSourceState = 'idle';
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<PollRoundReport> | undefined;

  /** The days to ask for, or undefined when the mark already holds the last complete hour. */
  function rangeFor(location: Location, now: number): DayRange | undefined {
    const lastComplete = Math.floor(now / hourMs) * hourMs - hourMs;
    const mark = progress.highWater(location.id);
    if (mark !== undefined && mark >= lastComplete) return undefined;
    const today = Math.floor(now / dayMs) * dayMs;
    const oldest = today - maxCatchUpDays * dayMs;
    let start = mark === undefined ? today - firstPollDays * dayMs : mark + hourMs;
    if (start < oldest) {
      logger.warn(
        { location: location.id, from: utcDay(start), to: utcDay(oldest) },
        'hours older than the catch-up window are skipped',
      );
      start = oldest;
    }
    return { startDate: utcDay(start), endDate: utcDay(lastComplete) };
  }

  async function pollLocation(location: Location, now: number): Promise<number> {
    const range = rangeFor(location, now);
    if (range === undefined) return 0;
    const log = logger.child({ location: location.id });
    const observations = await withRetries(
      async () => {
        stats.requests++;
        try {
          return await client.forecast(location, range);
        } catch (error) {
          if (error instanceof HttpSourceError && error.code === 'HTTP_RESPONSE_INVALID')
            stats.invalidResponses++;
          throw error;
        }
      },
      {
        policy: retry,
        sleep,
        random,
        signal: stopping.signal,
        onRetry: (error, n, delayMs) => {
          stats.retries++;
          log.warn({ err: (error as Error).message, retry: n, delayMs }, 'retrying the forecast');
        },
      },
    ).catch((error: unknown) => {
      stats.fetchFailures++;
      throw error;
    });
    // 1 -> 2: only complete hours after the mark.
    const fresh = hoursToPublish(observations, progress.highWater(location.id), now);
    const last = fresh[fresh.length - 1];
    if (last === undefined) return 0;
    // 2: publish and wait for Kafka; a rejection leaves the mark where it was.
    try {
      await publish(fresh.map((value) => ({ key: location.id, value })));
    } catch (error) {
      stats.publishFailures++;
      throw error;
    }
    stats.published += fresh.length;
    // 3: advance the mark, only now.
    try {
      await progress.advanceHighWater(location.id, last.time);
    } catch (error) {
      stats.progressFailures++;
      log.error(
        { err: (error as Error).message },
        'published, but the progress file was not written',
      );
    }
    log.debug({ records: fresh.length, through: new Date(last.time).toISOString() }, 'published');
    return fresh.length;
  }

  async function round(): Promise<PollRoundReport> {
    const now = clock.now();
    const report: PollRoundReport = { now, published: 0, failed: [] };
    await forEachConcurrently(
      locations,
      concurrency,
      async (location) => {
        try {
          const published = await pollLocation(location, now);
          report.published += published; // after the await: lanes finish in any order
        } catch (error) {
          report.failed.push(location.id);
          logger.error(
            { location: location.id, err: (error as Error).message },
            'location skipped this round',
          );
        }
      },
      () => !stopping.signal.aborted,
    );
    stats.rounds++;
    logger.info({ published: report.published, failed: report.failed.length }, 'poll round done');
    return report;
  }

  function pollOnce(): Promise<PollRoundReport> {
    if (state === 'stopped') return Promise.reject(new Error('the poll source is stopped'));
    const run = (inFlight ?? Promise.resolve()).catch(() => undefined).then(round);
    inFlight = run;
    const settled = (): void => {
      if (inFlight === run) inFlight = undefined;
    };
    run.then(settled, settled);
    return run;
  }

  function schedule(startedAt: number): void {
    if (state !== 'running') return;
    const wait = Math.max(0, startedAt + intervalMs - clock.now());
    timer = setTimeout(() => {
      const started = clock.now();
      pollOnce()
        .catch((error: unknown) =>
          logger.error({ err: (error as Error).message }, 'poll round failed'),
        )
        .finally(() => schedule(started));
    }, wait);
  }

  return {
    get state() {
      return state;
    },
    start() {
      if (state !== 'idle') throw new Error(`cannot start a poll source that is ${state}`);
      state = 'running';
      const started = clock.now();
      pollOnce()
        .catch((error: unknown) =>
          logger.error({ err: (error as Error).message }, 'poll round failed'),
        )
        .finally(() => schedule(started));
    },
    pollOnce,
    async stop() {
      if (state === 'stopped') return;
      state = 'stopping';
      clearTimeout(timer);
      stopping.abort();
      await inFlight?.catch(() => undefined);
      state = 'stopped';
    },
    stats: () => ({ ...stats }),
  };
}
