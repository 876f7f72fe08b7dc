import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { backoffDelay, withRetries } from '../../src/core/index.ts';
import type { Backoff } from '../../src/core/index.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';

const noJitter: Backoff = { baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 };

/** Lets pending promise callbacks run, so an attempt that failed reaches its sleep. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

class Flaky extends Error {
  constructor(readonly retriable: boolean) {
    super(retriable ? 'try again' : 'give up');
  }
}
const isRetriable = (error: unknown): boolean => error instanceof Flaky && error.retriable;

/**
 * Runs `withRetries` on a manual clock: each time the run waits, the clock is moved to the end
 * of the wait. Returns the result (or error), the waits seen and the attempts made.
 */
async function drive(
  failures: Flaky[],
  options: { attempts?: number; deadlineMs?: number; backoff?: Backoff; random?: () => number },
): Promise<{ outcome: unknown; waits: number[]; attempts: number }> {
  const clock = new ManualClock(1_000);
  const waits: number[] = [];
  let attempts = 0;
  const run = withRetries(
    async (n) => {
      attempts = n;
      const failure = failures[n - 1];
      if (failure !== undefined) throw failure;
      return `ok after ${n}`;
    },
    {
      backoff: options.backoff ?? noJitter,
      isRetriable,
      clock,
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    },
  ).then(
    (value) => value,
    (error: unknown) => error,
  );
  let done = false;
  void run.then(() => (done = true));
  while (!done) {
    await settle();
    const wake = clock.nextWakeAt();
    if (wake === undefined) continue;
    waits.push(wake - clock.now());
    clock.set(wake);
  }
  return { outcome: await run, waits, attempts };
}

describe('backoffDelay', () => {
  it('doubles from the base delay and stops at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 40, 1000].map((n) => backoffDelay(n, noJitter));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it('keeps each jittered delay within [d(1-jitter), d]', () => {
    const backoff: Backoff = { baseDelayMs: 400, maxDelayMs: 10_000, jitter: 0.25 };
    for (let retry = 1; retry <= 8; retry++) {
      const full = Math.min(10_000, 400 * 2 ** (retry - 1));
      assert.equal(
        backoffDelay(retry, backoff, () => 0),
        Math.round(full * 0.75),
      );
      assert.equal(
        backoffDelay(retry, backoff, () => 0.999999),
        Math.round(full * 0.99999975),
      );
      const middle = backoffDelay(retry, backoff, () => 0.5);
      assert.ok(middle >= full * 0.75 && middle <= full, `${middle} within ${full}`);
    }
  });

  it('waits at least the floor (Retry-After) but never more than the cap', () => {
    assert.equal(backoffDelay(1, noJitter, Math.random, 700), 700);
    assert.equal(backoffDelay(1, noJitter, Math.random, 5_000), 1000);
  });
});

describe('withRetries on a manual clock', () => {
  it('retries a retriable error with growing, capped waits until it succeeds', async () => {
    const failures = Array.from({ length: 6 }, () => new Flaky(true));
    const { outcome, waits, attempts } = await drive(failures, {});
    assert.equal(outcome, 'ok after 7');
    assert.equal(attempts, 7);
    assert.deepEqual(waits, [100, 200, 400, 800, 1000, 1000]);
  });

  it('throws the last error once the attempts are used up', async () => {
    const failures = [new Flaky(true), new Flaky(true), new Flaky(true), new Flaky(true)];
    const { outcome, waits, attempts } = await drive(failures, { attempts: 3 });
    assert.equal(outcome, failures[2]);
    assert.equal(attempts, 3);
    assert.deepEqual(waits, [100, 200]);
  });

  it('throws an error the caller does not retry at once', async () => {
    const failures = [new Flaky(true), new Flaky(false)];
    const { outcome, waits, attempts } = await drive(failures, { attempts: 5 });
    assert.equal(outcome, failures[1]);
    assert.equal(attempts, 2);
    assert.deepEqual(waits, [100]);
  });

  it('starts no wait that would end after the deadline', async () => {
    // Waits 100 + 200 + 400 = 700 fit in 750 ms; the next (800) would not.
    const failures = Array.from({ length: 10 }, () => new Flaky(true));
    const { outcome, waits, attempts } = await drive(failures, { deadlineMs: 750 });
    assert.equal(outcome, failures[3]);
    assert.equal(attempts, 4);
    assert.deepEqual(waits, [100, 200, 400]);
  });

  it('uses the random source for the jittered share', async () => {
    const backoff: Backoff = { baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.5 };
    const failures = [new Flaky(true), new Flaky(true)];
    const { waits } = await drive(failures, { backoff, random: () => 0 });
    assert.deepEqual(waits, [500, 1000]);
  });

  it('stops waiting when the signal aborts, throwing the error that made it wait', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const failure = new Flaky(true);
    let attempts = 0;
    const run = withRetries(
      async () => {
        attempts++;
        throw failure;
      },
      { backoff: noJitter, isRetriable, clock, signal: controller.signal },
    );
    const outcome = run.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await settle();
    assert.equal(clock.pendingSleeps(), 1);
    controller.abort();
    assert.equal(await outcome, failure);
    assert.equal(attempts, 1);
    assert.equal(clock.pendingSleeps(), 0);
  });
});

describe('ManualClock.sleep', () => {
  it('resolves only when the clock reaches the end of the wait', async () => {
    const clock = new ManualClock(0);
    let woke = false;
    void clock.sleep(50).then(() => (woke = true));
    clock.advance(49);
    await settle();
    assert.equal(woke, false);
    clock.advance(1);
    await settle();
    assert.equal(woke, true);
  });

  it('rejects a sleep whose signal has already aborted', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(clock.sleep(10, controller.signal), /stop/);
  });
});
