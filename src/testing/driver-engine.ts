import { silentLogger, taskId, TributaryError } from '../core/index.ts';
import type { Clock, Headers, SinkRecord } from '../core/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../kafka/index.ts';
import { applyChangelog, applySourceTopic } from '../runtime/changelog-apply.ts';
import { GlobalTables } from '../runtime/global-tables.ts';
import type { GlobalRecord } from '../runtime/global-tables.ts';
import { addStats, emptyStats, Task } from '../runtime/task.ts';
import type { TaskStats } from '../runtime/task.ts';
import {
  initSerdes,
  prepareBatch,
  preparesBatches,
  serdesByTopic,
} from '../runtime/topic-serdes.ts';
import type { TopicSerdes } from '../runtime/topic-serdes.ts';
import type { AnySerde, Plan, SubTopology } from '../topology/plan.ts';
import { DriverTopics } from './driver-topics.ts';
import type { StoredRecord } from './driver-topics.ts';
import { committedState, lostState } from './state-survival.ts';
import type { LostState } from './state-survival.ts';

/** When processed work is committed (its outputs, changelog records and offsets made visible). */
export type CommitMode = 'batch' | 'manual';

export interface EngineOptions {
  partitions: number;
  batchSize: number;
  commit: CommitMode;
  clock: Clock;
}

/** One task as a worker holds it: its position in its source partitions and what is uncommitted. */
interface DriverTask {
  task: Task;
  sub: SubTopology;
  partition: number;
  /** Per source topic: the next offset to fetch. */
  position: Map<string, number>;
  /** Outputs and dead letters produced since the last commit (an open transaction). */
  produced: OutgoingRecord[];
}

/** A piped record whose serdes still need `init` (async): encoded at the next flush. */
interface Unencoded {
  topic: string;
  key: AnySerde;
  value: AnySerde;
  record: { key: unknown; value: unknown; timestamp: number; headers: Headers };
}

interface Batch {
  handle: DriverTask;
  topic: string;
  records: readonly StoredRecord[];
}

/**
 * The test driver's worker: the runtime's Task, fed batches of up to `batchSize` records of one
 * source partition, with serde init and prepareBatch called as the runtime calls them
 * (runtime/topic-serdes.ts) and commits in the order of runtime/commit.ts. A restart builds
 * fresh tasks restored from the changelog records alone (runtime/changelog-apply.ts).
 */
export class DriverEngine {
  readonly topics: DriverTopics;
  /** Records that reached each external sink, in order, as written at commit step (1). */
  readonly sunk = new Map<string, SinkRecord<unknown, unknown>[]>();
  private tasks: DriverTask[] = [];
  /** The consumer group's committed offsets, by `topic/partition`: a restart starts from them. */
  private readonly committed = new Map<string, number>();
  private readonly serdes: Map<string, TopicSerdes>;
  /** The global tables, and how far each read its topic's partitions. */
  private readonly globals: GlobalTables;
  private readonly globalPositions = new Map<string, number>();
  private readonly inited = new WeakMap<AnySerde, Set<string>>();
  private readonly unencoded: Unencoded[] = [];
  private readonly retired: TaskStats = emptyStats();
  /** Round robin over the tasks' source partitions, so no task waits for another's backlog. */
  private turn = 0;

  private constructor(
    readonly plan: Plan,
    private readonly options: EngineOptions,
  ) {
    this.topics = new DriverTopics(options.partitions);
    this.serdes = serdesByTopic(plan);
    this.globals = new GlobalTables(plan.globalTables, silentLogger);
  }

  static async create(plan: Plan, options: EngineOptions): Promise<DriverEngine> {
    const engine = new DriverEngine(plan, options);
    await engine.start();
    return engine;
  }

  /** As a worker starts: every serde's init (Avro registers its schemas), then the tasks. */
  private async start(): Promise<void> {
    await initSerdes(this.serdes);
    for (const [topic, { keys, values }] of this.serdes)
      for (const serde of [...keys, ...values]) this.markInited(serde, topic);
    for (const sub of this.plan.subtopologies)
      for (let p = 0; p < this.options.partitions; p++) this.tasks.push(await this.build(sub, p));
  }

