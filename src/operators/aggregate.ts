import type { Processor } from '../core/index.ts';
import type { StateStore } from '../state/index.ts';
import { encodeKey, resultOf } from './aggregate-spec.ts';
import type { AggregateSpec } from './aggregate-spec.ts';
import { windowAggregate } from './window-aggregate.ts';

/**
 * The aggregate operator: groups records by key (per key and window when the spec has one)
 * and folds their values into aggregates held in `store`.
 *
 * Without a window the store maps the encoded key to the aggregate, and each record forwards
 * `{ key, value: result(aggregate), timestamp: record.timestamp, headers: {} }`. With a window,
 * see window-aggregate.ts. A store must belong to one operator instance (one per task).
 */
export function aggregateOperator(
  spec: AggregateSpec,
  store: StateStore<unknown>,
): Processor<unknown, unknown, unknown, unknown> {
  if (spec.window !== undefined) return windowAggregate(spec, spec.window, store);
  const { aggregator } = spec;
  return {
    process(record, context) {
      const key = encodeKey(spec, record.key, store.name);
      const current = store.get(key);
      const aggregate = aggregator.add(
        current === undefined ? aggregator.init() : current,
        record.value,
        record.key,
      );
      store.put(key, aggregate);
      context.forward({
        key: record.key,
        value: resultOf(aggregator, aggregate),
        timestamp: record.timestamp,
        headers: {},
      });
    },
  };
}
