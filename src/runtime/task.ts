import { TributaryError } from '../core/index.ts';
import type {
  Clock,
  Logger,
  Timer,
  OperatorSnapshot,
  SinkRecord,
  SourcePosition,
  TaskId,
  TaskSnapshot,
} from '../core/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../kafka/index.ts';
import {
  bytesCodec,
  CachedStore,
  jsonCodec,
  KeyValueStoreHandle,
  MemoryStore,
  SeenStore,
  TimerStore,
  WindowStoreHandle,
} from '../state/index.ts';
import type { StoreCache, StoreCacheBudget, StoreChange } from '../state/index.ts';
import { encodeKey } from '../operators/aggregate-spec.ts';
import { storesOf } from '../topology/plan.ts';
import type {
  AggregateNode,
  AnyExternalSink,
  AnySerde,
  ErrorPolicy,
  PlanNode,
  StoreSpec,
  SubTopology,
  TimestampExtractor,
} from '../topology/plan.ts';
import { deadLetter, describeError, refusedLetter } from './dead-letter.ts';
import { processorFor } from './operator-factory.ts';
import { HaltError, ProcessorNode } from './processor-node.ts';
import type { NodeHost, NodeResources } from './processor-node.ts';
import type { GlobalStores } from './global-view.ts';
import type { TimestampGuard } from './timestamp-range.ts';

/** Counters of one task since it was created. */
export interface TaskStats {
  processed: number;
  produced: number;
  deadLettered: number;
  skipped: number;
  /** Records later than their window's grace period (also counted in deadLettered or skipped). */
  late: number;
  /** Changelog records read back into the stores when the task was created. */
  restored: number;
  /** Times the task's local state was found corrupt or inconsistent and wiped (task-stores.ts). */
  wiped: number;
}

export function emptyStats(): TaskStats {
  return {
    processed: 0,
    produced: 0,
    deadLettered: 0,
    skipped: 0,
    late: 0,
    restored: 0,
    wiped: 0,
  };
}

/** Adds one task's counters to running totals (of closed and discarded tasks, or of all). */
export function addStats(into: TaskStats, from: TaskStats): void {
  for (const key of Object.keys(into) as (keyof TaskStats)[]) into[key] += from[key];
}

/** A task's store: its in-memory layer (with the write cache) and its plan entry. */
export interface TaskStore {
  spec: StoreSpec;
  /**
   * A MemoryStore, a CachedStore (an aggregate's store kept in RocksDB: see cachedAggregates), or
   * a SeenStore for a dedup step (spec.kind 'seen').
   */
  memory: StoreCache;
}

/** A record as its source decoded it, or why it could not be. */
type Decoded =
  { ok: true; key: unknown; value: unknown; timestamp: number } | { ok: false; error: unknown };

/** A cached store and how a source record names the key its operator will read. */
interface Prefetcher {
  store: CachedStore<unknown>;
  keyOf: (key: unknown) => Buffer;
}

/**
 * Nodes that pass each record on with its key unchanged: they may drop it or change its value,
 * never its key. What reaches an aggregate through them only has keys its source decoded.
 */
function keepsKey(node: PlanNode): boolean {
  return (
    node.kind === 'mapValues' ||
    node.kind === 'filter' ||
    node.kind === 'peek' ||
    node.kind === 'branch' ||
    node.kind === 'merge' ||
    (node.kind === 'process' && node.label === 'dedup')
  );
}

/**
 * The aggregates of a sub-topology whose store can live in RocksDB behind a bounded cache
 * (cached-store.ts), by store name, with the sources whose records reach them: an aggregate
 * without a window (it reads one key per record: the record's), whose store no other node reads
 * (a join's lookups are not known before the batch), fed only by sources through nodes that keep
 * the key, so the keys a batch reads are known once its records are decoded. Windowed aggregates
 * and every other store stay whole in memory (decision 0025 says why and what comes next).
 */
