import type { Logger, TaskId } from '../core/index.ts';
import type { MemberStandbys, TopicPartition } from '../kafka/index.ts';
import type { StandbyTasks } from './standby.ts';
import type { TaskRegistry } from './task-registry.ts';

/**
 * After each join of the group: (1) close the tasks whose partitions this worker no longer
 * owns, committing what they have open (their queued batches finish first), and move the kept
 * tasks to the new generation, then (2) create the tasks it now owns (restoring their stores),
 * so they are ready before their first batch. Between the two the standbys are updated
 * (standby.ts): a standby whose task is now active here closes its stores before the task opens
 * them, and a task just closed here may stay as a standby. In an eager rebalance the revoked
 * tasks commit under the past generation (under KIP-447 the coordinator refuses it, so that
 * commit aborts: their partitions may already be another member's); in a cooperative one, under
 * the new (the assignor gives their partitions to nobody before this worker rejoins).
 *
 * kafkajs has no callback before partitions are revoked, so (1) runs after the rejoin. At-least-
 * once commits every batch, so a revoked task has at most its batches in flight uncommitted.
 * Under exactly-once the new owner's transactional producer fences this one first: its open
 * transaction is aborted, and what it commits before the fence the new owner skips (task-registry).
 */
export async function onAssignment(
  registry: TaskRegistry,
  assigned: TopicPartition[],
  logger: Logger,
  cooperative = false,
  replicas?: { standbys: StandbyTasks; assigned: MemberStandbys | undefined },
): Promise<void> {
  const owned = new Map<TaskId, number>();
  for (const tp of assigned) owned.set(registry.taskIdOf(tp), tp.partition);
  const revoked = registry.all.map((h) => h.task.id).filter((id) => !owned.has(id));
  // (1) A cooperative rebalance withholds the revoked tasks from others until this worker
  // rejoins: they commit under the new generation, which the coordinator accepts.
  if (cooperative) registry.adoptGroup();
  await Promise.all(revoked.map((id) => registry.close(id)));
  registry.adoptGroup();
  if (replicas !== undefined) {
    const warmups = new Set(replicas.assigned?.warmup ?? []);
    await replicas.standbys.update(
      new Map(
        (replicas.assigned?.standby ?? [])
          .map((id) => id as TaskId)
          .filter((id) => !owned.has(id))
          .map((id) => [id, warmups.has(id)]),
      ),
    );
  }
  // (2)
  await Promise.all(
    [...owned].map(([id, partition]) =>
      registry.get(id) === undefined ? registry.create(id, partition) : undefined,
    ),
  );
  logger.info({ tasks: [...owned.keys()].sort(), revoked }, 'assignment');
}
