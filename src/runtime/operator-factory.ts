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
  lookupJoinOperator,
  streamJoinOperator,
  tableOperator,
} from '../operators/index.ts';
import type { EncodedRecord } from '../operators/index.ts';
import type { SeenStore, StateStore } from '../state/index.ts';
import type { PlanNode, ProcessNode } from '../topology/plan.ts';

type AnyProcessor = Processor<unknown, unknown, unknown, unknown>;

/**
 * A built-in stateful operator that gets its store from its context at init, as a user's
 * processor does (the one mechanism by which the runtime hands out stores). Once made, the
 * operator's own process and punctuate replace the delegates, so a record costs no extra call.
 */
function withStore<S>(storeName: string, make: (store: S) => AnyProcessor): AnyProcessor {
  const processor: AnyProcessor = {
    init(context) {
      const inner = make(context.getStore<S>(storeName));
      processor.process = inner.process.bind(inner);
      const punctuate = inner.punctuate?.bind(inner);
      if (punctuate === undefined) delete processor.punctuate;
      else processor.punctuate = punctuate;
      const close = inner.close?.bind(inner);
      if (close !== undefined) processor.close = close;
      return inner.init?.(context);
    },
    process() {
      throw new Error(`the operator of store ${storeName} processed a record before init`);
    },
    punctuate() {
      // Until init has made the operator there is nothing to punctuate.
    },
  };
  return processor;
}

/** A stateful node's processor: the user's, or a built-in made from the node's parameters. */
function processFor(node: ProcessNode): AnyProcessor {
  const store = node.stores[0]?.name ?? '';
  switch (node.label) {
    case 'process':
      return node.supplier();
    case 'aggregate':
      return withStore<StateStore<unknown>>(store, (s) => aggregateOperator(node, s));
    case 'dedup':
      return withStore<SeenStore>(store, (s) => dedupOperator(node, s));
    case 'table': {
      const { op } = node;
      if (op.type === 'materialize' || op.type === 'aggregate')
        return withStore<StateStore<unknown>>(store, (s) => tableOperator(op, s));
      return tableOperator(op, undefined);
    }
    case 'join':
      return node.op.type === 'window' ? streamJoinOperator(node.op) : lookupJoinOperator(node.op);
  }
}

/** A fresh processor for one plan node in one task (sources are run by the task itself). */
export function processorFor(
  node: Exclude<PlanNode, { kind: 'source' }>,
  emit: (record: EncodedRecord) => void,
  collect: (record: SinkRecord<unknown, unknown>) => void,
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
      return processFor(node);
    case 'sink':
      return sinkOperator(node.topic, node.key, node.value, emit) as AnyProcessor;
    case 'external':
      return externalSinkOperator(collect) as AnyProcessor;
  }
}