export function cachedAggregates(
  subtopology: SubTopology,
): Map<string, { node: AggregateNode; sources: string[] }> {
  const parents = new Map<string, PlanNode[]>();
  for (const node of subtopology.nodes)
    for (const child of node.children) {
      const list = parents.get(child);
      if (list === undefined) parents.set(child, [node]);
      else list.push(node);
    }
  const connected = new Set(
    subtopology.nodes.flatMap((n) => (n.kind === 'process' ? (n.connected ?? []) : [])),
  );
  const found = new Map<string, { node: AggregateNode; sources: string[] }>();
  for (const node of subtopology.nodes) {
    if (node.kind !== 'process' || node.label !== 'aggregate' || node.window !== undefined)
      continue;
    const spec = node.stores[0];
    if (spec === undefined || node.stores.length !== 1) continue;
    if (spec.serdes !== undefined || spec.source !== undefined || connected.has(spec.name))
      continue;
    if (spec.kind !== undefined && spec.kind !== 'key-value') continue;
    const sources = new Set<string>();
    const seen = new Set<string>();
    const pending = [...(parents.get(node.name) ?? [])];
    let keyed = true;
    while (pending.length > 0 && keyed) {
      const p = pending.pop() as PlanNode;
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      if (p.kind === 'source') sources.add(p.name);
      else if (keepsKey(p)) pending.push(...(parents.get(p.name) ?? []));
      else keyed = false;
    }
    if (keyed && sources.size > 0) found.set(spec.name, { node, sources: [...sources] });
  }
  return found;
}

/** What a task's stores changed since the last flush: changelog records and the raw changes. */
export interface StoreFlush {
  records: OutgoingRecord[];
  changes: Map<string, StoreChange[]>;
}

interface SourceEntry {
  name: string;
  key: AnySerde;
  value: AnySerde;
  onError: ErrorPolicy;
  timestamp: TimestampExtractor | undefined;
  children: ProcessorNode[];
  recordsIn: number;
  recordsOut: number;
}

export interface TaskOptions {
  id: TaskId;
  subtopology: SubTopology;
  partition: number;
  dlqTopic: string;
  clock: Clock;
  logger: Logger;
  /** Checks a sink's record against its topic's timestamp limits (none: every record goes out). */
  timestamps?: TimestampGuard;
  /** The worker's global tables (plan.globalTables), which joinGlobal nodes look up. */
  globals?: GlobalStores;
  /**
   * The worker's memory for cached stores: the aggregates cachedAggregates finds keep their
   * store in RocksDB behind a cache of this budget. Without it (the test driver) every store is
   * held whole in memory.
   */
  storeCache?: StoreCacheBudget;
}

/**
 * One sub-topology on one partition: fresh processors for every node, fed the records of its
 * source topics' partition. Processing is synchronous; what it produces is collected and handed
 * back to the poll loop, which sends it and commits.
 *
 * Lifecycle: created --init--> running --close--> closed.
 */
export class Task implements NodeHost {
  readonly id: TaskId;
  readonly partition: number;
  readonly clock: Clock;
  readonly stats: TaskStats = emptyStats();
  readonly stores = new Map<string, TaskStore>();
  /**
   * Per `topic/partition`, the first offset this task has not processed: records below it are
   * already in its state (processed here, or committed by an earlier owner under exactly-once)
   * and are skipped when delivered again. kafkajs fetches again from the group's committed
   * offset after a rebalance that leaves a partition where it was; under exactly-once the
   * batches of the open transaction are past that offset and must not count twice.
   */
  readonly committedFloor = new Map<string, bigint>();
  source: SourcePosition | undefined;
  /** Largest event time processed so far (ms), or undefined before the first record. */
  streamTimeMs: number | undefined;
  /** Changelog records read back into each store while restoring. */
  readonly restored = new Map<string, number>();
  /** Records for external sinks, collected since the last commit took them. */
  private readonly external = new Map<AnyExternalSink, SinkRecord<unknown, unknown>[]>();

  private readonly logger: Logger;
  private readonly dlqTopic: string;
  private readonly timestamps: TimestampGuard | undefined;
  private readonly globals: GlobalStores | undefined;
  private readonly nodes: ProcessorNode[] = [];
  /** The processors with timers, in plan order. */
  private readonly timerNodes: { node: ProcessorNode; timers: TimerStore }[] = [];
  private readonly sources = new Map<string, SourceEntry>();
  private collected: OutgoingRecord[] = [];
  private input: FetchedRecord | undefined;
  private state: 'created' | 'running' | 'closed' = 'created';
  /** Batches of one task (several source topics) run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Per source node: the cached stores its records' keys are read from. */
  private readonly prefetchers = new Map<string, Prefetcher[]>();
  /** A batch decoded by `prefetch`, for `process` to use rather than decode it again. */
  private decoded: { records: FetchedRecord[]; decoded: Decoded[] } | undefined;

