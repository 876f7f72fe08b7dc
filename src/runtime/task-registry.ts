import { parseTaskId, taskId } from '../core/index.ts';
import type { Clock, Logger, TaskId } from '../core/index.ts';
import type {
  ChangelogReader,
  ConsumerGroupMetadata,
  FetchedBatch,
  TopicAdmin,
  TopicPartition,
  TransactionalProducer,
} from '../kafka/index.ts';
import { taskStateDir } from '../state/index.ts';
import type { StoreCacheBudget } from '../state/index.ts';
import type { Plan, SubTopology } from '../topology/plan.ts';
import { emptyPending } from './commit.ts';
import type { Committer, TaskHandle } from './commit.ts';
import type { GlobalStores } from './global-view.ts';
import { restoreTask } from './restore.ts';
import type { StateLocation } from './restore.ts';
import { addStats, emptyStats, Task } from './task.ts';
import type { TimestampGuard } from './timestamp-range.ts';
import type { TaskStats } from './task.ts';

export interface TaskRegistryDeps {
  plan: Plan;
  clock: Clock;
  logger: Logger;
  location: StateLocation;
  reader: ChangelogReader;
  admin: TopicAdmin;
  committer: Committer;
  /** Under exactly-once: the transactional producer of a task (id `<appId>-<taskId>`). */
  transactionalProducer?: (taskId: TaskId) => TransactionalProducer;
  /** Under exactly-once: the member's place in the group, sent with each task's offsets. */
  groupMetadata?: () => ConsumerGroupMetadata;
  /** The sink topics' timestamp limits, checked as records are emitted (timestamp-range.ts). */
  timestamps?: TimestampGuard;
  /** The worker's global tables, which joinGlobal nodes look up. */
  globals?: GlobalStores;
  /** The per-batch serde work of a source topic (Avro), as the poll loop does it. */
  prepareBatch?: (batch: FetchedBatch) => Promise<void>;
  /** The worker's memory for cached stores: without it every store is held whole in memory. */
  storeCache?: StoreCacheBudget;
}

/**
 * The tasks this worker owns, and the map from a source topic to the sub-topology that reads it
 * (so a fetched batch finds its task).
 */
export class TaskRegistry {
  private readonly handles = new Map<TaskId, TaskHandle>();
  private readonly subtopologyOfTopic = new Map<string, SubTopology>();
  private readonly creating = new Map<TaskId, Promise<TaskHandle>>();
  /** The handle of each task being built, for the clean-up of a build that fails. */
  private readonly building = new Map<TaskId, TaskHandle>();
  /** Counters of the tasks closed or discarded so far, so the worker's totals keep them. */
  private readonly retired: TaskStats = emptyStats();

