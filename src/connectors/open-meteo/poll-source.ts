import { silentLogger, systemClock, TributaryError } from '../../core/index.ts';
import type { Clock, Logger } from '../../core/index.ts';
import { forEachConcurrently } from './concurrency.ts';
import { HttpSourceError } from './errors.ts';
import { inEventTimeOrder } from './event-time-order.ts';
import { dayMs, hourMs, hoursToPublish, utcDay } from './hours.ts';
import { validateLocations } from './observation.ts';
import type { Location, Observation, Publish } from './observation.ts';
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
  /** Rounds whose publish failed: no mark moved, those hours go again next round. */
  publishFailures: number;
  /** Progress file writes that failed (the mark holds in memory; a restart may repeat a batch). */
  progressFailures: number;
}

export interface PollRoundReport {
  /** The clock at the start of the round: hours ending at or before it were complete. */
  now: number;
  /** Records published in this round. */
  published: number;
  /**
   * Locations whose fetch failed in this round, or, when the round's publish failed, every
   * location it was publishing; in the order of the locations option.
   */
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
 * and complete hour (key = location id), each at most once per progress file. A round:
 *
 *   1. fetches, for each location (`concurrency` at a time), the days from the hour after its
 *      mark to the last complete hour (retrying 5xx, 429, network errors, timeouts and malformed
 *      bodies with backoff); a location whose fetch still fails is skipped for the round;
 *   2. merges the complete hours after each location's mark, of all locations fetched, by event
 *      time (ties by location id), publishes them in that order in one publish and waits for
 *      Kafka's acknowledgement;
 *   3. only then advances those locations' marks, in one write of the progress file.
 *
 * The merge gives a partition carrying several locations a non-decreasing event time within the
 * round (the first round, or one after an outage, spans many hours). A location skipped in a
 * round catches up in a later one, behind hours other locations already published.
 *
 * A failure in 1 or 2 leaves the marks, so the next round fetches and publishes those hours
 * again; nothing is published twice on that path. The boundary is at-least-once: a crash
 * between 2 and 3 (or a failed write in 3 followed by a restart) publishes that round's hours again,
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

  /** Step 1 for one location: its complete hours after its mark, in time order. */
  async function fetchFresh(location: Location, now: number): Promise<Observation[]> {
    const range = rangeFor(location, now);
    if (range === undefined) return [];
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
    return hoursToPublish(observations, progress.highWater(location.id), now);
  }

  async function round(): Promise<PollRoundReport> {
    const now = clock.now();
    const report: PollRoundReport = { now, published: 0, failed: [] };
    const order = new Map(locations.map((l, i) => [l.id, i]));
    const fail = (ids: readonly string[]): void => {
      report.failed.push(...ids);
      report.failed.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    };
    // 1: fetch; a stop starts no further location.
    const fresh = new Map<string, Observation[]>();
    await forEachConcurrently(
      locations,
      concurrency,
      async (location) => {
        try {
          const hours = await fetchFresh(location, now);
          if (hours.length > 0) fresh.set(location.id, hours);
        } catch (error) {
          fail([location.id]);
          logger.error(
            { location: location.id, err: (error as Error).message },
            'location skipped this round',
          );
        }
      },
      () => !stopping.signal.aborted,
    );
    // 2: merge by event time, publish and wait for Kafka; a rejection leaves every mark.
    const records = inEventTimeOrder(
      [...fresh].flatMap(([key, hours]) => hours.map((value) => ({ key, value }))),
    );
    if (records.length > 0) {
      try {
        await publish(records);
        stats.published += records.length;
        report.published = records.length;
      } catch (error) {
        stats.publishFailures++;
        fail([...fresh.keys()]);
        logger.error(
          { records: records.length, err: (error as Error).message },
          'publish failed; these hours go again next round',
        );
      }
    }
    // 3: advance the marks of what was published, only now.
    if (report.published > 0) {
      const marks = new Map(
        [...fresh].map(([id, hours]) => [id, (hours[hours.length - 1] as Observation).time]),
      );
      try {
        await progress.advanceHighWaters(marks);
      } catch (error) {
        stats.progressFailures++;
        logger.error(
          { err: (error as Error).message },
          'published, but the progress file was not written',
        );
      }
    }
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
