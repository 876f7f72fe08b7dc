import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { silentLogger, taskId } from '../../src/core/index.ts';
import { Task } from '../../src/runtime/index.ts';
import { string } from '../../src/serde/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';

/** A task of a one-operator topology: only its lock is exercised. */
function aTask(): Task {
  const t = topology('holder');
  t.stream('in', { key: string(), value: string() }).to('out', { key: string(), value: string() });
  const { plan } = t.build();
  const sub = plan.subtopologies[0];
  assert.ok(sub !== undefined);
  return new Task({
    id: taskId(0, 0),
    subtopology: sub,
    partition: 0,
    dlqTopic: plan.dlqTopic,
    clock: new ManualClock(0),
    logger: silentLogger,
  });
}

describe('what holds a task (named in the warning about a task held too long)', () => {
  it('names the step holding the lock, its renamed phase, and nothing once it ends', async () => {
    const task = aTask();
    // Read through a function: TypeScript would keep `holder` narrowed to undefined.
    const holder = (): Task['holder'] => task.holder;
    assert.equal(holder(), undefined);
    let release = (): void => undefined;
    const first = task.exclusive(
      () =>
        new Promise<void>((resolve) => {
          task.busyWith('commit of the batch of in/0');
          release = resolve;
        }),
      'the batch of in/0',
    );
    const second = task.exclusive(async () => task.holder?.what, 'punctuation');
    await new Promise((r) => setImmediate(r));
    assert.equal(
      task.holder?.what,
      'commit of the batch of in/0',
      'the renamed phase, not the queued step',
    );
    assert.equal(typeof holder()?.since, 'number');
    release();
    await first;
    assert.equal(await second, 'punctuation', 'the next step holds it in turn');
    assert.equal(holder(), undefined, 'nothing holds it once every step ended');
  });

  it('is released when the step throws', async () => {
    const task = aTask();
    await assert.rejects(
      task.exclusive(async () => {
        throw new Error('boom');
      }, 'a failing step'),
      /boom/,
    );
    assert.equal(task.holder, undefined);
  });
});
