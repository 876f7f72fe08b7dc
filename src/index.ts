/**
 * `tributary`: the package's main entry, and its deliberate public API (docs/api.md). What a
 * topology is written with: the DSL, windows and aggregators, serdes, the Processor API, records,
 * time, errors; and what runs one in a program (runWorker). The layers' own indexes (src/<layer>/index.ts)
 * list everything each layer offers the others; only what is named here is public.
 *
 * @example
 *   import { json, string, topology } from 'tributary';
 *
 *   const t = topology('greenhouse');
 *   t.stream('readings', { key: string(), value: json<{ celsius: number }>() })
 *     .filter((_sensor, r) => r.celsius > -60, { name: 'plausible' })
 *     .to('plausible-readings', { key: string(), value: json<{ celsius: number }>() });
 *   export default t.build(); // `tributary run topology.ts`
 */

// 1. The topology DSL: builder, streams, windows, aggregators, describe.
export { topology } from './topology/index.ts';
export type { Topology, TopologyBuilder } from './topology/index.ts';
export type {
  AggregateOptions,
  BranchPredicate,
  BranchStreams,
  DedupOptions,
  GroupByKeyOptions,
  GroupedStream,
  KeyByOptions,
  MergeRequirement,
  NumberField,
  OperatorOptions,
  SourceOptions,
  Stream,
  Windowed,
  WindowedAggregateOptions,
  WindowedStream,
} from './topology/index.ts';
export type { ErrorPolicy, TimestampExtractor } from './topology/index.ts';
export {
  days,
  hopping,
  hours,
  minutes,
  seconds,
  session,
  sliding,
  tumbling,
} from './topology/index.ts';
export type {
  HoppingWindow,
  SessionWindow,
  SlidingWindow,
  SlidingWindowOptions,
  TimeWindowKind,
  TumblingWindow,
  WindowOptions,
} from './topology/index.ts';
export { counter, max, mean, min, sum, summary } from './topology/index.ts';
export type {
  Aggregator,
  MeanAggregate,
  MergingAggregator,
  Summary,
  SummaryAggregate,
} from './topology/index.ts';
export type { NodeDescription, PlanDescription } from './topology/index.ts';
// Tables and joins (decision 0017).
export { joinWindow } from './topology/index.ts';
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
} from './topology/index.ts';

// 2. Serdes: how keys and values become bytes; Avro through a schema registry.
export { bytes, json, nullable, string } from './serde/index.ts';
export type { JsonOptions, Serde, SerdeType, Serdes } from './serde/index.ts';
export { avro, schemaRegistry } from './serde/index.ts';
export type {
  AvroOptions,
  AvroSchemaJson,
  AvroSchemaSource,
  Compatibility,
  SchemaRegistryClient,
  SchemaRegistryClientOptions,
  SchemaRegistrySettings,
  SubjectStrategy,
  WriterSchema,
} from './serde/index.ts';

// 3. Core types: records, the Processor API, external sinks, time, logging, errors.
export type { Headers, SourcePosition, StreamRecord } from './core/index.ts';
export type { Processor, ProcessorContext, ProcessorSupplier } from './core/index.ts';
// The Processor API's stores (declared with keyValueStore/windowStore, got from the context) and
// timers (event time and wall time, persisted in the operator's timer store).
export { keyValueStore, windowStore } from './topology/index.ts';
export type { DeclaredStore, ProcessOptions } from './topology/index.ts';
export type {
  KeyValue,
  KeyValueStore,
  KeyValueStoreDefinition,
  StoreDefinition,
  StoreKind,
  StoreSerde,
  Timer,
  TimerKind,
  Timers,
  WindowedEntry,
  WindowStore,
  WindowStoreDefinition,
} from './core/index.ts';
export type { ExternalSink, SinkRecord } from './core/index.ts';
export { systemClock } from './core/index.ts';
export type { Clock } from './core/index.ts';
export type { Logger } from './core/index.ts';
export { errorCodes, TributaryError } from './core/index.ts';
export type { ErrorCode, ErrorDomain } from './core/index.ts';

// 4. Running: what a topology file's function receives, and a worker embedded in a program.
export type { Settings, TopologyContext } from './app/index.ts';
export { runWorker, startWorker } from './app/index.ts';
export type { Worker, WorkerOptions } from './app/index.ts';
export type { Guarantee } from './runtime/index.ts';