  constructor(private readonly deps: TaskRegistryDeps) {
    for (const sub of deps.plan.subtopologies) {
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

  get(id: TaskId): TaskHandle | undefined {
    return this.handles.get(id);
  }

  /** Tasks being created (their stores restoring). */
  get restoring(): number {
    return this.creating.size;
  }

  get all(): TaskHandle[] {
    return [...this.handles.values()];
  }

  /** Counters of every task this worker ran: those it runs, closed and discarded ones. */
  totals(): TaskStats {
    const totals = { ...this.retired };
    for (const handle of this.handles.values()) addStats(totals, handle.task.stats);
    return totals;
  }

  /** The task of a fetched partition, created (restored, initialised) on its first batch. */
  async handleFor(tp: TopicPartition): Promise<TaskHandle> {
    const id = this.taskIdOf(tp);
    return this.handles.get(id) ?? this.create(id, tp.partition);
  }

  /** Creates a task; concurrent calls for one id share the same creation. */
  create(id: TaskId, partition: number): Promise<TaskHandle> {
    const pending = this.creating.get(id);
    if (pending !== undefined) return pending;
    const created = this.build(id, partition).then(
      (handle) => {
        this.handles.set(id, handle);
        return handle;
      },
      // A build that fails (Kafka not answering) is tried again on the partition's next
      // batch: it leaves no producer connected and no store open behind it.
      async (error: unknown) => {
        const handle = this.building.get(id);
        await handle?.producer?.disconnect().catch(() => undefined);
        for (const db of handle?.persistence.values() ?? [])
          await db.close().catch(() => undefined);
        throw error;
      },
    );
    this.creating.set(id, created);
    return created.finally(() => {
      this.creating.delete(id);
      this.building.delete(id);
    });
  }

  /**
   * (1) under exactly-once, register the task's transactional producer: this fences an older
   *     owner and completes (commits or aborts) its open transaction;
   * (2) then read the group's committed offsets: records below them were committed by that
   *     owner after our consumer fetched its start position, and are skipped. Where the
   *     producer sends its offsets with the group's generation (KIP-447), the old owner cannot
   *     commit after the group moved on and the consumer's start offsets were read stable, so
   *     only tables restored from their topic need theirs (as under at-least-once);
   * (3) restore the stores; (4) start the processors.
   */
  private async build(id: TaskId, partition: number): Promise<TaskHandle> {
    const { plan, clock, logger, location } = this.deps;
    const sub = plan.subtopologies.find((s) => s.id === parseTaskId(id)?.subtopology);
    if (sub === undefined) throw new Error(`unknown task ${id}`);
    const began = Date.now();
    const task = new Task({
      id,
      subtopology: sub,
      partition,
      dlqTopic: plan.dlqTopic,
      clock,
      logger,
      ...(this.deps.timestamps === undefined ? {} : { timestamps: this.deps.timestamps }),
      ...(this.deps.globals === undefined ? {} : { globals: this.deps.globals }),
      ...(this.deps.storeCache === undefined ? {} : { storeCache: this.deps.storeCache }),
    });
    const handle: TaskHandle = {
      task,
      taskDir: taskStateDir(location.stateDir, location.appId, id),
      persistence: new Map(),
      checkpoint: new Map(),
      sinceCheckpoint: 0,
      pending: emptyPending(),
      restartFrom: new Map(),
    };
    this.building.set(id, handle);
    // (2) under at-least-once only for tables restored from their topic: they restore up to
    // the committed offset, where the task's consumption of that topic resumes.
    const tableTopics = [...task.stores.values()]
      .filter(({ spec }) => spec.source !== undefined)
      .map(({ spec }) => spec.changelogTopic);
    if (this.deps.transactionalProducer === undefined) {
      for (const topic of tableTopics) {
        const committed = (await this.deps.admin.committedOffsets(plan.appId, topic)).get(
          partition,
        );
        if (committed !== undefined) task.committedFloor.set(`${topic}/${partition}`, committed);
      }
    }
    if (this.deps.transactionalProducer !== undefined) {
      // (1)
      handle.producer = this.deps.transactionalProducer(id);
      const group = this.deps.groupMetadata?.();
      if (group !== undefined) handle.group = group;
      await handle.producer.connect();
      // (2)
      const floors = handle.producer.fencesStaleGenerations ? tableTopics : sub.sourceTopics;
      for (const topic of floors) {
        const committed = (await this.deps.admin.committedOffsets(plan.appId, topic)).get(
          partition,
        );
        if (committed !== undefined) task.committedFloor.set(`${topic}/${partition}`, committed);
      }
    }
    // (3)
    if (task.stores.size > 0) {
      const restored = await restoreTask(
        task,
        location,
        this.deps.reader,
        logger.child({ task: id }),
      );
      handle.persistence = restored.persistence;
      handle.checkpoint = restored.checkpoint;
    }
    // (4)
    await task.init();
    // (5)
    const floors = Object.fromEntries(
      [...task.committedFloor].map(([tp, offset]) => [tp, offset.toString()]),
    );
    const caughtUp = await this.catchUpTables(handle, tableTopics);
    logger.info(
      {
        task: id,
        restored: task.stats.restored,
        ms: Date.now() - began,
        committed: floors,
        ...(tableTopics.length === 0 ? {} : { caughtUp }),
      },
      'task created',
    );
    return handle;
  }

  /**
   * (5) A table read from a topic is brought up to that topic's end before the task processes
   * anything else: its records past the committed offset are processed (and committed) first,
   * as batches of the topic would be. Without this, a stream record fetched in the same round as
   * the table's backlog could be joined with the table as it was before it (a new task after a
   * rebalance or a start would drop or mis-enrich records published after the table's). What
   * arrives later is read in fetch order: lookups are by processing time (decision 0017).
   * Delivered again by the consumer, these records are below the task's floor and skipped.
   */
  private async catchUpTables(handle: TaskHandle, topics: string[]): Promise<number> {
    const { task } = handle;
    if (topics.length === 0) return 0;
    let caughtUp = 0;
    const requests = topics.map((topic) => ({
      topic,
      partition: task.partition,
      from: (task.committedFloor.get(`${topic}/${task.partition}`) ?? 0n).toString(),
    }));
    await this.deps.reader.read(requests, async (tp, records) => {
      const batch = { topic: tp.topic, partition: tp.partition, records };
      await this.deps.prepareBatch?.(batch);
      await task.exclusive(async () => {
        const produced = task.process(tp.topic, tp.partition, records);
        const [first, last] = [records[0], records[records.length - 1]];
        if (first === undefined || last === undefined) return;
        const key = `${tp.topic}/${tp.partition}`;
        if (!handle.restartFrom.has(key)) handle.restartFrom.set(key, BigInt(first.offset));
        const offset = (BigInt(last.offset) + 1n).toString();
        await this.deps.committer.afterBatch(handle, produced, { ...tp, offset });
        caughtUp += records.length;
      }, 'catch-up of a table-fed task');
    });
    return caughtUp;
  }

  /** Commits what the task has open, then closes its processors, stores and producer. */
  async close(id: TaskId): Promise<void> {
    const handle = this.handles.get(id);
    if (handle === undefined) return;
    this.handles.delete(id);
    try {
      // After the batch in flight, if any: its records count too.
      await handle.task.exclusive(() => this.deps.committer.close(handle), 'its closing commit');
    } finally {
      addStats(this.retired, handle.task.stats);
    }
    await handle.task.close();
    for (const db of handle.persistence.values()) await db.close();
    await handle.producer?.disconnect();
    this.deps.logger.info({ task: id, ...handle.task.stats }, 'task closed');
  }

  /**
   * Drops a task whose in-memory state may no longer match what was committed (a commit failed
   * after its batch changed the stores): its open transaction is aborted and nothing of it is
   * committed or written to RocksDB. The next batch of its partition creates it afresh, restored
   * from the changelog and, under exactly-once, skipping the records committed before, so a
   * batch delivered again is not counted twice (Kafka Streams revives a corrupted task alike).
   * Safe to call from inside the task's own batch.
   */
  async discard(
    handle: TaskHandle,
    reason: unknown,
    why = 'commit failed: task discarded, it restarts from its last committed state',
  ): Promise<void> {
    const id = handle.task.id;
    // Only the live handle: a batch of an already discarded task must not drop its successor.
    if (this.handles.get(id) !== handle) return;
    this.handles.delete(id);
    handle.discarded = true;
    addStats(this.retired, handle.task.stats);
    this.deps.logger.warn({ task: id, err: reason }, why);
    if (handle.producer?.inTransaction === true)
      await handle.producer.abort().catch(() => undefined);
    await handle.producer?.disconnect().catch(() => undefined);
    await handle.task.abandon();
    for (const db of handle.persistence.values()) await db.close().catch(() => undefined);
  }

  /**
   * Every task lost at once (fenced, out of the group, or the consumer restarts): each dropped
   * as `discard` drops one, nothing committed; rebuilt from its changelog if assigned again.
   */
  async loseAll(reason: unknown): Promise<void> {
    // Each after its batch in flight, if any (which then finds its task gone and leaves it).
    await Promise.all(
      this.all.map((handle) =>
        handle.task.exclusive(
          () =>
            this.discard(
              handle,
              reason,
              'task lost: fenced, or out of the group; it is rebuilt from its changelog when assigned again',
            ),
          'its discard (every task lost)',
        ),
      ),
    );
  }

  /**
   * After an assignment: the tasks kept (their partitions still this member's) commit under its
   * generation from now on. A commit sent under the past one is refused (runtime/commit.ts).
   */
  adoptGroup(): void {
    const group = this.deps.groupMetadata?.();
    if (group === undefined) return;
    for (const handle of this.handles.values()) handle.group = group;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((id) => this.close(id)));
  }
}