  constructor(options: TaskOptions) {
    this.id = options.id;
    this.partition = options.partition;
    this.clock = options.clock;
    this.dlqTopic = options.dlqTopic;
    this.timestamps = options.timestamps;
    this.globals = options.globals;
    this.logger = options.logger.child({ task: options.id });
    this.build(options.subtopology, options.storeCache);
  }

  get taskId(): string {
    return this.id;
  }

  private build(subtopology: SubTopology, storeCache: StoreCacheBudget | undefined): void {
    const cached = storeCache === undefined ? new Map() : cachedAggregates(subtopology);
    for (const spec of subtopology.stores) {
      // Processor API stores hold the bytes their serdes wrote (and timers); the built-in
      // aggregates' hold their values as they are, encoded as JSON at commit.
      const bytes = spec.serdes !== undefined || spec.kind === 'timers' || spec.kind === 'window';
      const aggregate = cached.get(spec.name);
      let memory: StoreCache;
      if (aggregate !== undefined && storeCache !== undefined) {
        const store = new CachedStore<unknown>(spec.name, jsonCodec(), storeCache);
        const { node } = aggregate;
        for (const source of aggregate.sources) {
          const list = this.prefetchers.get(source) ?? [];
          list.push({ store, keyOf: (key) => encodeKey(node, key, spec.name) });
          this.prefetchers.set(source, list);
        }
        memory = store;
      } else if (spec.kind === 'seen') memory = new SeenStore(spec.name, spec.withIds === true);
      else if (bytes) memory = new MemoryStore<Buffer>(spec.name, bytesCodec);
      else memory = new MemoryStore<unknown>(spec.name, jsonCodec());
      this.stores.set(spec.name, { spec, memory });
    }
    const byName = new Map<string, ProcessorNode>();
    for (const node of subtopology.nodes) {
      if (node.kind === 'source') continue;
      const resources = this.resources(node);
      // A sink's output is what it emits, counted as the operator's records out; one its topic
      // would refuse for its timestamp goes to the dead-letter topic instead (never sent, so
      // never a produce error that stalls the task: timestamp-range.ts).
      const emit = (record: OutgoingRecord): void => {
        const refused = this.timestamps?.refusal(record.topic, record.timestamp);
        if (refused !== undefined) {
          this.refused(node.name, record, refused);
          return;
        }
        processorNode.recordsOut++;
        this.collected.push(record);
      };
      const processorNode: ProcessorNode = new ProcessorNode(
        node.name,
        processorFor(node, emit, (record) => {
          if (node.kind !== 'external') return;
          processorNode.recordsOut++;
          const list = this.external.get(node.sink);
          if (list === undefined) this.external.set(node.sink, [record]);
          else list.push(record);
        }),
        node.onError,
        this,
        resources.stores.size === 0 && resources.timers === undefined ? undefined : resources,
      );
      if (resources.timers !== undefined)
        this.timerNodes.push({ node: processorNode, timers: resources.timers });
      byName.set(node.name, processorNode);
      this.nodes.push(processorNode);
    }
    const childrenOf = (node: PlanNode): ProcessorNode[] =>
      node.children.map((name) => {
        const child = byName.get(name);
        if (child === undefined) throw new Error(`plan: ${node.name} names unknown child ${name}`);
        return child;
      });
    for (const node of subtopology.nodes) {
      if (node.kind === 'source') {
        const entry = {
          name: node.name,
          key: node.key,
          value: node.value,
          onError: node.onError,
          timestamp: node.timestamp,
          children: childrenOf(node),
          recordsIn: 0,
          recordsOut: 0,
        };
        for (const topic of node.topics) this.sources.set(topic, entry);
      } else {
        byName.get(node.name)?.children.push(...childrenOf(node));
      }
    }
  }

