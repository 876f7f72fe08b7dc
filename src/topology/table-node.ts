import { TributaryError } from '../core/index.ts';
import type { Serde } from '../serde/index.ts';
import { eraseFn, eraseSerde } from './erase.ts';
import type { TopologyGraph } from './graph.ts';
import type { StreamAt } from './grouped-stream.ts';
import { changelogTopic, checkStoreName, checkTopicName, repartitionTopic } from './names.ts';
import type { AnyJoiner, AnySerde, ErrorPolicy, TableView } from './plan.ts';
import type {
  GroupedTable,
  OperatorOptions,
  Stream,
  Table,
  TableAggregateOptions,
  TableGroupByOptions,
  TableJoinOptions,
} from './stream.ts';

/** Where a table hangs in the graph: the node emitting its changes, and how to look it up. */
export interface TableAt {
  readonly graph: TopologyGraph;
  /** The node whose output is the table's changes. */
  readonly index: number;
  /** How a join reads the table's current value of a key. */
  readonly view: TableView;
  /** The stores the view reads (owned by other nodes): a join is connected to them. */
  readonly roots: readonly string[];
  readonly streamAt: StreamAt;
}

/**
 * A table's value serde as its source reads it: a null value is a delete (a tombstone), never
 * handed to the serde (json() would refuse it).
 */
export function tombstones(serde: AnySerde): AnySerde {
  return {
    ...serde,
    deserialize: (data, topic) => (data === null ? null : serde.deserialize(data, topic)),
  };
}

/** Checks a store name and its changelog topic name; returns the changelog topic. */
export function storeTopic(graph: TopologyGraph, store: string, operator: string): string {
  checkStoreName(store, operator);
  const topic = changelogTopic(graph.appId, store);
  checkTopicName(topic, `the changelog topic of store '${store}'`);
  return topic;
}

/** Adds the node that keeps a table's latest values in its store; returns the table. */
export function materialize(
  at: Omit<TableAt, 'index' | 'view' | 'roots'>,
  parent: number,
  store: { name: string; changelogTopic: string; source?: { key: AnySerde; value: AnySerde } },
  key: AnySerde,
  options: { name: string; onError: ErrorPolicy | undefined },
): TableNode<never, never> {
  const { graph } = at;
  const index = graph.add(
    {
      kind: 'process',
      label: 'table',
      op: { type: 'materialize', key, topic: store.changelogTopic },
      stores: [{ ...store, kind: 'key-value' }],
    },
    [parent],
    options,
  );
  const view: TableView = { kind: 'store', store: store.name, key, topic: store.changelogTopic };
  return new TableNode({ ...at, index, view, roots: [store.name] });
}

export class TableNode<K, V> implements Table<K, V> {
  constructor(readonly at: TableAt) {}

  private then<K2, V2>(
    op: Parameters<TopologyGraph['add']>[0],
    view: TableView,
    options: { name?: string | undefined; onError?: ErrorPolicy | undefined },
    roots: readonly string[] = this.at.roots,
    parents: readonly number[] = [this.at.index],
  ): TableNode<K2, V2> {
    const index = this.at.graph.add(op, parents, options);
    return new TableNode<K2, V2>({ ...this.at, index, view, roots });
  }

  toStream(options: OperatorOptions = {}): Stream<K, V | null> {
    const index = this.at.graph.add(
      { kind: 'process', label: 'table', op: { type: 'toStream' }, stores: [] },
      [this.at.index],
      {
        name: this.at.graph.nextName('toStream', options.name),
        onError: options.onError,
      },
    );
    return this.at.streamAt<K, V | null>(index);
  }

  filter(fn: (key: K, value: V) => boolean, options: OperatorOptions = {}): Table<K, V> {
    const erased = eraseFn(fn);
    return this.then(
      { kind: 'process', label: 'table', op: { type: 'filter', fn: erased }, stores: [] },
      { kind: 'filter', of: this.at.view, fn: erased },
      {
        name: this.at.graph.nextName('filter', options.name),
        onError: options.onError,
      },
    );
  }

  mapValues<V2>(fn: (value: V, key: K) => V2, options: OperatorOptions = {}): Table<K, V2> {
    const erased = eraseFn(fn);
    return this.then(
      { kind: 'process', label: 'table', op: { type: 'mapValues', fn: erased }, stores: [] },
      { kind: 'mapValues', of: this.at.view, fn: erased },
      {
        name: this.at.graph.nextName('mapValues', options.name),
        onError: options.onError,
      },
    );
  }

  join<VO, VR>(
    other: Table<K, VO>,
    joiner: (value: V, other: VO, key: K) => VR,
    options: TableJoinOptions = {},
  ): Table<K, VR> {
    return this.joinTable(other, joiner as unknown as AnyJoiner, 'inner', options);
  }

  leftJoin<VO, VR>(
    other: Table<K, VO>,
    joiner: (value: V, other: VO | null, key: K) => VR,
    options: TableJoinOptions = {},
  ): Table<K, VR> {
    return this.joinTable(other, joiner as unknown as AnyJoiner, 'left', options);
  }

