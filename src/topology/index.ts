/**
 * topology: the typed DSL, the graph of named operators it builds, the compiled plan the runtime
 * runs, and describe() (text and Mermaid).
 *
 * @example
 *   const t = topology('weather');
 *   t.stream('readings', { key: string(), value: json<Reading>() })
 *     .filter((key, reading) => reading.ok, { name: 'only-ok' })
 *     .mapValues((reading) => reading.celsius)
 *     .to('celsius', { key: string(), value: json<number>() });
 *   const built = t.build(); // built.plan is what the runtime runs
 *   console.log(built.describe().text);
 */
export { defaultErrorPolicy } from './plan.ts';
export type {
  AnyKeyValueFn,
  AnyRecord,
  AnySerde,
  ErrorPolicy,
  InternalTopic,
  Plan,
  PlanNode,
  PlanNodeKind,
  SubTopology,
} from './plan.ts';
export type {
  BranchPredicate,
  BranchStreams,
  KeyByOptions,
  OperatorOptions,
  Stream,
} from './stream.ts';
export { topology } from './topology.ts';
export type { Topology, TopologyBuilder } from './topology.ts';