  /**
   * What a node's context hands out: for each store the node owns, a typed handle (Processor
   * API stores, over the bytes their serdes wrote) or the store itself (the built-in
   * aggregates' and dedup steps'), and its timers. One mechanism for every stateful operator.
   */
  private resources(node: PlanNode): NodeResources & { timers: TimerStore | undefined } {
    const stores = new Map<string, unknown>();
    let timers: TimerStore | undefined;
    // A join looks up stores another node owns (the table's; the other side's), and the
    // worker's global tables: the same handles that node gets.
    for (const name of node.kind === 'process' ? (node.connected ?? []) : []) {
      const memory = this.stores.get(name)?.memory;
      if (memory === undefined) throw new Error(`task ${this.id} has no store ${name}`);
      stores.set(name, memory);
    }
    for (const name of node.kind === 'process' ? (node.globals ?? []) : []) {
      const view = this.globals?.view(name);
      if (view === undefined) throw new Error(`task ${this.id} has no global table ${name}`);
      stores.set(name, view);
    }
    for (const spec of storesOf(node)) {
      const memory = this.stores.get(spec.name)?.memory;
      if (memory === undefined) throw new Error(`task ${this.id} has no store ${spec.name}`);
      const bytes = memory as MemoryStore<Buffer>;
      if (spec.kind === 'timers') timers = new TimerStore(bytes, node.name);
      else if (spec.serdes === undefined) stores.set(spec.name, memory);
      else if (spec.kind === 'window')
        stores.set(spec.name, new WindowStoreHandle(bytes, spec.serdes, spec.changelogTopic));
      else stores.set(spec.name, new KeyValueStoreHandle(bytes, spec.serdes, spec.changelogTopic));
    }
    return { stores, timers };
  }

  async init(): Promise<void> {
    // The timer stores are restored by now: their stream time comes back first.
    for (const { timers } of this.timerNodes) timers.restored();
    for (const node of this.nodes) await node.processor.init?.(node.context);
    this.state = 'running';
  }

  /**
   * What holds the task now (`exclusive`'s `what`, updated by `busyWith`) and since when
   * (performance.now()): named in the warning about a task held too long (runtime.ts).
   */
  holder: { what: string; since: number } | undefined;

