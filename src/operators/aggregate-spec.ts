import { TributaryError } from '../core/index.ts';
import type { Serde } from '../serde/index.ts';
import type { WindowSpec } from './window.ts';

/** Whose event time a windowed aggregation follows (see window-clock.ts). */
export type EventTimeDomain = 'partition' | 'key';

/** An aggregator over erased types (the DSL checked them): see the topology's Aggregator. */
export interface ErasedAggregator {
  init(): unknown;
  add(aggregate: unknown, value: unknown, key: unknown): unknown;
  merge?(left: unknown, right: unknown): unknown;
  result?(aggregate: unknown): unknown;
}

/**
 * What the aggregate operator needs of its plan node. Operators do not import the topology, so
 * this mirrors the fields of the plan's `aggregate` node, which is assignable to it.
 */
export interface AggregateSpec {
  /** The operator's name, for error messages. */
  readonly name: string;
  /** Encodes the grouping key into store keys (and decodes it after a restart). */
  readonly key: Serde<unknown>;
  readonly aggregator: ErasedAggregator;
  /** Undefined: one aggregate per key, emitted after every update, never closed. */
  readonly window: WindowSpec | undefined;
  readonly emit: 'final' | 'updates';
  /** Wall-clock ms without records after which stream (or key) time follows the wall clock. */
  readonly idleTimeoutMs: number | undefined;
  /**
   * Whose event time closes windows and judges lateness: the partition's stream time (Kafka
   * Streams) or each key's own. Undefined without a window.
   */
  readonly time: EventTimeDomain | undefined;
}

/** The grouping key as store key bytes; a null key cannot be grouped. */
export function encodeKey(spec: AggregateSpec, key: unknown, store: string): Buffer {
  const bytes = spec.key.serialize(key, store);
  if (bytes === null) {
    throw new TributaryError(
      'SERDE_NULL',
      `aggregation '${spec.name}' got a record whose key encodes to null; records are grouped by key, so give them one (map or groupBy)`,
    );
  }
  return bytes;
}

/** What is emitted for an aggregate. */
export function resultOf(aggregator: ErasedAggregator, aggregate: unknown): unknown {
  return aggregator.result === undefined ? aggregate : aggregator.result(aggregate);
}
