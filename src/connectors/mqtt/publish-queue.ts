import { silentLogger } from '../../core/index.ts';
import type { Logger } from '../../core/index.ts';
import { backoffDelay, realSchedule, realSleep } from './backoff.ts';
import type { Backoff, Schedule, Sleep } from './backoff.ts';
import type { KafkaRecordOut, SendRecords } from './records.ts';

/** A record waiting for Kafka, and what to do once Kafka acknowledged it. */
export interface PendingRecord {
  record: KafkaRecordOut;
  /** Acknowledges the MQTT message the record came from (a no-op for QoS 0). */
  ack: () => void;
}

export interface PublishQueueOptions {
  send: SendRecords;
  /** Records per send at most. */
  maxBatch: number;
  /** How long the first record of a batch waits for more before the batch goes out. */
  lingerMs: number;
  /** Waits between attempts of a failed send (attempts go on until they succeed or close aborts). */
  retry: Backoff;
  logger?: Logger;
  sleep?: Sleep;
  schedule?: Schedule;
  random?: () => number;
  /** Called after Kafka acknowledged a batch, before its records are acknowledged to MQTT. */
  onSent?: (batch: readonly PendingRecord[]) => void;
  onSendFailed?: (error: unknown, attempt: number, delayMs: number) => void;
}

export interface PublishQueue {
  push(pending: PendingRecord): void;
  /** Records queued or being sent. */
  readonly pending: number;
  /** Sends what is queued now without waiting for the linger time; resolves when it is acknowledged. */
  flush(): Promise<void>;
  /**
   * Flushes; when the signal aborts first, retries stop and what was not acknowledged by Kafka
   * is dropped unacknowledged (the broker delivers it again). Resolves with the number dropped.
   */
  close(signal?: AbortSignal): Promise<number>;
}

/**
 * Batches records to Kafka and acknowledges each one's MQTT message only after Kafka
 * acknowledged it:
 *
 *   1. a record joins the queue; a batch goes out when maxBatch records wait, or lingerMs after
 *      it began to fill (or after the send before it, whichever is later), or on flush;
 *   2. one send at a time, so batches reach Kafka, and acknowledgements reach MQTT, in arrival
 *      order (MQTT wants PUBACKs in the order of the PUBLISHes);
 *   3. a failed send is retried with backoff, the batch unacknowledged, while later records
 *      queue behind it (the broker stops sending at the client's receive maximum);
 *   4. once Kafka acknowledged the batch, each record's ack runs, in order.
 */
export function createPublishQueue(options: PublishQueueOptions): PublishQueue {
  const {
    send,
    maxBatch,
    lingerMs,
    retry,
    logger = silentLogger,
    sleep = realSleep,
    schedule = realSchedule,
    random = Math.random,
    onSent,
    onSendFailed,
  } = options;
  const queue: PendingRecord[] = [];
  let sending = 0;
  /** Whether the queue's head batch may go now (full, lingered, or flushed). */
  let due = false;
  let flushing = 0;
  let cancelTimer: (() => void) | undefined;
  let pump: Promise<void> | undefined;
  const giveUp = new AbortController();

  function arm(): void {
    if (cancelTimer !== undefined || due) return;
    cancelTimer = schedule(lingerMs, () => {
      cancelTimer = undefined;
      due = true;
      kick();
    });
  }

  function disarm(): void {
    cancelTimer?.();
    cancelTimer = undefined;
  }

  function kick(): void {
    if (pump !== undefined || !due || queue.length === 0) return;
    pump = run()
      .catch((error: unknown) => {
        // Only an ack callback can throw here; the batch is in Kafka, its message comes again.
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'ack failed');
      })
      .finally(() => {
        pump = undefined;
        kick(); // a timer that fired while the last batch was acknowledged
      });
  }

  async function run(): Promise<void> {
    while ((due || flushing > 0) && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      sending = batch.length;
      disarm();
      due = flushing > 0 || queue.length >= maxBatch;
      if (!due && queue.length > 0) arm();
      const delivered = await sendWithRetries(batch);
      if (!delivered) return;
      sending = 0;
      onSent?.(batch);
      for (const pending of batch) pending.ack();
    }
  }

  async function sendWithRetries(batch: PendingRecord[]): Promise<boolean> {
    const records = batch.map((p) => p.record);
    for (let attempt = 1; ; attempt++) {
      if (giveUp.signal.aborted) return false;
      try {
        await send(records);
        return true;
      } catch (error) {
        const wait = backoffDelay(attempt, retry, random);
        onSendFailed?.(error, attempt, wait);
        logger[attempt < 5 ? 'warn' : 'error'](
          {
            err: error instanceof Error ? error.message : String(error),
            records: records.length,
            attempt,
            retryInMs: wait,
          },
          'Kafka send failed; the batch stays unacknowledged to MQTT and is retried',
        );
        try {
          await sleep(wait, giveUp.signal);
        } catch {
          return false;
        }
      }
    }
  }

  async function flush(): Promise<void> {
    flushing++;
    try {
      while (queue.length > 0 || pump !== undefined) {
        due = true;
        kick();
        await pump;
        if (giveUp.signal.aborted) return;
      }
    } finally {
      flushing--;
    }
  }

  return {
    push(pending) {
      queue.push(pending);
      if (queue.length >= maxBatch || flushing > 0) {
        due = true;
        kick();
      } else arm();
    },
    get pending() {
      return queue.length + sending;
    },
    flush,
    async close(signal) {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<void>((resolve) => {
        onAbort = () => {
          giveUp.abort();
          resolve();
        };
        if (signal?.aborted === true) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        // A send in flight cannot be called back: on abort, stop waiting for it. Should it
        // succeed later, its acks find the MQTT connection closed and are dropped.
        await Promise.race([flush(), aborted]);
      } finally {
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      }
      disarm();
      giveUp.abort();
      const left = queue.length + sending;
      queue.length = 0;
      return left;
    },
  };
}
