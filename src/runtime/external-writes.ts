import { backoffDelay, systemClock, TributaryError } from '../core/index.ts';
import type { Clock, Logger, Telemetry } from '../core/index.ts';
import type { Task } from './task.ts';

export interface ExternalWriteOptions {
  /** True once the worker is stopping: retrying ends and the batch stays uncommitted. */
  stopping: () => boolean;
  telemetry: Telemetry;
  logger: Logger;
  /** First wait after a failed write, doubled per failure up to maxBackoffMs (with jitter). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Waits go through this clock's sleep; default the system clock. */
  clock?: Pick<Clock, 'sleep'>;
}

/**
 * Commit step (1): writes what a task collected for its external sinks, each sink's records in
 * one call, retrying a failed write with exponential backoff for as long as it takes. While it
 * retries, the batch is not committed and its partition fetches nothing more (the consumer keeps
 * heartbeating), which is how a sink's outage pauses the partitions it affects. Each failed
 * attempt counts in `tributary_sink_write_errors_total`. Ends with SINK_WRITE_FAILED only when
 * the worker stops: the records' batch is then not committed and is processed again by the
 * partition's next owner.
 */
export function externalWriter(options: ExternalWriteOptions): (task: Task) => Promise<void> {
  const initial = options.initialBackoffMs ?? 200;
  const max = options.maxBackoffMs ?? 5000;
  const backoff = { baseDelayMs: initial, maxDelayMs: max, jitter: 0.5 };
  const clock = options.clock ?? systemClock;
  return async (task) => {
    for (const [sink, records] of task.takeExternal()) {
      if (records.length === 0) continue;
      for (let failures = 0; ; failures++) {
        try {
          await sink.write(records);
          if (failures > 0) {
            options.logger.info(
              { task: task.id, sink: sink.name, failures, records: records.length },
              'external sink writes again',
            );
          }
          break;
        } catch (error) {
          options.telemetry.sinkWriteFailed(sink.name);
          if (failures === 0 || failures % 10 === 0) {
            options.logger.warn(
              { task: task.id, sink: sink.name, failures: failures + 1, err: error },
              'external sink write failed; retrying with backoff, the partition waits',
            );
          }
          if (options.stopping()) {
            throw new TributaryError(
              'SINK_WRITE_FAILED',
              `sink ${sink.name} could not write ${records.length} records before the worker stopped: ${(error as Error).message}`,
              { cause: error },
            );
          }
          // Retried for as long as it takes (no attempt limit): the worker's stop ends it.
          await clock.sleep(backoffDelay(failures + 1, backoff));
        }
      }
    }
  };
}
