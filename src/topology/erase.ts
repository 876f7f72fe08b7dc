import { TributaryError } from '../core/index.ts';
import type { ProcessorSupplier } from '../core/index.ts';
import type { Serde } from '../serde/index.ts';
import type { Aggregator } from './aggregators.ts';
import type {
  AnyAggregator,
  AnyJoiner,
  AnyKeyValueFn,
  AnySerde,
  TimestampExtractor,
} from './plan.ts';
import type { SourceOptions } from './stream.ts';

// The plan holds erased types: the DSL has checked them, the runtime only calls the functions.
// A typed function is not assignable to its erased form (its parameters are narrower), hence
// the casts through unknown, kept in these helpers and nowhere else.

export const eraseFn = <F extends (...args: never[]) => unknown>(fn: F): AnyKeyValueFn =>
  fn as unknown as AnyKeyValueFn;

export const eraseJoiner = <F extends (...args: never[]) => unknown>(fn: F): AnyJoiner =>
  fn as unknown as AnyJoiner;

export const eraseSerde = <T>(serde: Serde<T>): AnySerde => serde as unknown as AnySerde;

export const eraseSupplier = <KIn, VIn, KOut, VOut>(
  supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
): ProcessorSupplier<unknown, unknown, unknown, unknown> =>
  supplier as unknown as ProcessorSupplier<unknown, unknown, unknown, unknown>;

export const eraseAggregator = <K, V, A, R>(aggregator: Aggregator<K, V, A, R>): AnyAggregator =>
  aggregator as unknown as AnyAggregator;

/**
 * The source's timestamp option as the plan's extractor, called (key, value, recordTimestamp).
 * A field name reads `Number(value[field])`, and a value without a number there is an error of
 * the source (its error policy applies), not a record at time NaN.
 */
export function eraseTimestamp<K, V>(
  option: NonNullable<SourceOptions<K, V>['timestamp']>,
  topic: string,
): TimestampExtractor {
  if (typeof option === 'function') {
    const fn = option as unknown as (
      value: unknown,
      key: unknown,
      recordTimestamp: number,
    ) => number;
    return (key, value, recordTimestamp) => fn(value, key, recordTimestamp);
  }
  const field: string = option;
  return (_key, value) => {
    const raw: unknown =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[field]
        : undefined;
    const time = Number(raw);
    if (raw === null || raw === undefined || !Number.isFinite(time)) {
      throw new TributaryError(
        'OPERATOR_FAILED',
        `the timestamp field '${field}' of a record on topic ${topic} is not a number (${String(raw)})`,
      );
    }
    return time;
  };
}
