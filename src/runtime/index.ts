/**
 * runtime: runs a plan on a worker. The poll loop hands each fetched batch to its task, the
 * commit sends outputs before offsets, the rebalance keeps the tasks in line with the group's
 * assignment. It uses the kafka layer's interfaces only.
 *
 * @example
 *   const runtime = createRuntime({ plan, admin, producer, consumer, clock, logger });
 *   await runtime.start();
 */
export { deadLetterHeaders } from './dead-letter.ts';
export { internalReplication, prepareTopics } from './internal-topics.ts';
export type { ReplicationSetting } from './internal-topics.ts';
export { createRuntime } from './runtime.ts';
export type { Guarantee, Runtime, RuntimeDeps, RuntimeState } from './runtime.ts';
export { emptyStats, Task } from './task.ts';
export type { TaskOptions, TaskStats } from './task.ts';
export { TimestampGuard, timestampRefusal } from './timestamp-range.ts';
