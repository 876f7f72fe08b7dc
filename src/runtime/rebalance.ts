import type { Logger, TaskId } from '../core/index.ts';
import type { TopicPartition } from '../kafka/index.ts';
import type { TaskRegistry } from './task-registry.ts';

/**
 * After each join of the group: (1) close the tasks whose partitions this worker no longer
 * owns (their last batch has finished: a task closes only after its queued batches), then
 * (2) create the tasks it now owns, so their processors are ready before the first batch.
 *
 * kafkajs has no callback before partitions are revoked. Offsets are committed at the end of
 * every batch, after its outputs are acknowledged, so what a revoked task leaves uncommitted
 * is at most its batch in flight, which the new owner processes again (at-least-once).
 */
export async function onAssignment(
  registry: TaskRegistry,
  assigned: TopicPartition[],
  logger: Logger,
): Promise<void> {
  const owned = new Map<TaskId, number>();
  for (const tp of assigned) owned.set(registry.taskIdOf(tp), tp.partition);
  const revoked = registry.all.map((t) => t.id).filter((id) => !owned.has(id));
  // (1)
  await Promise.all(revoked.map((id) => registry.close(id)));
  // (2)
  for (const [id, partition] of owned) {
    if (registry.get(id) === undefined) await registry.create(id, partition);
  }
  logger.info({ tasks: [...owned.keys()].sort(), revoked }, 'assignment');
}
