import type { Processor, SinkRecord } from '../core/index.ts';
import {
  aggregateOperator,
  branchOperator,
  dedupOperator,
  externalSinkOperator,
  filterOperator,
  flatMapOperator,
  mapOperator,
  mapValuesOperator,
  passThroughOperator,
  peekOperator,
  selectKeyOperator,
  sinkOperator,
} from '../operators/index.ts';
import type { EncodedRecord } from '../operators/index.ts';
import type { SeenStore, StateStore } from '../state/index.ts';
import type { PlanNode } from '../topology/plan.ts';

type AnyProcessor = Processor<unknown, unknown, unknown, unknown>;

/** A fresh processor for one plan node in one task (sources are run by the task itself). */
export function processorFor(
  node: Exclude<PlanNode, { kind: 'source' }>,
  emit: (record: EncodedRecord) => void,
  store: (name: string) => StateStore<unknown>,
  collect: (record: SinkRecord<unknown, unknown>) => void,
  seenStore: (name: string) => SeenStore = (name) => {
    throw new Error(`no seen store ${name}`);
  },
): AnyProcessor {
  switch (node.kind) {
    case 'map':
      return mapOperator(node.fn as (k: unknown, v: unknown) => readonly [unknown, unknown]);
    case 'mapValues':
      return mapValuesOperator(node.fn);
    case 'filter':
      return filterOperator(node.fn);
    case 'flatMap':
      return flatMapOperator(
        node.fn as (k: unknown, v: unknown) => Iterable<readonly [unknown, unknown]>,
      );
    case 'peek':
      return peekOperator(node.fn);
    case 'branch':
      return branchOperator(node.predicates, node.children);
    case 'merge':
      return passThroughOperator();
    case 'selectKey':
      return selectKeyOperator(node.fn);
    case 'process':
      return node.supplier();
    case 'aggregate':
      return aggregateOperator(node, store(node.store.name));
    case 'dedup':
      return dedupOperator(node, seenStore(node.store.name));
    case 'sink':
      return sinkOperator(node.topic, node.key, node.value, emit) as AnyProcessor;
    case 'external':
      return externalSinkOperator(collect) as AnyProcessor;
  }
}
