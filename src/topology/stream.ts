import type { ExternalSink, ProcessorSupplier, StoreKind } from '../core/index.ts';
import type { Serde, Serdes } from '../serde/index.ts';
import type { Aggregator } from './aggregators.ts';
import type { ErrorPolicy, WindowSpec } from './plan.ts';

/** Options every operator takes. */
export interface OperatorOptions {
  /**
   * The operator's name in the plan, metrics and describe(). Give one to anything whose name
   * ends up in a topic or store name: a derived name (`filter-3`) changes when code is added
   * before it.
   */
  name?: string;
  /**
   * What happens when the operator's function throws (for a source or sink: when a record
   * cannot be decoded or encoded); default `dlq`.
   */
  onError?: ErrorPolicy;
}

/** The names of V's fields that hold numbers: what `timestamp: 'field'` accepts. */
export type NumberField<V> = {
  [P in keyof V]-?: V[P] extends number ? P : never;
}[keyof V] &
  string;

/** Options of a source: stream(topic, serdes, options). */
export interface SourceOptions<K, V> extends OperatorOptions {
  /**
   * The event time of each record in ms since the epoch, which windows and stream time use:
   * a function, or the name of a numeric field of the value (`'time'` is `Number(value.time)`).
   * Without it, the Kafka record's timestamp.
   */
  timestamp?: ((value: V, key: K, recordTimestamp: number) => number) | NumberField<V>;
}

/** keyBy repartitions, so it needs serdes for the repartition topic. */
export interface KeyByOptions<K, V> extends OperatorOptions {
  key: Serde<K>;
  value: Serde<V>;
}

/** groupByKey() takes the key serde of the source it reads, unless given another for its stores. */
export interface GroupByKeyOptions<K> {
  key?: Serde<K>;
}

/** Options of an aggregation: the store name is required, because it names the changelog topic. */
export interface AggregateOptions {
  /**
   * The store's name: stable across code changes (its changelog topic is
   * `<appId>-<store>-changelog`, so renaming it starts from empty state). Characters of a Kafka
   * topic name only.
   */
  store: string;
  /** The operator's name in the plan, metrics and describe(); default the store name. */
  name?: string;
  /** What happens when the aggregator throws (or a record is late: LATE_RECORD); default `dlq`. */
  onError?: ErrorPolicy;
}

export interface WindowedAggregateOptions extends AggregateOptions {
  /**
   * `final` (the default): one result per window, when the watermark (event time minus grace)
   * passes its end. `updates`: the new result after every record.
   */
  emit?: 'final' | 'updates';
  /**
   * Whose event time closes windows and judges lateness:
   * - `'partition'` (the default, Kafka Streams' rule): the task's stream time, the largest event
   *   time seen in the input partition. Right when one producer writes a partition in time order.
   * - `'key'`: each key's own largest event time. Right for devices and stations with their own
   *   clocks, reconnect bursts of buffered readings, and backfills read entity by entity: one
   *   key's time never makes another key's records late. A key's last windows close only when
   *   its own time passes them, or by `idleTimeoutMs` for that key.
   */
  time?: 'partition' | 'key';
  /**
   * Wall-clock ms without records after which quiet input still closes its windows. Per
   * partition: the task's stream time then moves on with the wall clock. Per key: all windows of
   * a key without records for that long close at once (the end of a backfill, a device switched
   * off), and its later records for those windows are late. Choose it longer than any pause a
   * key's input can have (a restart, an outage of a sink). Default: never.
   */
  idleTimeoutMs?: number;
}

/** A store a processor declares, whatever its types (what `process()` takes a list of). */
export interface DeclaredStore {
  readonly name: string;
  readonly kind: StoreKind;
  readonly key: { readonly name: string };
  readonly value: { readonly name: string };
}

/** Options of process(): the stores and timers of a stateful processor. */
export interface ProcessOptions extends OperatorOptions {
  /**
   * The stores the processor uses, from keyValueStore() and windowStore(): names stable and
   * unique in the topology (each names its changelog topic `<appId>-<store>-changelog`).
   */
  stores?: readonly DeclaredStore[];
  /**
   * The name of the store that keeps the processor's timers (`context.timers`), stable like a
   * store name; without it the processor has no timers.
   */
  timers?: string;
}