  /**
   * A task as a worker creates one: its stores restored from their changelog partitions (all
   * committed records, through the stores' codec), its processors initialised, its positions
   * at the group's committed offsets.
   */
  private async build(sub: SubTopology, partition: number): Promise<DriverTask> {
    const task = new Task({
      id: taskId(sub.id, partition),
      subtopology: sub,
      partition,
      dlqTopic: this.plan.dlqTopic,
      clock: this.options.clock,
      logger: silentLogger,
      globals: this.globals,
    });
    for (const { spec } of task.stores.values()) {
      let records = this.topics.partition(spec.changelogTopic, partition);
      if (spec.source === undefined) applyChangelog(task, spec.name, records);
      else {
        // A table restored from the topic it reads: up to the group's committed offset.
        const upTo = this.committed.get(`${spec.changelogTopic}/${partition}`) ?? 0;
        records = records.slice(0, upTo);
        await applySourceTopic(task, spec.name, spec.source, spec.changelogTopic, records);
      }
      task.stats.restored += records.length;
    }
    await task.init();
    const position = new Map<string, number>();
    for (const topic of sub.sourceTopics)
      position.set(topic, this.committed.get(`${topic}/${partition}`) ?? 0);
    return { task, sub, partition, position, produced: [] };
  }

  readsTopic(topic: string): boolean {
    if (this.plan.globalTables.some((g) => g.topic === topic)) return true;
    return this.plan.subtopologies.some((sub) => sub.sourceTopics.includes(topic));
  }

  /** Appends a piped record to its topic (encoded now when its serdes are ready). */
  pipe(topic: string, key: AnySerde, value: AnySerde, record: Unencoded['record']): void {
    if (this.unencoded.length > 0 || !this.isInited(key, topic) || !this.isInited(value, topic)) {
      this.unencoded.push({ topic, key, value, record });
      return;
    }
    this.append(topic, key, value, record);
  }

  private append(topic: string, key: AnySerde, value: AnySerde, r: Unencoded['record']): void {
    this.topics.append({
      topic,
      key: key.serialize(r.key, topic),
      value: value.serialize(r.value, topic),
      timestamp: r.timestamp,
      headers: r.headers,
    });
  }

  /**
   * The global tables read what was written to their topics, before any task processes what
   * waits: in the driver a global table update is seen by every record piped after it, and by
   * records piped before it that were not processed yet (decision 0018).
   */
  private async readGlobals(): Promise<void> {
    for (const [topic, p, records] of this.unreadGlobals())
      await this.globals.apply(topic, p, records);
  }

  /** readGlobals for drainNow: refused when a global table's serdes prepare batches. */
  private readGlobalsNow(doing: string): void {
    const unread = this.unreadGlobals(false);
    const waiting = unread.find(([topic]) => this.globals.prepares(topic));
    if (waiting !== undefined) {
      throw new TributaryError(
        'TEST_DRIVER_MISUSE',
        `${doing}: records written to global table topic ${waiting[0]} need its serdes' prepareBatch before they are read; await driver.flush() first`,
      );
    }
    for (const [topic, p, records] of this.unreadGlobals())
      this.globals.applyPrepared(topic, p, records);
  }

  /** What the global tables have not read yet, per topic partition (marked read unless `mark` is false). */
  private unreadGlobals(mark = true): [string, number, GlobalRecord[]][] {
    const unread: [string, number, GlobalRecord[]][] = [];
    for (const topic of this.globals.topics) {
      for (let p = 0; p < this.options.partitions; p++) {
        const key = `${topic}/${p}`;
        const log = this.topics.partition(topic, p);
        const from = this.globalPositions.get(key) ?? 0;
        if (log.length <= from) continue;
        const records = log
          .slice(from)
          .map((r) => ({ key: r.key, value: r.value, offset: String(r.offset) }));
        unread.push([topic, p, records]);
        if (mark) this.globalPositions.set(key, log.length);
      }
    }
    return unread;
  }

