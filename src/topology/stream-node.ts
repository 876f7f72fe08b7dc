import { TributaryError } from '../core/index.ts';
import type { ExternalSink, ProcessorSupplier } from '../core/index.ts';
import type { Serdes } from '../serde/index.ts';
import { addDedup } from './dedup.ts';
import { eraseFn, eraseJoiner, eraseSerde, eraseSupplier } from './erase.ts';
import type { NodeBody, TopologyGraph } from './graph.ts';
import { GroupedStreamNode, partitionKeySerde } from './grouped-stream.ts';
import type { StreamAt } from './grouped-stream.ts';
import { checkTopicName, repartitionTopic } from './names.ts';
import type { AnyExternalSink, ErrorPolicy } from './plan.ts';
import type {
  BranchPredicate,
  BranchStreams,
  DedupOptions,
  GroupByKeyOptions,
  GroupedStream,
  KeyByOptions,
  OperatorOptions,
  GlobalTable,
  ProcessOptions,
  Stream,
  StreamJoinOptions,
  StreamTableJoinOptions,
  Table,
  ToTableOptions,
} from './stream.ts';
import { processStores } from './stores.ts';
import { GlobalTableHandle } from './global-table.ts';
import { addLookupJoin, addWindowJoin } from './joins.ts';
import type { AnyJoiner } from './plan.ts';
import { materialize, storeTopic, TableNode } from './table-node.ts';

/** A Stream is a handle on one node of the topology graph; each operator adds a node. */
export class StreamNode<K, V> implements Stream<K, V> {
  constructor(
    readonly graph: TopologyGraph,
    readonly index: number,
  ) {}

  /** Adds a node downstream of this one and returns the stream it produces. */
  private then<K2, V2>(
    body: NodeBody,
    options: { name?: string | undefined; onError?: ErrorPolicy | undefined },
    parents: readonly number[] = [this.index],
  ): StreamNode<K2, V2> {
    return new StreamNode<K2, V2>(this.graph, this.graph.add(body, parents, options));
  }

  map<K2, V2>(
    fn: (key: K, value: V) => readonly [K2, V2],
    options: OperatorOptions = {},
  ): Stream<K2, V2> {
    return this.then({ kind: 'map', fn: eraseFn(fn) }, options);
  }

  mapValues<V2>(fn: (value: V, key: K) => V2, options: OperatorOptions = {}): Stream<K, V2> {
    return this.then({ kind: 'mapValues', fn: eraseFn(fn) }, options);
  }

  filter<V2 extends V>(
    fn: (key: K, value: V) => value is V2,
    options?: OperatorOptions,
  ): Stream<K, V2>;
  filter(fn: (key: K, value: V) => boolean, options?: OperatorOptions): Stream<K, V>;
  filter(fn: (key: K, value: V) => boolean, options: OperatorOptions = {}): Stream<K, V> {
    return this.then({ kind: 'filter', fn: eraseFn(fn) }, options);
  }

  flatMap<K2, V2>(
    fn: (key: K, value: V) => Iterable<readonly [K2, V2]>,
    options: OperatorOptions = {},
  ): Stream<K2, V2> {
    return this.then({ kind: 'flatMap', fn: eraseFn(fn) }, options);
  }

  peek(fn: (key: K, value: V) => void, options: OperatorOptions = {}): Stream<K, V> {
    return this.then({ kind: 'peek', fn: eraseFn(fn) }, options);
  }

  branch<const P extends readonly BranchPredicate<K, V>[]>(
    predicates: P,
    options: OperatorOptions = {},
  ): BranchStreams<K, V, P> {
    if (predicates.length === 0) {
      throw new TributaryError('TOPOLOGY_INVALID', 'branch() needs at least one predicate');
    }
    const branch = this.then({ kind: 'branch', predicates: predicates.map(eraseFn) }, options);
    const name = this.graph.nameOf(branch.index);
    // One pass-through node per branch, so the branch node's children[i] is always branch i,
    // however many operators (or none) hang off that branch.
    const outputs = predicates.map((_, i) =>
      branch.then<K, V>({ kind: 'merge' }, { name: `${name}-${i}`, onError: options.onError }),
    );
    // The tuple type says which branch is narrowed by its guard; the nodes are the same either way.
    return outputs as unknown as BranchStreams<K, V, P>;
  }

