/**
 * operators: the built-in processors. The runtime makes one per plan node and task.
 *
 * @example
 *   const upper = mapValuesOperator((value) => String(value).toUpperCase());
 *   const hourly = aggregateOperator(planNode, new MemoryStore('hourly-stats', jsonCodec()));
 */
export { aggregateOperator } from './aggregate.ts';
export type { AggregateSpec, ErasedAggregator } from './aggregate-spec.ts';
export {
  branchOperator,
  filterOperator,
  flatMapOperator,
  mapOperator,
  mapValuesOperator,
  passThroughOperator,
  peekOperator,
  selectKeyOperator,
} from './stateless.ts';
export { dedupOperator } from './dedup.ts';
export type { DedupProcessor, DedupSpec, DedupStats } from './dedup.ts';
export { sinkOperator } from './sink.ts';
export type { EncodedRecord } from './sink.ts';
export { isSessionWindow, parseWindowKey, windowKey } from './window.ts';
export type { SessionWindowSpec, TimeWindowKind, WindowSpec } from './window.ts';
export { streamTimeKey } from './partition-clock.ts';
export { isKeyTimeKey, keyTimeKey } from './window-clock.ts';
export { joinValues, lookupJoinOperator, lookupOf, tableOperator } from './tables.ts';
export type { Lookup } from './tables.ts';
export { streamJoinOperator } from './stream-join.ts';
export { externalSinkOperator } from './external-sink.ts';
export { loadModel, predict, type LoadedModel, type Prediction } from './model/index.ts';
