import { parseTaskId } from '../core/index.ts';
import type { Logger, TaskId } from '../core/index.ts';
import { backoffMs, rootCause } from '../kafka/index.ts';
import type { ChangelogReader, StandbyReport } from '../kafka/index.ts';
import { storeDir, taskStateDir, writeCheckpoint } from '../state/index.ts';
import type { StoreChange } from '../state/index.ts';
import type { Plan, SubTopology } from '../topology/plan.ts';
import { cachedAggregates, emptyStats } from './task.ts';
import { restoreWriteBatch } from './restore.ts';
import { openStores } from './task-stores.ts';
import type { StateLocation, StoreEntry, TaskPersistence } from './task-stores.ts';

export interface StandbyDeps {
  plan: Plan;
  location: StateLocation;
  reader: ChangelogReader;
  logger: Logger;
  /**
   * A standby is caught up when its latest read of its changelogs found at most this many
   * records behind their ends (Kafka Streams' acceptable.recovery.lag: 10,000).
   */
  acceptableLag: number;
  /** The wait between two reads of a standby that is caught up. */
  intervalMs: number;
  /** A warm-up has just caught up: the member rejoins for the assignor to move its task. */
  onCaughtUp: () => void;
  /**
   * While this member holds warm-ups, it also rejoins this often (Kafka Streams'
   * probing.rebalance.interval.ms, 10 minutes), whatever happens: the fallback that moves a task
   * whose warm-up's own probe was lost. Default 600,000.
   */
  probeIntervalMs?: number;
}

interface Standby {
  id: TaskId;
  partition: number;
  taskDir: string;
  persistence: TaskPersistence;
  /** Store name by changelog topic: the stores whose changelog the standby reads. */
  tailed: Map<string, string>;
  /** Per changelog topic, the next offset to read: what the task's checkpoint says. */
  offsets: Map<string, string>;
  warmup: boolean;
  caughtUp: boolean;
}

/**
 * A worker's standby tasks (Kafka Streams' standby replicas and warm-ups, decision 0026): tasks
 * of other workers whose stores this worker keeps current by reading their changelogs into its
 * own RocksDB, with a checkpoint after each read, so that if a task moves here its restore reads
 * only what the checkpoint does not cover. A standby runs no processor and holds nothing in
 * memory but its stores' handles.
 *
 * Reads go in passes: each pass reads every standby's changelogs from its checkpoint to their
 * ends (read_committed: under exactly-once only committed changes, as a restore), at most
 * `passRecords` per partition, writes RocksDB, flushes it, and writes the checkpoint. A standby
 * whose pass read at most `acceptableLag` records is caught up, which its member reports at its
 * next join (task-assignment.ts); a warm-up that becomes caught up calls `onCaughtUp`. Passes
 * follow one another at once while a standby is behind, every `intervalMs` otherwise.
 *
 * The stores of a table restored from its source topic are opened but not read: they restore at
 * activation, as they do today. A pass that fails (Kafka not answering) is tried again.
 */
export class StandbyTasks {
  private readonly tasks = new Map<TaskId, Standby>();
  /** The standbys of the latest assignment (id -> warm-up), opened or not. */
  private wanted = new Map<TaskId, boolean>();
  /** Standbys that could not be opened: tried again at a later pass, backed off. */
  private readonly unopened = new Map<TaskId, { attempts: number; at: number }>();
  private lastProbe = Date.now();
  private readonly passRecords: number;
  private pass: Promise<void> | undefined;
  /** Passes, updates and the close run one at a time: a pass never meets a store being closed. */
  private lock: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Passes failed in a row: the next waits longer (Kafka down: one line per attempt, backed off). */
  private failures = 0;
  /** Changelog records written to standbys' stores, and passes made. */
  readonly stats = { records: 0, passes: 0 };

  constructor(private readonly deps: StandbyDeps) {
    this.passRecords = Math.max(100_000, deps.acceptableLag * 2);
  }

  /** What this member announces at its next join. */
  report(): StandbyReport {
    const ids = [...this.tasks.keys()].sort();
    return { standby: ids, caughtUp: ids.filter((id) => this.tasks.get(id)?.caughtUp === true) };
  }

  get size(): number {
    return this.tasks.size;
  }

  get warmups(): number {
    return [...this.tasks.values()].filter((t) => t.warmup).length;
  }