/** Options of dedup(): the store name is required, because it names the changelog topic. */
export interface DedupOptions<K, V> {
  /**
   * The store's name: stable across code changes (its changelog topic is
   * `<appId>-<store>-changelog`). Characters of a Kafka topic name only.
   */
  store: string;
  /** The operator's name in the plan, metrics and describe(); default the store name. */
  name?: string;
  /**
   * How long a seen record is remembered, in event time of its key: an entry is forgotten once
   * the key's largest event time reaches the entry's time + retentionMs. Cover the size + grace
   * of the windows downstream, so that no duplicate reaches a window that is still open. Memory
   * and restore time grow with it: about 8 bytes per entry with the default ids.
   */
  retentionMs: number;
  /**
   * A record's id within its key (a message id); default its event time, which keeps entries
   * smallest. Two records of a key with one id are duplicates whatever their times. Adding or
   * removing it changes the store's layout: give the store a new name then.
   */
  id?: (value: V, key: K) => string | number;
  /** What happens when the id function throws (or an event time is not usable); default `dlq`. */
  onError?: ErrorPolicy;
}

/** One window's result: `[start, end)` in ms since the epoch (`end` exclusive), and its key. */
export interface Windowed<K, R> {
  key: K;
  start: number;
  end: number;
  value: R;
}

/** Session windows merge aggregates, so their aggregator must have merge(). */
export type MergeRequirement<W extends WindowSpec, A> = W extends { type: 'session' }
  ? { readonly merge: (left: A, right: A) => A }
  : unknown;

/**
 * A stream grouped by key, ready to aggregate: one aggregate per key, kept in a store named by
 * `options.store`, and the new result emitted after every record.
 */
export interface GroupedStream<K, V> {
  /** The number of records per key. */
  count(options: AggregateOptions): Stream<K, number>;
  /** Folds each key's values with fn, starting from its first value. */
  reduce(fn: (left: V, right: V) => V, options: AggregateOptions): Stream<K, V>;
  /** Folds each key's values with the aggregator (see counter(), sum(), summary() ...). */
  aggregate<A, R = A>(aggregator: Aggregator<K, V, A, R>, options: AggregateOptions): Stream<K, R>;
  /** Aggregates per key and event-time window: tumbling(), hopping() or session(). */
  windowedBy<W extends WindowSpec>(window: W): WindowedStream<K, V, W>;
}

/**
 * A grouped stream cut into windows. Each result is a Windowed (key, start, end, value), stamped
 * with the window's last millisecond. A record later than its windows' grace goes to the
 * dead-letter topic with code LATE_RECORD.
 */
export interface WindowedStream<K, V, W extends WindowSpec = WindowSpec> {
  count(options: WindowedAggregateOptions): Stream<K, Windowed<K, number>>;
  reduce(
    fn: (left: V, right: V) => V,
    options: WindowedAggregateOptions,
  ): Stream<K, Windowed<K, V>>;
  aggregate<A, R = A>(
    aggregator: Aggregator<K, V, A, R> & MergeRequirement<W, A>,
    options: WindowedAggregateOptions,
  ): Stream<K, Windowed<K, R>>;
}

/** A branch predicate: a plain one keeps the type, a type guard narrows its branch. */
export type BranchPredicate<K, V> = (key: K, value: V) => boolean;

/** One stream per predicate, narrowed by its type guard where it has one. */
export type BranchStreams<K, V, P extends readonly BranchPredicate<K, V>[]> = {
  -readonly [I in keyof P]: P[I] extends ((key: K, value: V) => value is infer V2 extends V)
    ? Stream<K, V2>
    : Stream<K, V>;
};

/**
 * A typed stream of keyed records. Each method adds one operator to the topology and returns the
 * stream it produces; the key and value types flow through, so a sink whose serdes do not match
 * the stream does not compile.
 */
export interface Stream<K, V> {
  /** New key and value per record. */
  map<K2, V2>(
    fn: (key: K, value: V) => readonly [K2, V2],
    options?: OperatorOptions,
  ): Stream<K2, V2>;

