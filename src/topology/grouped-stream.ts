import { TributaryError } from '../core/index.ts';
import { counter, reducer } from './aggregators.ts';
import type { Aggregator } from './aggregators.ts';
import { eraseAggregator } from './erase.ts';
import type { TopologyGraph } from './graph.ts';
import { changelogTopic, checkStoreName, checkTopicName } from './names.ts';
import type { AnyAggregator, AnySerde, WindowSpec } from './plan.ts';
import { isSessionWindow } from './plan.ts';
import type {
  AggregateOptions,
  GroupedStream,
  MergeRequirement,
  Stream,
  WindowedAggregateOptions,
  WindowedStream,
  Windowed,
} from './stream.ts';
import { checkWindow } from './windows.ts';

/** Makes the Stream handle of a node (given by stream-node.ts, which this file must not import). */
export type StreamAt = <K, V>(index: number) => Stream<K, V>;

/** Where a grouped stream hangs in the graph, and how its keys are encoded in store keys. */
interface Grouping {
  readonly graph: TopologyGraph;
  readonly parent: number;
  readonly key: AnySerde;
  readonly streamAt: StreamAt;
}

const groupByKeyUse = {
  step: 'groupByKey()',
  fix: 'counted in different tasks; use groupBy(fn, { key, value }) to repartition by the new key',
};

/**
 * The serde of the key a stream is partitioned by, for groupByKey() (and dedup()): the key serde of the source
 * (a user topic or a repartition topic) it comes from, through operators that keep the key. An
 * operator that may change the key without repartitioning makes grouping by it wrong (records
 * of one key in different tasks), so that is an error here, not a silent split of aggregates.
 */
export function partitionKeySerde(
  graph: TopologyGraph,
  index: number,
  use: { step: string; fix: string } = groupByKeyUse,
): AnySerde {
  const { spec, parents } = graph.node(index);
  switch (spec.kind) {
    case 'source':
      return spec.key;
    case 'process':
      // The built-ins keep the key (an aggregate emits per key, a dedup step passes records on).
      if (spec.label === 'aggregate' || spec.label === 'dedup') return spec.key;
      // Table operators and joins keep the key (a table's groupBy feeds a repartition topic).
      if (spec.label === 'table' || spec.label === 'join') {
        if (spec.label === 'table' && spec.op.type === 'groupBy') break;
        const [first] = parents;
        if (first === undefined) throw new RangeError(`node '${spec.name}' has no parent`);
        return partitionKeySerde(graph, first, use);
      }
      break;
    case 'filter':
    case 'mapValues':
    case 'peek':
    case 'branch':
    case 'merge': {
      // A merge keeps the key when every input does; the first input's serde encodes it.
      const serdes = parents.map((parent) => partitionKeySerde(graph, parent, use));
      const first = serdes[0];
      if (first === undefined) throw new RangeError(`node '${spec.name}' has no parent`);
      return first;
    }
    default:
      break;
  }
  throw new TributaryError(
    'TOPOLOGY_INVALID',
    `${use.step} after ${spec.kind} '${spec.name}': it may change the key without repartitioning, so one key's records could be ${use.fix}, or mapValues to keep the key`,
  );
}

function checkWindowedOptions(options: WindowedAggregateOptions, name: string): void {
  if (options.emit !== undefined && options.emit !== 'final' && options.emit !== 'updates') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `emit of aggregation '${name}' must be 'final' or 'updates', got '${String(options.emit)}'`,
    );
  }
  if (options.time !== undefined && options.time !== 'partition' && options.time !== 'key') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `time of aggregation '${name}' must be 'partition' or 'key', got '${String(options.time)}'`,
    );
  }
  const idle = options.idleTimeoutMs;
  if (idle !== undefined && (!Number.isSafeInteger(idle) || idle <= 0)) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `idleTimeoutMs of aggregation '${name}' must be a positive whole number of milliseconds, got ${idle}`,
    );
  }
}

/** Adds the aggregate node (checked first, so a rejected call leaves the graph as it was). */
function addAggregate<K, R>(
  grouping: Grouping,
  aggregator: AnyAggregator,
  window: WindowSpec | undefined,
  options: WindowedAggregateOptions,
): Stream<K, R> {
  const { graph, parent, key, streamAt } = grouping;
  const name = graph.nextName('aggregate', options.name ?? options.store);
  checkStoreName(options.store, name);
  const topic = changelogTopic(graph.appId, options.store);
  checkTopicName(topic, `the changelog topic of store '${options.store}'`);
  if (window !== undefined) checkWindowedOptions(options, name);
  if (window !== undefined && isSessionWindow(window) && typeof aggregator.merge !== 'function') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `aggregation '${name}' uses session windows, which merge sessions, so its aggregator needs merge(left, right)`,
    );
  }
  const index = graph.add(
    {
      kind: 'process',
      label: 'aggregate',
      stores: [{ name: options.store, changelogTopic: topic }],
      key,
      aggregator,
      // Kept as given (a TimeWindowKind's windowStarts may live on its prototype); checked above.
      window,
      // Without a window every update is emitted: there is nothing to close.
      emit: window === undefined ? 'updates' : (options.emit ?? 'final'),
      idleTimeoutMs: window === undefined ? undefined : options.idleTimeoutMs,
      time: window === undefined ? undefined : (options.time ?? 'partition'),
    },
    [parent],
    { name, onError: options.onError },
  );
  return streamAt<K, R>(index);
}

export class GroupedStreamNode<K, V> implements GroupedStream<K, V> {
  constructor(private readonly grouping: Grouping) {}

  count(options: AggregateOptions): Stream<K, number> {
    return addAggregate(this.grouping, eraseAggregator(counter()), undefined, options);
  }

  reduce(fn: (left: V, right: V) => V, options: AggregateOptions): Stream<K, V> {
    return addAggregate(this.grouping, eraseAggregator(reducer(fn)), undefined, options);
  }

  aggregate<A, R = A>(aggregator: Aggregator<K, V, A, R>, options: AggregateOptions): Stream<K, R> {
    return addAggregate(this.grouping, eraseAggregator(aggregator), undefined, options);
  }

  windowedBy<W extends WindowSpec>(window: W): WindowedStream<K, V, W> {
    checkWindow(window);
    return new WindowedStreamNode<K, V, W>(this.grouping, window);
  }
}

export class WindowedStreamNode<K, V, W extends WindowSpec> implements WindowedStream<K, V, W> {
  constructor(
    private readonly grouping: Grouping,
    private readonly window: W,
  ) {}

  count(options: WindowedAggregateOptions): Stream<K, Windowed<K, number>> {
    return addAggregate(this.grouping, eraseAggregator(counter()), this.window, options);
  }

  reduce(
    fn: (left: V, right: V) => V,
    options: WindowedAggregateOptions,
  ): Stream<K, Windowed<K, V>> {
    return addAggregate(this.grouping, eraseAggregator(reducer(fn)), this.window, options);
  }

  aggregate<A, R = A>(
    aggregator: Aggregator<K, V, A, R> & MergeRequirement<W, A>,
    options: WindowedAggregateOptions,
  ): Stream<K, Windowed<K, R>> {
    return addAggregate(this.grouping, eraseAggregator(aggregator), this.window, options);
  }
}