  /**
   * After an assignment: keeps exactly the `wanted` standbys (id -> whether it is a warm-up).
   * The pass in flight ends first; a standby no longer wanted closes its stores (its checkpoint
   * is current), so that the task can open them if it becomes active here; a new one opens its
   * stores, checked against its checkpoint as a restore does.
   */
  update(wanted: Map<TaskId, boolean>): Promise<void> {
    return this.exclusive(() => this.apply(wanted));
  }

  private async apply(wanted: Map<TaskId, boolean>): Promise<void> {
    this.wanted = wanted;
    for (const [id, standby] of [...this.tasks]) {
      if (wanted.has(id)) continue;
      this.tasks.delete(id);
      await this.closeOne(standby);
    }
    for (const id of [...this.unopened.keys()]) if (!wanted.has(id)) this.unopened.delete(id);
    /** Warm-ups the assignment names although this member reported them caught up. */
    const unseen: TaskId[] = [];
    for (const [id, warmup] of wanted) {
      const kept = this.tasks.get(id);
      if (kept !== undefined) {
        kept.warmup = warmup;
        if (warmup && kept.caughtUp) unseen.push(id);
        continue;
      }
      await this.tryOpen(id, warmup);
    }
    if (wanted.size > 0)
      this.deps.logger.info(
        {
          standby: [...wanted.keys()].sort(),
          warmup: [...wanted].filter(([, w]) => w).map(([id]) => id),
        },
        'standby tasks',
      );
    this.schedule(0);
    // The leader moves a warm-up that its member reports caught up, so one still named here was
    // assigned from a join that went out before it caught up (its probe met a rejoin already
    // under way): probe again, or the task would stay where it is until some other rebalance.
    if (unseen.length > 0) {
      this.deps.logger.info({ tasks: unseen }, 'warm-up caught up, not yet seen by the assignor');
      this.lastProbe = Date.now();
      setImmediate(() => this.deps.onCaughtUp());
    }
  }

  /** Stops reading and closes every standby's stores. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.exclusive(async () => {
      for (const standby of this.tasks.values()) await this.closeOne(standby);
      this.tasks.clear();
      this.wanted = new Map();
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Opens a wanted standby; one that cannot be opened now (its stores' lock still held, Kafka
   * not answering) is tried again at a later pass, 1 s, 2 s, ... up to a minute apart.
   */
  private async tryOpen(id: TaskId, warmup: boolean): Promise<void> {
    const failed = this.unopened.get(id);
    if (failed !== undefined && Date.now() < failed.at) return;
    try {
      this.tasks.set(id, await this.open(id, warmup));
      this.unopened.delete(id);
    } catch (error) {
      const attempts = (failed?.attempts ?? 0) + 1;
      const delayMs = backoffMs(attempts, Math.random(), { initialMs: 1000, maxMs: 60_000 });
      this.unopened.set(id, { attempts, at: Date.now() + delayMs });
      this.deps.logger.warn(
        { task: id, attempt: attempts, delayMs, cause: rootCause(error) },
        'standby not opened; it is tried again',
      );
    }
  }

  private async open(id: TaskId, warmup: boolean): Promise<Standby> {
    const { plan, location, reader, logger } = this.deps;
    const parsed = parseTaskId(id);
    const sub = plan.subtopologies.find((s) => s.id === parsed?.subtopology);
    if (sub === undefined || parsed === undefined) throw new Error(`unknown task ${id}`);
    // The options the task opens them with (a cached aggregate's: task.ts, cachedAggregates).
    const cached = cachedAggregates(sub);
    const entries: StoreEntry[] = sub.stores.map((spec) => ({
      name: spec.name,
      changelogTopic: spec.changelogTopic,
      dir: storeDir(location.stateDir, location.appId, id, spec.name),
      apply: () => undefined,
      clear: () => undefined,
      cached: undefined,
      load: false,
      pointReads: cached.has(spec.name),
    }));
    const opened = await openStores(
      { id, partition: parsed.partition, stats: emptyStats() },
      entries,
      location,
      reader,
      logger.child({ task: id, standby: true }),
    );
    return {
      id,
      partition: parsed.partition,
      taskDir: taskStateDir(location.stateDir, location.appId, id),
      persistence: opened.persistence,
      tailed: tailedStores(sub),
      offsets: opened.from,
      warmup,
      caughtUp: false,
    };
  }