  /** New value per record; the key (and so the partitioning) stays. */
  mapValues<V2>(fn: (value: V, key: K) => V2, options?: OperatorOptions): Stream<K, V2>;

  /** Keeps the records for which fn holds; a type guard narrows the value type. */
  filter<V2 extends V>(
    fn: (key: K, value: V) => value is V2,
    options?: OperatorOptions,
  ): Stream<K, V2>;
  filter(fn: (key: K, value: V) => boolean, options?: OperatorOptions): Stream<K, V>;

  /** Zero or more records per record. */
  flatMap<K2, V2>(
    fn: (key: K, value: V) => Iterable<readonly [K2, V2]>,
    options?: OperatorOptions,
  ): Stream<K2, V2>;

  /** Sees each record (logging, metrics) and passes it on unchanged. */
  peek(fn: (key: K, value: V) => void, options?: OperatorOptions): Stream<K, V>;

  /**
   * Splits the stream: a record goes to the branch of the first predicate that holds, and is
   * dropped when none does (as in Kafka Streams). Add `() => true` last for a default branch.
   */
  branch<const P extends readonly BranchPredicate<K, V>[]>(
    predicates: P,
    options?: OperatorOptions,
  ): BranchStreams<K, V, P>;

  /**
   * Both streams' records as one stream. Streams from different source topics end up in one
   * sub-topology, so those topics must be co-partitioned (the runtime checks the counts).
   */
  merge(other: Stream<K, V>, options?: OperatorOptions): Stream<K, V>;

  /**
   * Re-keys the stream and repartitions it through `<appId>-<name>-repartition`, so records with
   * the same new key meet in the same task. Give a name: it names the topic.
   */
  keyBy<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): Stream<K2, V>;

  /** keyBy under its Kafka Streams name. */
  selectKey<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): Stream<K2, V>;

  /**
   * Groups by the current key for an aggregation, without repartitioning: the key must be the
   * one the records were partitioned by (no map, flatMap or process since the source or the
   * last repartition; use mapValues to keep the key, or groupBy to re-key).
   */
  groupByKey(options?: GroupByKeyOptions<K>): GroupedStream<K, V>;

  /**
   * Groups by a new key: repartitions exactly as keyBy (through `<appId>-<name>-repartition`),
   * and the aggregation runs in the next sub-topology.
   */
  groupBy<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): GroupedStream<K2, V>;

  /**
   * Drops each record whose (key, id) was seen before (the id is its event time unless `id`
   * says otherwise), remembering what it saw for `retentionMs` of the key's own event time in a
   * store (changelog `<appId>-<store>-changelog`). Duplicates are dropped and counted (the
   * operator's records in minus records out). Like groupByKey it never repartitions: the key
   * must be the one the records were partitioned by.
   */
  dedup(options: DedupOptions<K, V>): Stream<K, V>;

  /**
   * The stream as a table: the latest value per key (a null value deletes the key), kept in a
   * store changelogged to `<appId>-<store>-changelog`. Like groupByKey it never repartitions.
   */
  toTable(options: ToTableOptions): Table<K, V>;

  /**
   * Stream-table join: each record is joined with the table's value for its key as the table is
   * when the record is processed (a later table update does not change an earlier result);
   * records whose key the table lacks are dropped. The table and the stream must be
   * co-partitioned (checked at start); the output keeps the stream record's key and time.
   */
  join<VT, VR>(
    table: Table<K, VT>,
    joiner: (value: V, tableValue: VT, key: K) => VR,
    options?: StreamTableJoinOptions<K, V>,
  ): Stream<K, VR>;
  /**
   * Stream-stream join within a time window: each pair of records of one key, one from each
   * stream, whose times are within the window's bounds, as soon as the second arrives; stamped
   * with the later of the two times.
   */
  join<VO, VR>(
    other: Stream<K, VO>,
    joiner: (value: V, otherValue: VO, key: K) => VR,
    options: StreamJoinOptions,
  ): Stream<K, VR>;

  /** Stream-table join that keeps every record: tableValue is null where the table lacks the key. */
  leftJoin<VT, VR>(
    table: Table<K, VT>,
    joiner: (value: V, tableValue: VT | null, key: K) => VR,
    options?: StreamTableJoinOptions<K, V>,
  ): Stream<K, VR>;
  /**
   * Stream-stream left join: as join, and a record of this stream that no record of the other
   * joined once its window closed (stream time past t + afterMs + graceMs) is emitted once with
   * null, then; never earlier, so a late match is never preceded by a spurious null result.
   */
  leftJoin<VO, VR>(
    other: Stream<K, VO>,
    joiner: (value: V, otherValue: VO | null, key: K) => VR,
    options: StreamJoinOptions,
  ): Stream<K, VR>;

  /** Stream-stream outer join: as leftJoin, for unmatched records of either stream. */
  outerJoin<VO, VR>(
    other: Stream<K, VO>,
    joiner: (value: V | null, otherValue: VO | null, key: K) => VR,
    options: StreamJoinOptions,
  ): Stream<K, VR>;

  /**
   * Joins each record with a global table's entry for the key keyOf picks (no co-partitioning,
   * no repartition); records whose table key is absent are dropped.
   */
  joinGlobal<KT, VT, VR>(
    table: GlobalTable<KT, VT>,
    keyOf: (key: K, value: V) => KT,
    joiner: (value: V, tableValue: VT, key: K) => VR,
    options?: OperatorOptions,
  ): Stream<K, VR>;
  /** joinGlobal that keeps every record: tableValue is null where the table lacks the key. */
  leftJoinGlobal<KT, VT, VR>(
    table: GlobalTable<KT, VT>,
    keyOf: (key: K, value: V) => KT,
    joiner: (value: V, tableValue: VT | null, key: K) => VR,
    options?: OperatorOptions,
  ): Stream<K, VR>;

  /** Writes the stream to a topic. */
  to(topic: string, serdes: Serdes<K, V>, options?: OperatorOptions): void;

  /**
   * Writes the stream to a system outside Kafka (a Cassandra table): the records are written at
   * each commit, before input offsets, and retried while the system is down.
   */
  sinkTo(sink: ExternalSink<K, V>, options?: OperatorOptions): void;

  /**
   * A custom processor (see core's Processor); it forwards records of its output types. With
   * `stores` and `timers` it keeps state: the runtime makes its stores per task, changelogs,
   * checkpoints, restores and commits them as the built-in aggregates' (exactly-once included),
   * and hands them out through `context.getStore(...)` and `context.timers`.
   */
  process<K2, V2>(
    supplier: ProcessorSupplier<K, V, K2, V2>,
    options?: ProcessOptions,
  ): Stream<K2, V2>;
}

