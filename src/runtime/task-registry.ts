import { parseTaskId, taskId } from '../core/index.ts';
import type { Clock, Logger, TaskId } from '../core/index.ts';
import type { TopicPartition } from '../kafka/index.ts';
import type { Plan, SubTopology } from '../topology/plan.ts';
import { Task } from './task.ts';

/**
 * The tasks this worker owns, keyed by id, and the map from a source topic to the sub-topology
 * that reads it (so a fetched batch finds its task).
 */
export class TaskRegistry {
  private readonly tasks = new Map<TaskId, Task>();
  private readonly subtopologyOfTopic = new Map<string, SubTopology>();
  private readonly creating = new Map<TaskId, Promise<Task>>();

  constructor(
    private readonly plan: Plan,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    for (const sub of plan.subtopologies) {
      for (const topic of sub.sourceTopics) this.subtopologyOfTopic.set(topic, sub);
    }
  }

  /** Every topic the worker subscribes to. */
  get sourceTopics(): string[] {
    return [...this.subtopologyOfTopic.keys()];
  }

  subtopologyOf(topic: string): number | undefined {
    return this.subtopologyOfTopic.get(topic)?.id;
  }

  taskIdOf(tp: TopicPartition): TaskId {
    const sub = this.subtopologyOfTopic.get(tp.topic);
    if (sub === undefined) throw new Error(`no sub-topology reads topic ${tp.topic}`);
    return taskId(sub.id, tp.partition);
  }

  get(id: TaskId): Task | undefined {
    return this.tasks.get(id);
  }

  get all(): Task[] {
    return [...this.tasks.values()];
  }

  /** The task for a fetched partition, created (and initialised) if this is its first batch. */
  async taskFor(tp: TopicPartition): Promise<Task> {
    const id = this.taskIdOf(tp);
    const existing = this.tasks.get(id);
    if (existing !== undefined) return existing;
    return this.create(id, tp.partition);
  }

  /** Creates and initialises a task; concurrent calls for one id share the same task. */
  create(id: TaskId, partition: number): Promise<Task> {
    const pending = this.creating.get(id);
    if (pending !== undefined) return pending;
    const sub = this.plan.subtopologies.find((s) => s.id === parseTaskId(id)?.subtopology);
    if (sub === undefined) throw new Error(`unknown task ${id}`);
    const task = new Task({
      id,
      subtopology: sub,
      partition,
      dlqTopic: this.plan.dlqTopic,
      clock: this.clock,
      logger: this.logger,
    });
    const created = task.init().then(() => {
      this.tasks.set(id, task);
      this.logger.info({ task: id }, 'task created');
      return task;
    });
    this.creating.set(id, created);
    return created.finally(() => this.creating.delete(id));
  }

  async close(id: TaskId): Promise<void> {
    const task = this.tasks.get(id);
    if (task === undefined) return;
    this.tasks.delete(id);
    await task.close();
    this.logger.info({ task: id, ...task.stats }, 'task closed');
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.tasks.keys()].map((id) => this.close(id)));
  }
}