  outerJoin<VO, VR>(
    other: Table<K, VO>,
    joiner: (value: V | null, other: VO | null, key: K) => VR,
    options: TableJoinOptions = {},
  ): Table<K, VR> {
    return this.joinTable(other, joiner as unknown as AnyJoiner, 'outer', options);
  }

  /**
   * A table-table join: one node per side (a change of that side joined with the other side's
   * current value), both feeding a merge node, which is the joined table.
   */
  private joinTable<VO, VR>(
    other: Table<K, VO>,
    joiner: AnyJoiner,
    join: 'inner' | 'left' | 'outer',
    options: TableJoinOptions,
  ): Table<K, VR> {
    const { graph } = this.at;
    if (!(other instanceof TableNode) || (other as TableNode<K, VO>).at.graph !== graph) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `join(): the other table belongs to another topology than '${graph.appId}'`,
      );
    }
    const that = (other as TableNode<K, VO>).at;
    const name = graph.nextName('join', options.name);
    const { onError } = options;
    const side = (
      which: 'this' | 'other',
      parent: number,
      view: TableView,
      connected: readonly string[],
    ): number =>
      graph.add(
        {
          kind: 'process',
          label: 'join',
          op: { type: 'table', join, side: which, other: view, joiner },
          stores: [],
          connected: [...connected],
        },
        [parent],
        { name: `${name}-${which}`, onError },
      );
    const mine = side('this', this.at.index, that.view, that.roots);
    const theirs = side('other', that.index, this.at.view, this.at.roots);
    return this.then(
      { kind: 'merge' },
      { kind: 'join', join, left: this.at.view, right: that.view, joiner },
      { name, onError },
      [...new Set([...this.at.roots, ...that.roots])],
      [mine, theirs],
    );
  }

  groupBy<K2, V2>(
    fn: (key: K, value: V) => readonly [K2, V2],
    options: TableGroupByOptions<K2, V2>,
  ): GroupedTable<K2, V2> {
    const { graph } = this.at;
    const name = options.name;
    const topic = repartitionTopic(graph.appId, name);
    checkTopicName(topic, `the repartition topic of table groupBy '${name}'`);
    const { onError } = options;
    const serdes = { key: eraseSerde(options.key), value: eraseSerde(options.value) };
    const group = graph.add(
      { kind: 'process', label: 'table', op: { type: 'groupBy', fn: eraseFn(fn) }, stores: [] },
      [this.at.index],
      { name, onError },
    );
    graph.add({ kind: 'sink', topic, ...serdes, internal: true }, [group], {
      name: `${name}-repartition-sink`,
      onError,
    });
    const source = graph.add({ kind: 'source', topics: [topic], ...serdes, internal: true }, [], {
      name: `${name}-repartition-source`,
      onError,
    });
    return new GroupedTableNode<K2, V2>(this.at, source, serdes.key);
  }
}

class GroupedTableNode<K, V> implements GroupedTable<K, V> {
  constructor(
    private readonly at: TableAt,
    private readonly source: number,
    private readonly key: AnySerde,
  ) {}

  count(options: TableAggregateOptions): Table<K, number> {
    return this.add(
      () => 0,
      (n) => (n as number) + 1,
      (n) => (n as number) - 1,
      options,
    );
  }

  reduce(
    adder: (aggregate: V, value: V) => V,
    subtractor: (aggregate: V, value: V) => V,
    options: TableAggregateOptions,
  ): Table<K, V> {
    return this.add(
      undefined,
      adder as unknown as AnyJoiner,
      subtractor as unknown as AnyJoiner,
      options,
    );
  }

  aggregate<A>(
    init: () => A,
    add: (aggregate: A, value: V, key: K) => A,
    subtract: (aggregate: A, value: V, key: K) => A,
    options: TableAggregateOptions,
  ): Table<K, A> {
    return this.add(init, add as unknown as AnyJoiner, subtract as unknown as AnyJoiner, options);
  }

  private add<T>(
    init: (() => unknown) | undefined,
    add: AnyJoiner,
    subtract: AnyJoiner,
    options: TableAggregateOptions,
  ): Table<K, T> {
    const { graph } = this.at;
    const name = graph.nextName('aggregate', options.name ?? options.store);
    const topic = storeTopic(graph, options.store, name);
    const index = graph.add(
      {
        kind: 'process',
        label: 'table',
        op: { type: 'aggregate', key: this.key, topic, init, add, subtract },
        stores: [{ name: options.store, changelogTopic: topic, kind: 'key-value' }],
      },
      [this.source],
      { name, onError: options.onError },
    );
    const view: TableView = { kind: 'store', store: options.store, key: this.key, topic };
    return new TableNode<K, T>({ ...this.at, index, view, roots: [options.store] });
  }
}

/** Serdes of a table's source, for the TableNode of t.table(). */
export type TableSerdes = { key: Serde<unknown>; value: Serde<unknown> };