// Tables and joins (decision 0017). A table is a changelog: the latest value per key, where a null
// value deletes the key. Its operators pass changes (old and new value of a key) from one to the
// next, so an update can retract what the old value contributed.

/** Options of a table read from a topic: the store holding its latest values is named. */
export interface TableOptions<K, V> extends SourceOptions<K, V> {
  /**
   * The store of the table's latest values: stable across code changes. A table read from a
   * topic restores from that topic itself (no changelog of its own, as Kafka Streams' source-topic
   * optimization): the topic must be compacted, or its retention must cover every key's latest
   * value.
   */
  store: string;
}

/** Options of stream.toTable(): its store keeps the latest value per key (changelogged). */
export interface ToTableOptions {
  /** Names the changelog topic `<appId>-<store>-changelog`; stable across code changes. */
  store: string;
  name?: string;
  onError?: ErrorPolicy;
}

/** Options of a global table: every worker reads every partition of the topic into its store. */
export interface GlobalTableOptions<K, V> extends SourceOptions<K, V> {
  /** The store's name (unique in the topology). */
  store: string;
}

/** Options of table.groupBy(): the repartition topic `<appId>-<name>-repartition` and its serdes. */
export interface TableGroupByOptions<K, V> {
  /** Names the repartition topic, so it is required and must stay stable. */
  name: string;
  key: Serde<K>;
  value: Serde<V>;
  onError?: ErrorPolicy;
}

/**
 * Options of a stream-table or stream-global-table join. When the stream's key may have changed
 * since it was read (map, flatMap, process), the stream is repartitioned by its key first through
 * `<appId>-<name>-repartition`, encoded with `repartition`'s serdes; without them that is an
 * error naming this fix.
 */
