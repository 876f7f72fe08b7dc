/**
 * topology: the typed DSL, the graph of named operators it builds, the compiled plan the runtime
 * runs, and describe() (text and Mermaid).
 *
 * @example
 *   const t = topology('weather');
 *   const readings = t.stream('readings', { key: string(), value: json<Reading>() }, {
 *     timestamp: 'time',
 *   });
 *   readings
 *     .filter((key, reading) => reading.ok, { name: 'only-ok' })
 *     .mapValues((reading) => reading.celsius)
 *     .to('celsius', { key: string(), value: json<number>() });
 *   readings
 *     .groupByKey()
 *     .windowedBy(tumbling(hours(1), { grace: minutes(5) }))
 *     .aggregate(summary((reading) => reading.celsius), { store: 'hourly-stats' })
 *     .to('hourly', { key: string(), value: json<Windowed<string, Summary>>() });
 *   const built = t.build(); // built.plan is what the runtime runs
 *   console.log(built.describe().text);
 */
export { counter, max, mean, min, sum, summary } from './aggregators.ts';
export type {
  Aggregator,
  MeanAggregate,
  MergingAggregator,
  Summary,
  SummaryAggregate,
} from './aggregators.ts';
export { defaultErrorPolicy } from './plan.ts';
export type {
  AggregateNode,
  AnyAggregator,
  AnyKeyValueFn,
  AnyRecord,
  AnySerde,
  ErrorPolicy,
  InternalTopic,
  Plan,
  PlanNode,
  DedupNode,
  PlanNodeKind,
  ProcessNode,
  StoreSpec,
  SubTopology,
  SessionWindowSpec,
  TimeWindowKind,
  TimestampExtractor,
  WindowSpec,
} from './plan.ts';
export type {
  AggregateOptions,
  BranchPredicate,
  BranchStreams,
  DeclaredStore,
  DedupOptions,
  GroupByKeyOptions,
  GroupedStream,
  KeyByOptions,
  MergeRequirement,
  NumberField,
  OperatorOptions,
  ProcessOptions,
  SourceOptions,
  Stream,
  Windowed,
  WindowedAggregateOptions,
  WindowedStream,
} from './stream.ts';
export { describeJson } from './describe-json.ts';
export type { NodeDescription, PlanDescription } from './describe-json.ts';
export { withAppId } from './rename.ts';
export { keyValueStore, windowStore } from './stores.ts';
export { joinWindow } from './join-window.ts';
export type {
  GlobalTable,
  GlobalTableOptions,
  GroupedTable,
  JoinWindow,
  StreamJoinOptions,
  StreamTableJoinOptions,
  Table,
  TableAggregateOptions,
  TableGroupByOptions,
  TableJoinOptions,
  TableOptions,
  ToTableOptions,
} from './stream.ts';
export { topology } from './topology.ts';
export type { Topology, TopologyBuilder } from './topology.ts';
export { days, hopping, hours, minutes, seconds, session, sliding, tumbling } from './windows.ts';
export type {
  HoppingWindow,
  SessionWindow,
  SlidingWindow,
  SlidingWindowOptions,
  TumblingWindow,
  WindowOptions,
} from './windows.ts';