  /** Runs fn after the task's earlier batches, one at a time; `what` names it while it runs. */
  exclusive<T>(fn: () => Promise<T>, what = 'a step'): Promise<T> {
    const held = async (): Promise<T> => {
      this.holder = { what, since: performance.now() };
      try {
        return await fn();
      } finally {
        this.holder = undefined;
      }
    };
    const run = this.queue.then(held, held);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Renames what holds the task (a step of `exclusive`'s fn), keeping since when it holds it. */
  busyWith(what: string): void {
    if (this.holder !== undefined) this.holder.what = what;
  }

  /**
   * Before `process`, for a task with cached stores (cached-store.ts): decodes the batch (kept
   * for `process`) and has each cached store its source feeds load the keys the batch's records
   * will read, in one RocksDB read per store. Returns undefined when there is nothing to wait for.
   */
  prefetch(topic: string, records: FetchedRecord[]): Promise<void> | undefined {
    if (this.prefetchers.size === 0 || this.state !== 'running') return undefined;
    const source = this.sources.get(topic);
    const prefetchers = source === undefined ? undefined : this.prefetchers.get(source.name);
    if (source === undefined || prefetchers === undefined) return undefined;
    const decoded = records.map((input) => this.decode(source, topic, input));
    this.decoded = { records, decoded };
    let waits: Promise<void>[] | undefined;
    for (const { store, keyOf } of prefetchers) {
      const keys: Buffer[] = [];
      for (const d of decoded) {
        if (!d.ok) continue;
        try {
          keys.push(keyOf(d.key));
        } catch {
          // A key the aggregate cannot encode: it fails that record itself, reading nothing.
        }
      }
      const wait = store.prefetch(keys);
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  }

  /** A fetched record as its source decodes it (key, value, event time), or why it cannot be. */
  private decode(source: SourceEntry, topic: string, input: FetchedRecord): Decoded {
    try {
      const key = source.key.deserialize(input.key, topic);
      const value = source.value.deserialize(input.value, topic);
      const timestamp =
        source.timestamp === undefined
          ? input.timestamp
          : source.timestamp(key, value, input.timestamp);
      return { ok: true, key, value, timestamp };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /**
   * Decodes and processes the records of one fetched batch, in offset order, and returns what
   * they produced (outputs and dead letters). Throws HaltError when a `fail` operator failed.
   */
  process(topic: string, partition: number, records: FetchedRecord[]): OutgoingRecord[] {
    if (this.state !== 'running') throw new Error(`task ${this.id} is ${this.state}`);
    const source = this.sources.get(topic);
    if (source === undefined) throw new Error(`task ${this.id} does not read topic ${topic}`);
    this.collected = [];
    const decoded = this.decoded?.records === records ? this.decoded.decoded : undefined;
    this.decoded = undefined;
    try {
      // Compared per record only in a batch that starts below the floor (one delivered again):
      // the usual batch pays one BigInt, not one per record.
      const floorOf = this.committedFloor.get(`${topic}/${partition}`);
      const first = records[0];
      const floor =
        floorOf !== undefined && first !== undefined && BigInt(first.offset) < floorOf
          ? floorOf
          : undefined;
      for (let i = 0; i < records.length; i++) {
        const input = records[i] as FetchedRecord;
        if (floor !== undefined && BigInt(input.offset) < floor) continue;
        this.input = input;
        this.source = { topic, partition, offset: input.offset };
        source.recordsIn++;
        // Decoded by prefetch, or here, inline as before prefetch existed (no object per record).
        let key: unknown;
        let value: unknown;
        let timestamp = input.timestamp;
        let failure: { error: unknown } | undefined;
        const d = decoded?.[i];
        if (d !== undefined) {
          if (d.ok) ({ key, value, timestamp } = d);
          else failure = { error: d.error };
        } else {
          try {
            key = source.key.deserialize(input.key, topic);
            value = source.value.deserialize(input.value, topic);
            if (source.timestamp !== undefined)
              timestamp = source.timestamp(key, value, input.timestamp);
          } catch (error) {
            failure = { error };
          }
        }
        if (failure !== undefined) {
          if (source.onError === 'fail') throw new HaltError(source.name, failure.error);
          this.operatorFailed(source.name, source.onError, failure.error);
          continue;
        }
        const record = { key, value, timestamp, headers: input.headers };
        if (this.streamTimeMs === undefined || timestamp > this.streamTimeMs)
          this.streamTimeMs = timestamp;
        source.recordsOut++;
        if (this.timerNodes.length > 0) this.observeStreamTime();
        for (const child of source.children) child.process(record);
        if (this.timerNodes.length > 0) this.fireTimers('event', undefined);
        this.stats.processed++;
      }
    } finally {
      this.input = undefined;
      this.source = undefined;
    }
    const last = records[records.length - 1];
    if (last !== undefined) {
      const next = BigInt(last.offset) + 1n;
      const key = `${topic}/${partition}`;
      if ((this.committedFloor.get(key) ?? -1n) < next) this.committedFloor.set(key, next);
    }
    const out = this.collected;
    this.collected = [];
    this.stats.produced += out.length;
    return out;
  }

  /** Runs the operators' time-driven work (closing windows on a quiet partition) and returns what it produced. */
  punctuate(now: number): OutgoingRecord[] {
    if (this.state !== 'running') return [];
    this.collected = [];
    for (const node of this.nodes) {
      if (node.processor.punctuate === undefined) continue;
      try {
        node.processor.punctuate(now, node.context);
      } catch (error) {
        if (node.onError === 'fail') throw new HaltError(node.name, error);
        this.logger.error({ operator: node.name, err: error }, 'punctuation failed');
      }
    }
    if (this.timerNodes.length > 0) this.fireTimers('wall', now);
    const out = this.collected;
    this.collected = [];
    this.stats.produced += out.length;
    return out;
  }

  /** The stores' changes since the last flush, as changelog records for this task's partition. */
  flushStores(): StoreFlush {
    const records: OutgoingRecord[] = [];
    const changes = new Map<string, StoreChange[]>();
    for (const { spec, memory } of this.stores.values()) {
      if (memory.pending === 0) continue;
      const flushed = memory.flush();
      changes.set(spec.name, flushed);
      // A table's store restored from its source topic: those records are its changelog.
      if (spec.source !== undefined) continue;
      for (const change of flushed) {
        records.push({
          topic: spec.changelogTopic,
          partition: this.partition,
          key: change.key,
          value: change.value,
          timestamp: this.clock.now(),
          headers: {},
        });
      }
    }
    return { records, changes };
  }

  /**
   * Fires the due timers of every processor with timers, each processor's in time order:
   * event timers up to its stream time (after a record; the task's stream time is kept in the
   * timer store, so it never goes back across a restart), or wall timers up to `now`
   * (punctuation). A timer an onTimer sets that is due already fires in the same pass.
   */
  private fireTimers(kind: Timer['kind'], now: number | undefined): void {
    for (const { node, timers } of this.timerNodes) {
      const upTo = kind === 'event' ? timers.streamTime : now;
      if (upTo === undefined) continue;
      for (let timer = timers.takeDue(kind, upTo); timer !== undefined;) {
        node.fire(timer);
        timer = timers.takeDue(kind, upTo);
      }
    }
  }

  /** Processors see the stream time of the record they process (`context.timers.streamTime`). */
  private observeStreamTime(): void {
    for (const { timers } of this.timerNodes) timers.observe(this.streamTimeMs);
  }

  timerFailed(operator: string, timer: Timer, error: unknown): void {
    const reason = describeError(error);
    this.stats.skipped++;
    this.logger.error(
      { operator, code: reason.code, timer, reason: reason.message.slice(0, 200) },
      'timer failed',
    );
  }

  operatorFailed(operator: string, policy: ErrorPolicy, error: unknown): void {
    const reason = describeError(error);
    if (reason.code === 'LATE_RECORD') this.stats.late++;
    if (policy === 'skip') {
      this.stats.skipped++;
      this.logger.debug(
        { operator, code: reason.code, offset: this.source?.offset },
        'record skipped',
      );
      return;
    }
    if (this.input === undefined || this.source === undefined) {
      throw new TributaryError(
        'OPERATOR_FAILED',
        `operator ${operator} failed outside record processing: ${reason.message}`,
        { cause: error },
      );
    }
    this.stats.deadLettered++;
    this.collected.push(
      this.stamped(deadLetter(this.dlqTopic, this.input, this.source, operator, reason)),
    );
    this.logger.warn(
      {
        operator,
        code: reason.code,
        topic: this.source.topic,
        partition: this.source.partition,
        offset: this.source.offset,
        reason: reason.message.slice(0, 200),
      },
      'record sent to the dead-letter topic',
    );
  }

  /** A sink's record its topic would refuse for its timestamp: a dead letter, counted. */
  private refused(operator: string, record: OutgoingRecord, reason: string): void {
    this.stats.deadLettered++;
    this.collected.push(this.stamped(refusedLetter(this.dlqTopic, record, operator, reason)));
    this.logger.warn(
      {
        operator,
        code: 'TIMESTAMP_OUT_OF_RANGE',
        topic: record.topic,
        timestamp: record.timestamp,
        reason: reason.slice(0, 300),
      },
      'record sent to the dead-letter topic',
    );
  }

  /**
   * A dead letter keeps its record's timestamp (the dead-letter topic we create stamps
   * LogAppendTime, which the broker never range-checks); a dead-letter topic made otherwise
   * that would refuse it gets it stamped now (the original is in its headers).
   */
  private stamped(letter: OutgoingRecord): OutgoingRecord {
    if (this.timestamps?.refusal(letter.topic, letter.timestamp) === undefined) return letter;
    return { ...letter, timestamp: this.clock.now() };
  }

  /** The records collected for external sinks since the last call, by sink (commit step 1). */
  takeExternal(): Map<AnyExternalSink, SinkRecord<unknown, unknown>[]> {
    const taken = new Map(this.external);
    this.external.clear();
    return taken;
  }

  /** Counters and gauges of this task for the metrics layer. */
  snapshot(): TaskSnapshot {
    const operators: OperatorSnapshot[] = [];
    const seen = new Set<SourceEntry>();
    for (const source of this.sources.values()) {
      if (seen.has(source)) continue;
      seen.add(source);
      operators.push({
        operator: source.name,
        recordsIn: source.recordsIn,
        recordsOut: source.recordsOut,
      });
    }
    for (const node of this.nodes) {
      operators.push({
        operator: node.name,
        recordsIn: node.recordsIn,
        recordsOut: node.recordsOut,
      });
    }
    return {
      task: this.id,
      operators,
      streamTimeMs: this.streamTimeMs,
      late: this.stats.late,
      deadLettered: this.stats.deadLettered,
      restored: new Map(this.restored),
    };
  }

  /** Closes without waiting for queued batches (the caller is one of them); nothing is committed. */
  async abandon(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.external.clear();
    for (const node of this.nodes) await node.processor.close?.();
    this.releaseCaches();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.queue;
    for (const node of this.nodes) await node.processor.close?.();
    this.releaseCaches();
  }

  /** Gives the cached stores' share of the worker's budget back (the task is closed). */
  private releaseCaches(): void {
    for (const { memory } of this.stores.values())
      if (memory instanceof CachedStore) memory.release();
  }
}
