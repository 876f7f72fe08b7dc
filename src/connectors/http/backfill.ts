import { silentLogger, systemClock, TributaryError } from '../../core/index.ts';
import type { Clock, Logger } from '../../core/index.ts';
import { forEachConcurrently } from './concurrency.ts';
import { addDays, dayMs, daysBetween, hoursToPublish, hourMs, parseDay } from './hours.ts';
import { validateLocations } from './observation.ts';
import type { Location, Publish } from './observation.ts';
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
  /** Days per archive request (default 7). */
  chunkDays?: number;
  /** Locations worked on at the same time (default 4); a location's chunks go one after another. */
  concurrency?: number;
  retry?: RetryPolicy;
  /**
   * Aborting stops starting chunks; the chunks in flight finish (publish and record), except one
   * waiting to retry, which gives up and is reported failed.
   */
  signal?: AbortSignal;
  clock?: Clock;
  logger?: Logger;
  /** The progress bar (a terminal) or lines; default process.stderr, null for none. */
  output?: ProgressOutput | null;
  /** Without a terminal, a progress line every this many chunks (default 10). */
  logEveryChunks?: number;
  sleep?: Sleep;
  random?: () => number;
}

export interface FailedChunk extends DayRange {
  location: string;
  error: string;
}

export interface BackfillReport {
  /** Chunks in the range, all locations. */
  chunks: number;
  /** Completed by an earlier run (in the progress file). */
  skipped: number;
  /** Completed by this run. */
  completed: number;
  failed: FailedChunk[];
  /** Left for a later run: after a stop, or behind a failed chunk of the same location. */
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
 * Publishes the archive's hourly observations of [from, to] for every location, chunk by chunk:
 *
 *   1. skip a chunk the progress file records as done;
 *   2. fetch it from the archive endpoint (retried with backoff);
 *   3. publish its hours and wait for Kafka's acknowledgement;
 *   4. record the chunk as done in the progress file.
 *
 * A location's chunks go in time order, and a failed chunk leaves that location's later chunks
 * for the next run, so each key's records reach Kafka in time order. A crash between 3 and 4
 * publishes that chunk again on resume: the at-least-once boundary of the poll source, with the
 * same answer (identical keys and values, upserted downstream).
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

  const chunks = backfillChunks(from, to, chunkDays);
  const pending = (location: Location): DayRange[] =>
    chunks.filter((c) => !progress.chunkDone(chunkKey(location.id, c.startDate, c.endDate)));
  const todo = new Map(locations.map((l) => [l.id, pending(l)]));
  const todoCount = [...todo.values()].reduce((n, list) => n + list.length, 0);
  const report: BackfillReport = {
    chunks: chunks.length * locations.length,
    skipped: chunks.length * locations.length - todoCount,
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

  async function runChunk(location: Location, chunk: DayRange): Promise<void> {
    const key = chunkKey(location.id, chunk.startDate, chunk.endDate);
    const log = logger.child({ location: location.id, chunk: key });
    // 2: fetch. The signal cuts a backoff wait short, never a request in flight.
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
    // 3: publish, acknowledged
    if (hours.length > 0) await publish(hours.map((value) => ({ key: location.id, value })));
    // 4: record
    try {
      await progress.markChunkDone(key, hours.length);
    } catch (error) {
      log.error(
        { err: (error as Error).message },
        'published, but the progress file was not written',
      );
    }
    report.completed++;
    report.records += hours.length;
    reporter?.chunkDone(hours.length);
  }

  await forEachConcurrently(locations, concurrency, async (location) => {
    const list = todo.get(location.id) ?? [];
    for (let i = 0; i < list.length; i++) {
      const chunk = list[i] as DayRange;
      if (signal?.aborted === true) {
        report.stopped = true;
        report.notStarted += list.length - i;
        return;
      }
      try {
        await runChunk(location, chunk);
      } catch (error) {
        const message = (error as Error).message;
        report.failed.push({ location: location.id, ...chunk, error: message });
        reporter?.chunkFailed();
        logger.error(
          {
            location: location.id,
            chunk: chunkKey(location.id, chunk.startDate, chunk.endDate),
            err: message,
          },
          'chunk failed; the later chunks of this location wait for the next run',
        );
        report.notStarted += list.length - i - 1;
        return;
      }
    }
  });
  reporter?.finish();
  report.durationMs = clock.now() - now;
  logger.info({ ...report, failed: report.failed.length }, 'backfill finished');
  return report;
}
