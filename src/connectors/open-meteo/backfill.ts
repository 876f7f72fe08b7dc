import { silentLogger, systemClock, TributaryError } from '../../core/index.ts';
import type { Clock, Logger } from '../../core/index.ts';
import { forEachConcurrently } from './concurrency.ts';
import { inEventTimeOrder } from './event-time-order.ts';
import { addDays, dayMs, daysBetween, hoursToPublish, hourMs, parseDay } from './hours.ts';
import { validateLocations } from './observation.ts';
import type { Location, Observation, Publish } from './observation.ts';
import type { ArchiveClient, DayRange } from './open-meteo-client.ts';
import { createProgressReporter } from './progress-reporter.ts';
import type { ProgressOutput } from './progress-reporter.ts';
import { chunkKey } from './progress-store.ts';
import type { ProgressStore } from './progress-store.ts';
import { defaultRetryPolicy, realSleep, withRetries } from './retry.ts';
import type { RetryPolicy, Sleep } from './retry.ts';

export interface BackfillOptions {
  /** First day, `YYYY-MM-DD` UTC. */
  from: string;
  /** Last day, included; must be before today (UTC): the poll source owns today. */
  to: string;
  locations: readonly Location[];
  client: ArchiveClient;
  publish: Publish;
  /** Records each completed (location, chunk); resuming with the same range skips them. */
  progress: ProgressStore;
  /** Days per archive request, and per step of the backfill across all locations (default 7). */
  chunkDays?: number;
  /** Archive requests in flight at once (default 4), all for the same chunk. */
  concurrency?: number;
  retry?: RetryPolicy;
  /**
   * Aborting starts no further chunk; the chunk in flight finishes (its remaining locations are
   * fetched, then it is published and recorded), unless a location of it is waiting to retry:
   * that one gives up and is reported failed, and so nothing of the chunk is published.
   */
  signal?: AbortSignal;
  clock?: Clock;
  logger?: Logger;
  /** The progress bar (a terminal) or lines; default process.stderr, null for none. */
  output?: ProgressOutput | null;
  /** Without a terminal, a progress line every this many (location, chunk)s (default 10). */
  logEveryChunks?: number;
  sleep?: Sleep;
  random?: () => number;
}

/** A location's chunk that was fetched, or published, without success. */
export interface FailedChunk extends DayRange {
  location: string;
  error: string;
}

/**
 * What a run did. The counts are of (location, chunk) pairs, and add up:
 * chunks = skipped + completed + failed.length + notStarted.
 */
export interface BackfillReport {
  /** (location, chunk) pairs in the range: chunks of the range times locations. */
  chunks: number;
  /** Completed by an earlier run (in the progress file). */
  skipped: number;
  /** Published and recorded by this run. */
  completed: number;
  /**
   * The pairs of the chunk that stopped the run: the locations whose fetch still failed after its
   * retries or, when the publish itself failed, every location the chunk was publishing.
   */
  failed: FailedChunk[];
  /**
   * Left unpublished for a later run: every pair after a stop; after a failed chunk, that chunk's
   * other locations (fetched or not, none published) and every later chunk.
   */
  notStarted: number;
  /** Records published by this run. */
  records: number;
  durationMs: number;
  /** The signal stopped the run before every chunk was tried. */
  stopped: boolean;
}

/** Splits [from, to] into consecutive ranges of at most chunkDays days. */
export function backfillChunks(from: string, to: string, chunkDays: number): DayRange[] {
  const chunks: DayRange[] = [];
  for (let start = from; daysBetween(start, to) >= 0; start = addDays(start, chunkDays)) {
    const end = addDays(start, chunkDays - 1);
    chunks.push({ startDate: start, endDate: daysBetween(end, to) < 0 ? to : end });
  }
  return chunks;
}

/**
 * Publishes the archive's hourly observations of [from, to] for every location, one chunk (a
 * range of chunkDays days) at a time, across all locations:
 *
 *   1. find the chunk's locations that the progress file does not record as done (none: skip it);
 *   2. fetch the chunk for each of them, `concurrency` requests at a time, each retried with
 *      backoff; if one still fails, publish nothing of the chunk and start no later chunk;
 *   3. merge their hours by event time (ties by location id), publish them in that order and
 *      wait for Kafka's acknowledgement;
 *   4. record every (location, chunk) just published as done, in one write of the progress file;
 *   5. go on with the next chunk.
 *
 * So the topic receives the range in event-time order whatever the locations' partitions: a
 * partition carrying several locations never sees one location's later days before another's
 * earlier ones, which a topology with per-partition stream time would drop as late. A failed
 * chunk stops the run because publishing its other locations and going on would make the failed
 * location's hours late when they are published on resume.
 *
 * Each (location, hour) is published once: a resume with the same range skips what the progress
 * file records, and fetches and publishes a chunk recorded for some locations only (a file from a
 * backfill that went location by location) for the missing ones alone; those, and a resume after
 * a failure, are the only hours that can reach a partition behind later ones. A crash between 3
 * and 4 publishes that chunk again on resume: the at-least-once boundary of the poll source, with
 * the same answer (identical keys and values, upserted downstream).
 */
