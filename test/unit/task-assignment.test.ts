import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assignTasks } from '../../src/kafka/task-assignment.ts';

const partitionsOf = (topic: string, count: number) =>
  Array.from({ length: count }, (_, partition) => ({ topic, partition }));

describe('assignTasks', () => {
  it("gives a task's co-partitioned topics to one member and deals tasks round-robin to the members sorted by id", () => {
    // Sub-topology 0 reads orders and payments (co-partitioned), sub-topology 1 reads clicks.
    const groupOf = (topic: string) => (topic === 'clicks' ? 1 : 0);
    const assignment = assignTasks(
      ['m-b', 'm-a'],
      [...partitionsOf('payments', 2), ...partitionsOf('orders', 2), ...partitionsOf('clicks', 2)],
      groupOf,
    );
    // Tasks by partition, then sub-topology: 0_0, 1_0, 0_1, 1_1.
    assert.deepEqual(
      assignment,
      new Map([
        ['m-a', { orders: [0, 1], payments: [0, 1] }],
        ['m-b', { clicks: [0, 1] }],
      ]),
    );
  });

  it('gives every partition to a lone member, and nothing to members beyond the tasks', () => {
    assert.deepEqual(
      assignTasks(['only'], partitionsOf('t', 3), () => 0),
      new Map([['only', { t: [0, 1, 2] }]]),
    );
    assert.deepEqual(
      assignTasks(['a', 'b', 'c'], partitionsOf('t', 2), () => undefined),
      new Map([
        ['a', { t: [0] }],
        ['b', { t: [1] }],
        ['c', {}],
      ]),
    );
  });
});