  private async closeOne(standby: Standby): Promise<void> {
    for (const db of standby.persistence.values()) await db.close().catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.wanted.size === 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pass !== undefined) return;
      this.pass = this.exclusive(() => this.readOnce())
        .then(
          (behind) => {
            this.failures = 0;
            return behind ? 0 : this.deps.intervalMs;
          },
          (error: unknown) => {
            this.failures++;
            const retryMs = backoffMs(this.failures, Math.random(), {
              initialMs: this.deps.intervalMs,
              maxMs: 30_000,
            });
            this.deps.logger.warn(
              { cause: rootCause(error), attempt: this.failures, delayMs: retryMs },
              'standby read failed; it is tried again',
            );
            return retryMs;
          },
        )
        .then((nextMs) => {
          this.pass = undefined;
          this.schedule(nextMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over every standby; true if one of them is still behind. */
  private async readOnce(): Promise<boolean> {
    for (const [id, warmup] of this.wanted) if (!this.tasks.has(id)) await this.tryOpen(id, warmup);
    const probeEvery = this.deps.probeIntervalMs ?? 600_000;
    if ([...this.wanted.values()].some((w) => w) && Date.now() - this.lastProbe >= probeEvery) {
      this.lastProbe = Date.now();
      this.deps.logger.info({}, 'warm-ups still under way: probing rebalance');
      this.deps.onCaughtUp();
    }
    const byPartition = new Map<string, { standby: Standby; store: string }>();
    const requests = [];
    for (const standby of this.tasks.values())
      for (const [topic, store] of standby.tailed) {
        const from = BigInt(standby.offsets.get(topic) ?? '0');
        byPartition.set(`${topic}/${standby.partition}`, { standby, store });
        requests.push({
          topic,
          partition: standby.partition,
          from: from.toString(),
          to: (from + BigInt(this.passRecords)).toString(),
        });
      }
    if (requests.length === 0) return false;
    const changes = new Map<string, StoreChange[]>();
    const write = async (key: string, list: StoreChange[]) => {
      const target = byPartition.get(key);
      if (target === undefined || list.length === 0) return;
      await target.standby.persistence.get(target.store)?.write(list);
      this.stats.records += list.length;
    };
    const counts = await this.deps.reader.read(requests, async (tp, records) => {
      const key = `${tp.topic}/${tp.partition}`;
      let list = changes.get(key);
      if (list === undefined) changes.set(key, (list = []));
      for (const r of records) if (r.key !== null) list.push({ key: r.key, value: r.value });
      if (list.length >= restoreWriteBatch) {
        await write(key, list);
        changes.set(key, []);
      }
    });
    for (const [key, list] of changes) await write(key, list);
    this.stats.passes++;
    let behind = false;
    const caughtUpNow: TaskId[] = [];
    const standbysCaughtUp: TaskId[] = [];
    for (const standby of this.tasks.values()) {
      let read = 0;
      for (const topic of standby.tailed.keys()) {
        const progress = counts.get(`${topic}/${standby.partition}`);
        if (progress === undefined) continue;
        read = Math.max(read, progress.records);
        standby.offsets.set(topic, progress.position.toString());
      }
      for (const db of standby.persistence.values()) await db.flush();
      await writeCheckpoint(standby.taskDir, standby.offsets);
      const caughtUp = read <= this.deps.acceptableLag;
      if (caughtUp && !standby.caughtUp)
        (standby.warmup ? caughtUpNow : standbysCaughtUp).push(standby.id);
      standby.caughtUp = caughtUp;
      if (!caughtUp) behind = true;
    }
    if (standbysCaughtUp.length > 0)
      this.deps.logger.info({ tasks: standbysCaughtUp }, 'standby caught up');
    if (caughtUpNow.length > 0) {
      this.deps.logger.info({ tasks: caughtUpNow }, 'warm-up caught up');
      this.lastProbe = Date.now();
      this.deps.onCaughtUp();
    }
    return behind;
  }
}

/** The stores a standby reads the changelog of: all but tables restored from their own topic. */
function tailedStores(sub: SubTopology): Map<string, string> {
  return new Map(
    sub.stores.filter((spec) => spec.source === undefined).map((s) => [s.changelogTopic, s.name]),
  );
}