export async function runBackfill(options: BackfillOptions): Promise<BackfillReport> {
  const {
    from,
    to,
    locations,
    client,
    publish,
    progress,
    chunkDays = 7,
    concurrency = 4,
    retry = defaultRetryPolicy,
    signal,
    clock = systemClock,
    logger = silentLogger,
    logEveryChunks = 10,
    sleep = realSleep,
    random = Math.random,
  } = options;
  validateLocations(locations);
  const start = parseDay(from, 'backfill from');
  const end = parseDay(to, 'backfill to');
  const now = clock.now();
  if (end < start) {
    throw new TributaryError('CONFIG_INVALID', `backfill from (${from}) is after to (${to})`);
  }
  if (end + dayMs > Math.floor(now / dayMs) * dayMs) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `backfill to must be a day before today (UTC), got ${to}; the poll source covers today`,
    );
  }
  if (!Number.isInteger(chunkDays) || chunkDays < 1) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `chunk days must be an integer >= 1, got ${chunkDays}`,
    );
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TributaryError('CONFIG_INVALID', `concurrency must be >= 1, got ${concurrency}`);
  }

  // 1: each chunk with the locations it still needs.
  const plan = backfillChunks(from, to, chunkDays).map((chunk) => ({
    chunk,
    missing: locations.filter(
      (l) => !progress.chunkDone(chunkKey(l.id, chunk.startDate, chunk.endDate)),
    ),
  }));
  const pendingFrom = (k: number): number =>
    plan.slice(k).reduce((n, step) => n + step.missing.length, 0);
  const todoCount = pendingFrom(0);
  const report: BackfillReport = {
    chunks: plan.length * locations.length,
    skipped: plan.length * locations.length - todoCount,
    completed: 0,
    failed: [],
    notStarted: 0,
    records: 0,
    durationMs: 0,
    stopped: false,
  };
  logger.info(
    { from, to, chunks: report.chunks, skipped: report.skipped, chunkDays },
    'backfill starting',
  );
  const output = options.output === undefined ? process.stderr : options.output;
  const reporter =
    output === null
      ? undefined
      : createProgressReporter({
          label: 'backfill',
          total: todoCount,
          output,
          clock,
          logEveryChunks,
        });

  /** A location's hours of the chunk, in time order. */
  async function fetchHours(location: Location, chunk: DayRange): Promise<Observation[]> {
    const log = logger.child({
      location: location.id,
      chunk: chunkKey(location.id, chunk.startDate, chunk.endDate),
    });
    // The signal cuts a backoff wait short, never a request in flight.
    const observations = await withRetries(() => client.archive(location, chunk), {
      policy: retry,
      sleep,
      random,
      ...(signal === undefined ? {} : { signal }),
      onRetry: (error, n, delayMs) =>
        log.warn({ err: (error as Error).message, retry: n, delayMs }, 'retrying the archive'),
    });
    const first = parseDay(chunk.startDate);
    const last = parseDay(chunk.endDate) + dayMs;
    const inChunk = observations.filter((o) => o.time >= first && o.time < last);
    const hours = hoursToPublish(inChunk, undefined, clock.now());
    const expected = (last - first) / hourMs;
    if (hours.length !== expected) {
      log.warn(
        { hours: hours.length, expected },
        'the archive returned fewer hours than the days hold',
      );
    }
    return hours;
  }

  /** Steps 2-4 for one chunk; false when it failed (reported) and the run must stop. */
  async function runChunk(chunk: DayRange, missing: readonly Location[]): Promise<boolean> {
    const range = `${chunk.startDate}/${chunk.endDate}`;
    const failChunk = (failures: FailedChunk[], unpublished: number): false => {
      const order = new Map(missing.map((l, i) => [l.id, i]));
      failures.sort((a, b) => (order.get(a.location) ?? 0) - (order.get(b.location) ?? 0));
      report.failed.push(...failures);
      report.notStarted += unpublished;
      reporter?.chunkFailed(failures.length);
      logger.error(
        { chunk: range, failed: failures.map((f) => f.location), err: failures[0]?.error },
        'chunk failed: nothing of it is published, and later chunks wait for the next run',
      );
      return false;
    };

    // 2: fetch; after a failure no further location of the chunk is started.
    const fetched = new Map<string, Observation[]>();
    const failures: FailedChunk[] = [];
    await forEachConcurrently(
      missing,
      concurrency,
      async (location) => {
        try {
          fetched.set(location.id, await fetchHours(location, chunk));
        } catch (error) {
          failures.push({ location: location.id, ...chunk, error: (error as Error).message });
        }
      },
      () => failures.length === 0,
    );
    if (failures.length > 0) return failChunk(failures, missing.length - failures.length);

    // 3: merge by event time, publish, acknowledged.
    const records = inEventTimeOrder(
      missing.flatMap((l) => (fetched.get(l.id) ?? []).map((value) => ({ key: l.id, value }))),
    );
    try {
      if (records.length > 0) await publish(records);
    } catch (error) {
      const message = (error as Error).message;
      return failChunk(
        missing.map((l) => ({ location: l.id, ...chunk, error: message })),
        0,
      );
    }

    // 4: record the whole chunk at once.
    try {
      await progress.markChunksDone(
        missing.map((l) => ({
          key: chunkKey(l.id, chunk.startDate, chunk.endDate),
          records: fetched.get(l.id)?.length ?? 0,
        })),
      );
    } catch (error) {
      logger.error(
        { chunk: range, err: (error as Error).message },
        'published, but the progress file was not written',
      );
    }
    report.completed += missing.length;
    report.records += records.length;
    reporter?.chunkDone(records.length, missing.length);
    return true;
  }

  // 5: chunk after chunk, in time order. (A function, so TypeScript reads the signal afresh.)
  const aborted = (): boolean => signal?.aborted === true;
  for (let k = 0; k < plan.length; k++) {
    const { chunk, missing } = plan[k] as (typeof plan)[number];
    if (missing.length === 0) continue;
    if (aborted()) {
      report.stopped = true;
      report.notStarted += pendingFrom(k);
      break;
    }
    if (!(await runChunk(chunk, missing))) {
      report.notStarted += pendingFrom(k + 1);
      report.stopped = aborted();
      break;
    }
  }
  reporter?.finish();
  report.durationMs = clock.now() - now;
  logger.info({ ...report, failed: report.failed.length }, 'backfill finished');
  return report;
}
