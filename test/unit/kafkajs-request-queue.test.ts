// kafkajs's request queue, corrected in src/kafka/kafkajs.ts (correction 3): its throttle check
// is scheduled at least 1 ms ahead, so Node 24+ prints no TimeoutNegativeWarning in every worker.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import '../../src/kafka/kafkajs.ts';

const require = createRequire(import.meta.url);

interface Queue {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const { prototype } = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: Queue;
};

/** A queue as kafkajs leaves it before any broker throttled it, with checks counted. */
function queue(pending: unknown[]): { queue: Queue; checked: Promise<undefined> } {
  let resolve = (): void => undefined;
  const checked = new Promise<undefined>((r) => (resolve = () => r(undefined)));
  const q = Object.assign(Object.create(prototype) as Queue, {
    throttledUntil: -1,
    throttleCheckTimeoutId: null,
    pending,
    checkPendingRequests: () => resolve(),
  });
  return { queue: q, checked };
}

describe('kafkajs request queue (corrected throttle check)', () => {
  it('schedules the check of a never-throttled queue without a negative timeout', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      for (const pending of [[], [{}]]) {
        const { queue: q, checked } = queue(pending);
        q.scheduleCheckPendingRequests();
        assert.notEqual(q.throttleCheckTimeoutId, null, 'a check is scheduled');
        await checked;
        assert.equal(q.throttleCheckTimeoutId, null, 'and cleared once it ran');
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('keeps a check already scheduled', () => {
    const { queue: q } = queue([{}]);
    const scheduled = setTimeout(() => undefined, 0);
    q.throttleCheckTimeoutId = scheduled;
    q.scheduleCheckPendingRequests();
    assert.equal(q.throttleCheckTimeoutId, scheduled);
    clearTimeout(scheduled);
  });
});