  /** Processes every record waiting, awaiting serde hooks as the runtime does. */
  async drain(): Promise<void> {
    for (const { topic, key, value, record } of this.unencoded.splice(0)) {
      await this.initOnce(key, topic);
      await this.initOnce(value, topic);
      this.append(topic, key, value, record);
    }
    await this.readGlobals();
    for (let batch = this.nextBatch(); batch !== undefined; batch = this.nextBatch()) {
      await prepareBatch(this.serdes.get(batch.topic), batch);
      this.run(batch);
    }
  }

  /**
   * Processes every record waiting, synchronously: for reads. Throws TEST_DRIVER_MISUSE before
   * processing anything when a record needs an async serde hook (`await driver.flush()`).
   */
  drainNow(doing: string): void {
    const needsAwait = (topic: string): boolean => preparesBatches(this.serdes.get(topic));
    const waiting = this.unencoded[0]?.topic ?? this.waitingTopics().find(needsAwait);
    if (waiting !== undefined) {
      throw new TributaryError(
        'TEST_DRIVER_MISUSE',
        `${doing}: records piped to topic ${waiting} need a serde's asynchronous init or prepareBatch before they are processed; await driver.flush() first`,
      );
    }
    this.readGlobalsNow(doing);
    for (let batch = this.nextBatch(); batch !== undefined; batch = this.nextBatch()) {
      if (needsAwait(batch.topic)) {
        throw new TributaryError(
          'TEST_DRIVER_MISUSE',
          `${doing}: records written to topic ${batch.topic} need its serdes' prepareBatch before they are processed; await driver.flush() first`,
        );
      }
      this.run(batch);
    }
  }

  /** Source topics with records no task has fetched yet. */
  private waitingTopics(): string[] {
    const topics = new Set<string>();
    for (const handle of this.tasks) {
      for (const [topic, next] of handle.position)
        if (this.topics.partition(topic, handle.partition).length > next) topics.add(topic);
    }
    return [...topics];
  }

