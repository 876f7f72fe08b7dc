/**
 * operators: the built-in processors. The runtime makes one per plan node and task.
 *
 * @example
 *   const upper = mapValuesOperator((value) => String(value).toUpperCase());
 */
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
export { sinkOperator } from './sink.ts';
export type { EncodedRecord } from './sink.ts';