  merge(other: Stream<K, V>, options: OperatorOptions = {}): Stream<K, V> {
    if (!(other instanceof StreamNode) || other.graph !== this.graph) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `merge(): the other stream belongs to another topology than '${this.graph.appId}'`,
      );
    }
    if (other.index === this.index) {
      // Kafka Streams would pass each record twice; that is never what the code meant.
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `merge(): stream '${this.graph.nameOf(this.index)}' is merged with itself`,
      );
    }
    return this.then({ kind: 'merge' }, options, [this.index, other.index]);
  }

  keyBy<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): Stream<K2, V> {
    // Check the topic before adding anything, so a rejected keyBy leaves the graph as it was.
    const name = this.graph.nextName('selectKey', options.name);
    const topic = repartitionTopic(this.graph.appId, name);
    checkTopicName(topic, `the repartition topic of keyBy '${name}'`);
    const selectKey = this.then<K2, V>({ kind: 'selectKey', fn: eraseFn(fn) }, options);
    const serdes = { key: eraseSerde(options.key), value: eraseSerde(options.value) };
    const onError = options.onError;
    selectKey.then(
      { kind: 'sink', topic, ...serdes, internal: true },
      { name: `${name}-repartition-sink`, onError },
    );
    // No parent: the source reads the topic the sink writes, which is what starts a new
    // sub-topology (compile() cuts the graph there).
    return selectKey.then<K2, V>(
      { kind: 'source', topics: [topic], ...serdes, internal: true },
      { name: `${name}-repartition-source`, onError },
      [],
    );
  }

  selectKey<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): Stream<K2, V> {
    return this.keyBy(fn, options);
  }

  groupByKey(options: GroupByKeyOptions<K> = {}): GroupedStream<K, V> {
    // Checked even with an explicit serde: it is about partitioning, not encoding.
    const derived = partitionKeySerde(this.graph, this.index);
    const key = options.key === undefined ? derived : eraseSerde(options.key);
    return new GroupedStreamNode<K, V>({ ...this.grouping(), key });
  }

  groupBy<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): GroupedStream<K2, V> {
    const repartitioned = this.keyBy(fn, options) as StreamNode<K2, V>;
    return new GroupedStreamNode<K2, V>({
      ...repartitioned.grouping(),
      key: eraseSerde(options.key),
    });
  }

  /** What a grouped stream of this one needs, apart from the key serde. */
  private grouping(): { graph: TopologyGraph; parent: number; streamAt: StreamAt } {
    const { graph } = this;
    const streamAt: StreamAt = <K2, V2>(index: number) => new StreamNode<K2, V2>(graph, index);
    return { graph, parent: this.index, streamAt };
  }

  dedup(options: DedupOptions<K, V>): Stream<K, V> {
    return new StreamNode<K, V>(this.graph, addDedup(this.graph, this.index, options));
  }

  toTable(options: ToTableOptions): Table<K, V> {
    const { graph } = this;
    const name = graph.nextName('toTable', options.name ?? options.store);
    const topic = storeTopic(graph, options.store, name);
    const key = partitionKeySerde(graph, this.index, {
      step: 'toTable()',
      fix: 'kept in different tasks; keyBy(fn, { key, value }) first to repartition by the new key',
    });
    return materialize(
      { graph, streamAt: this.streamAt() },
      this.index,
      { name: options.store, changelogTopic: topic },
      key,
      { name, onError: options.onError },
    ) as unknown as Table<K, V>;
  }

  join<VT, VR>(
    table: Table<K, VT>,
    joiner: (value: V, tableValue: VT, key: K) => VR,
    options?: StreamTableJoinOptions<K, V>,
  ): Stream<K, VR>;
  join<VO, VR>(
    other: Stream<K, VO>,
    joiner: (value: V, otherValue: VO, key: K) => VR,
    options: StreamJoinOptions,
  ): Stream<K, VR>;
  join(
    other: unknown,
    joiner: (...args: never[]) => unknown,
    options?: StreamTableJoinOptions<K, V> | StreamJoinOptions,
  ): Stream<K, unknown> {
    return this.joinWith(other, eraseJoiner(joiner), 'inner', options);
  }

  leftJoin<VT, VR>(
    table: Table<K, VT>,
    joiner: (value: V, tableValue: VT | null, key: K) => VR,
    options?: StreamTableJoinOptions<K, V>,
  ): Stream<K, VR>;
  leftJoin<VO, VR>(
    other: Stream<K, VO>,
    joiner: (value: V, otherValue: VO | null, key: K) => VR,
    options: StreamJoinOptions,
  ): Stream<K, VR>;
  leftJoin(
    other: unknown,
    joiner: (...args: never[]) => unknown,
    options?: StreamTableJoinOptions<K, V> | StreamJoinOptions,
  ): Stream<K, unknown> {
    return this.joinWith(other, eraseJoiner(joiner), 'left', options);
  }

  outerJoin<VO, VR>(
    other: Stream<K, VO>,
    joiner: (value: V | null, otherValue: VO | null, key: K) => VR,
    options: StreamJoinOptions,
  ): Stream<K, VR> {
    if (!(other instanceof StreamNode)) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        'outerJoin() of a stream takes another stream of the same topology (a table: leftJoin)',
      );
    }
    return this.joinWith(other, eraseJoiner(joiner), 'outer', options) as Stream<K, VR>;
  }

  /** A stream-table join (the other side is a table) or a stream-stream join (a stream). */
  private joinWith(
    other: unknown,
    joiner: AnyJoiner,
    join: 'inner' | 'left' | 'outer',
    options: StreamTableJoinOptions<K, V> | StreamJoinOptions | undefined,
  ): Stream<K, unknown> {
    const { graph } = this;
    const name = graph.nextName('join', options?.name);
    const onError = options?.onError;
    if (other instanceof TableNode && other.at.graph === graph && join !== 'outer') {
      const table = other.at;
      const parent = this.partitionedForJoin(name, options as StreamTableJoinOptions<K, V>);
      const index = addLookupJoin(
        graph,
        parent,
        { view: table.view, join, joiner, connected: table.roots },
        { name, onError },
      );
      return new StreamNode<K, unknown>(graph, index);
    }
    if (other instanceof StreamNode && other.graph === graph) {
      const opts = options as StreamJoinOptions | undefined;
      if (opts === undefined || opts.window === undefined || typeof opts.store !== 'string') {
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `stream-stream join '${name}' needs options { window: joinWindow(...), store: '<name>' }`,
        );
      }
      const index = addWindowJoin(
        graph,
        { left: this.index, right: other.index },
        { join, joiner, window: opts.window, store: opts.store },
        { name, onError },
      );
      return new StreamNode<K, unknown>(graph, index);
    }
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `join '${name}': the other side must be a table or a stream of topology '${graph.appId}'`,
    );
  }

  /**
   * The node a stream-table join reads: this one while the stream is still partitioned by its
   * key, else a repartition by the key (with the serdes the options give for it).
   */
  private partitionedForJoin(
    name: string,
    options: StreamTableJoinOptions<K, V> | undefined,
  ): number {
    try {
      partitionKeySerde(this.graph, this.index, {
        step: `join '${name}'`,
        fix: 'looked up in the wrong task',
      });
      return this.index;
    } catch (error) {
      const serdes = options?.repartition;
      if (serdes === undefined) {
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `${(error as Error).message}; or give the join { repartition: { key, value } } to repartition the stream by its key first`,
        );
      }
      const repartitioned = this.keyBy((key) => key, {
        name: `${name}-by-key`,
        key: serdes.key,
        value: serdes.value,
        ...(options?.onError === undefined ? {} : { onError: options.onError }),
      }) as StreamNode<K, V>;
      return repartitioned.index;
    }
  }

  joinGlobal<KT, VT, VR>(
    table: GlobalTable<KT, VT>,
    keyOf: (key: K, value: V) => KT,
    joiner: (value: V, tableValue: VT, key: K) => VR,
    options: OperatorOptions = {},
  ): Stream<K, VR> {
    return this.joinGlobalWith(table, eraseFn(keyOf), eraseJoiner(joiner), 'inner', options);
  }

  leftJoinGlobal<KT, VT, VR>(
    table: GlobalTable<KT, VT>,
    keyOf: (key: K, value: V) => KT,
    joiner: (value: V, tableValue: VT | null, key: K) => VR,
    options: OperatorOptions = {},
  ): Stream<K, VR> {
    return this.joinGlobalWith(table, eraseFn(keyOf), eraseJoiner(joiner), 'left', options);
  }

  private joinGlobalWith<VR>(
    table: GlobalTable<unknown, unknown>,
    keyOf: (key: unknown, value: unknown) => unknown,
    joiner: AnyJoiner,
    join: 'inner' | 'left',
    options: OperatorOptions,
  ): Stream<K, VR> {
    const { graph } = this;
    const name = graph.nextName('join', options.name);
    if (!(table instanceof GlobalTableHandle) || table.graph !== graph) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `join '${name}': the table must be a global table of topology '${graph.appId}' (t.globalTable(...))`,
      );
    }
    const index = addLookupJoin(
      graph,
      this.index,
      { view: table.view, join, joiner, keyOf, globals: [table.store] },
      { name, onError: options.onError },
    );
    return new StreamNode<K, VR>(graph, index);
  }

  /** Makes Stream handles for the table and grouped-stream modules (which may not import this). */
  private streamAt(): StreamAt {
    const { graph } = this;
    return <K2, V2>(index: number) => new StreamNode<K2, V2>(graph, index);
  }

  to(topic: string, serdes: Serdes<K, V>, options: OperatorOptions = {}): void {
    checkTopicName(topic, 'sink topic');
    const body: NodeBody = {
      kind: 'sink',
      topic,
      key: eraseSerde(serdes.key),
      value: eraseSerde(serdes.value),
      internal: false,
    };
    this.then(body, options);
  }

  sinkTo(sink: ExternalSink<K, V>, options: OperatorOptions = {}): void {
    this.then({ kind: 'external', sink: sink as unknown as AnyExternalSink }, options);
  }

  process<K2, V2>(
    supplier: ProcessorSupplier<K, V, K2, V2>,
    options: ProcessOptions = {},
  ): Stream<K2, V2> {
    const name = this.graph.nextName('process', options.name);
    const stores = processStores(this.graph.appId, name, options.stores ?? [], options.timers);
    const { onError } = options;
    return this.then(
      { kind: 'process', label: 'process', supplier: eraseSupplier(supplier), stores },
      { name, onError },
    );
  }
}