  /** The next batch of some task, taking the tasks' source partitions in turn. */
  private nextBatch(): Batch | undefined {
    const slots = this.tasks.flatMap((handle) =>
      handle.sub.sourceTopics.map((topic) => ({ handle, topic })),
    );
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[(this.turn + i) % slots.length];
      if (slot === undefined) continue;
      const next = slot.handle.position.get(slot.topic) ?? 0;
      const log = this.topics.partition(slot.topic, slot.handle.partition);
      if (log.length <= next) continue;
      this.turn = (this.turn + i + 1) % slots.length;
      return {
        handle: slot.handle,
        topic: slot.topic,
        records: log.slice(next, next + this.options.batchSize),
      };
    }
    return undefined;
  }

  /** Poll loop step (3): the task processes the batch; then the commit, unless it is manual. */
  private run({ handle, topic, records }: Batch): void {
    const fetched: FetchedRecord[] = records.map((r) => ({
      key: r.key,
      value: r.value,
      timestamp: r.timestamp,
      headers: r.headers,
      offset: String(r.offset),
    }));
    const last = records[records.length - 1];
    if (last === undefined) return;
    // A `fail` operator's HaltError propagates: the worker would stop, the caller sees it.
    const produced = handle.task.process(topic, handle.partition, fetched);
    handle.position.set(topic, last.offset + 1);
    for (const record of produced) handle.produced.push(record);
    if (this.options.commit === 'batch') this.commitTask(handle);
  }

  /**
   * Runs every task's punctuation at the clock's time (windows closing on a quiet partition,
   * wall-clock timers): what the worker's ticker does every punctuation interval.
   */
  punctuate(): void {
    const now = this.options.clock.now();
    for (const handle of this.tasks) {
      for (const record of handle.task.punctuate(now)) handle.produced.push(record);
      if (this.options.commit === 'batch') this.commitTask(handle);
    }
  }

  /** Commits every task's open work. */
  commitAll(): void {
    for (const handle of this.tasks) this.commitTask(handle);
  }

  /**
   * The commit of runtime/commit.ts, with the driver's topics as the broker:
   *   (1) the records collected for external sinks are "written" (kept, in order, per sink);
   *   (2) the stores' caches are flushed: their changes become changelog records, encoded by
   *       the stores' codec as in production;
   *   (3) outputs and dead letters, then the changelog records, are appended to their topics;
   *   (4) the input offsets are committed.
   * (5), RocksDB and the checkpoint, has no counterpart: a restart restores from the changelog.
   */
  private commitTask(handle: DriverTask): void {
    const { task } = handle;
    // (1)
    for (const [sink, records] of task.takeExternal()) {
      const list = this.sunk.get(sink.name) ?? [];
      for (const record of records) list.push(record);
      this.sunk.set(sink.name, list);
    }
    // (2)
    const flush = task.flushStores();
    // (3)
    for (const record of handle.produced) this.topics.append(record);
    for (const record of flush.records) this.topics.append(record);
    handle.produced = [];
    // (4)
    for (const [topic, next] of handle.position)
      this.committed.set(`${topic}/${handle.partition}`, next);
  }

  /**
   * A crash and a new worker: every task is dropped with its uncommitted work (outputs, store
   * changes, external records, input positions past the committed offsets), then the serdes
   * are initialised again and fresh tasks are restored from the changelog records committed so
   * far. Records piped and not yet processed stay in their topics for the new tasks. Returns
   * the committed store entries that came back different (state-survival.ts).
   */
  async restart(): Promise<LostState[]> {
    const before = new Map<string, Map<string, [Buffer, unknown][]>>();
    for (const handle of this.tasks) {
      before.set(handle.task.id, committedState(handle.task));
      addStats(this.retired, handle.task.stats);
      await handle.task.abandon();
    }
    this.tasks = [];
    this.turn = 0;
    await this.start();
    return this.tasks.flatMap((h) => lostState(before.get(h.task.id) ?? new Map(), h.task));
  }

  /** A clean stop: what waits is processed and what is open committed, then the tasks close. */
  async close(): Promise<void> {
    await this.drain();
    this.commitAll();
    for (const handle of this.tasks) await handle.task.close();
  }

  stats(): TaskStats {
    const totals = { ...this.retired };
    for (const handle of this.tasks) addStats(totals, handle.task.stats);
    return totals;
  }

  /** Awaits a serde's init for a topic once (a user's serde handed to input() or output()). */
  async initOnce(serde: AnySerde, topic: string): Promise<void> {
    if (this.isInited(serde, topic)) return;
    await serde.init?.(topic);
    this.markInited(serde, topic);
  }

  isInited(serde: AnySerde, topic: string): boolean {
    return serde.init === undefined || (this.inited.get(serde)?.has(topic) ?? false);
  }

  private markInited(serde: AnySerde, topic: string): void {
    const topics = this.inited.get(serde) ?? new Set<string>();
    topics.add(topic);
    this.inited.set(serde, topics);
  }

  /** The serdes the topology reads a topic with (input default), or writes it with (output default). */
  topologySerdes(
    topic: string,
    side: 'read' | 'write',
  ): { key: AnySerde; value: AnySerde } | undefined {
    for (const sub of this.plan.subtopologies) {
      for (const node of sub.nodes) {
        if (side === 'read' && node.kind === 'source' && node.topics.includes(topic))
          return { key: node.key, value: node.value };
        if (side === 'write' && node.kind === 'sink' && node.topic === topic)
          return { key: node.key, value: node.value };
      }
    }
    const global = this.plan.globalTables.find((g) => g.topic === topic);
    if (global !== undefined) return { key: global.key, value: global.value };
    return side === 'write' ? this.topologySerdes(topic, 'read') : undefined;
  }
}