export interface StreamTableJoinOptions<K, V> extends OperatorOptions {
  repartition?: { key: Serde<K>; value: Serde<V> };
}

/**
 * The time bounds of a stream-stream join: a record of this stream at time t joins the other
 * stream's records of its key with times in [t - beforeMs, t + afterMs]. A record older than the
 * join's stream time (the largest time either side has seen) minus `graceMs` is late.
 */
export interface JoinWindow {
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly graceMs: number;
}

/** Options of a stream-stream join. */
export interface StreamJoinOptions extends OperatorOptions {
  window: JoinWindow;
  /**
   * Names the join's stores (`<store>-this`, `<store>-other`), so their changelog topics; stable
   * across code changes. Values are kept as they are and written to the changelog as JSON.
   */
  store: string;
}

/** Options of a table-table join. */
export type TableJoinOptions = OperatorOptions;

/**
 * A table: the latest value per key. Operators on it yield tables again; toStream() turns its
 * changes into a stream. A delete (a null value on the topic) removes the key, and operators
 * downstream see it removed (a filtered-out or deleted value is absent: null).
 */
export interface Table<K, V> {
  /** Every change of the table as a record: the new value, or null when the key was deleted. */
  toStream(options?: OperatorOptions): Stream<K, V | null>;
  /** Keeps the entries for which fn holds; an entry that stops holding is deleted downstream. */
  filter(fn: (key: K, value: V) => boolean, options?: OperatorOptions): Table<K, V>;
  /** A new value per entry; a deleted entry stays deleted (fn is not called for it). */
  mapValues<V2>(fn: (value: V, key: K) => V2, options?: OperatorOptions): Table<K, V2>;
  /** Keys in both tables: joiner(value, otherValue); absent once either side is deleted. */
  join<VO, VR>(
    other: Table<K, VO>,
    joiner: (value: V, other: VO, key: K) => VR,
    options?: TableJoinOptions,
  ): Table<K, VR>;
  /** Keys of this table, with the other side's value or null. */
  leftJoin<VO, VR>(
    other: Table<K, VO>,
    joiner: (value: V, other: VO | null, key: K) => VR,
    options?: TableJoinOptions,
  ): Table<K, VR>;
  /** Keys of either table; the side a key is missing from is null. */
  outerJoin<VO, VR>(
    other: Table<K, VO>,
    joiner: (value: V | null, other: VO | null, key: K) => VR,
    options?: TableJoinOptions,
  ): Table<K, VR>;
  /**
   * Re-keys the entries for an aggregation, repartitioned through `<appId>-<name>-repartition`.
   * An update moves an entry: its old value is subtracted from its old group, then its new value
   * added to its new group.
   */
  groupBy<K2, V2>(
    fn: (key: K, value: V) => readonly [K2, V2],
    options: TableGroupByOptions<K2, V2>,
  ): GroupedTable<K2, V2>;
}

/** Options of a table aggregation: its store (and so its changelog) is named. */
export interface TableAggregateOptions {
  store: string;
  name?: string;
  onError?: ErrorPolicy;
}

/**
 * A table grouped by a new key. Each aggregation is a table: a group's result after every
 * change, `add` for a value that joins the group and `subtract` for one that leaves it.
 */
export interface GroupedTable<K, V> {
  /** Entries per group. */
  count(options: TableAggregateOptions): Table<K, number>;
  reduce(
    adder: (aggregate: V, value: V) => V,
    subtractor: (aggregate: V, value: V) => V,
    options: TableAggregateOptions,
  ): Table<K, V>;
  aggregate<A>(
    init: () => A,
    add: (aggregate: A, value: V, key: K) => A,
    subtract: (aggregate: A, value: V, key: K) => A,
    options: TableAggregateOptions,
  ): Table<K, A>;
}

/**
 * A table every task sees whole: each worker reads all partitions of its topic, at start (up to
 * the end the topic had then) and then as it changes. Joins with it need no co-partitioning; the
 * stream record picks the table key. Lookups see the table as the worker has read it so far.
 */
export interface GlobalTable<K, V> {
  readonly store: string;
  /** Type marker only: a GlobalTable<K, V> is not assignable to one of other types. */
  readonly types?: { key: K; value: V };
}
