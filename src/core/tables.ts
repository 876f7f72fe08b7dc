// Tables and joins as the plan describes them and the operators run them (decision 0017): core
// types, because the DSL makes them and the operators run them, and neither layer may import the
// other.
import type { StoreSerde } from './store.ts';

/** A key serde, erased. */
type KeySerde = StoreSerde<unknown>;
/** A two-argument function of the DSL, erased (its argument order is given where it is used). */
type TwoArgFn = (a: unknown, b: unknown) => unknown;

/**
 * What passes between table operators: a key's value before and after a change (null: absent).
 * toStream() turns it into the new value.
 */
export interface TableChange {
  readonly newValue: unknown;
  readonly oldValue: unknown;
}

/** The header a table's groupBy marks its repartitioned records with: `add` or `subtract`. */
export const tableChangeHeader = 'tributary-table-change';

/** `(left, right, key)`: a joiner, erased. */
export type AnyJoiner = (left: unknown, right: unknown, key: unknown) => unknown;
/** `(aggregate, value, key)`: a table aggregation's adder or subtractor, erased. */
export type AnyTableAdder = (aggregate: unknown, value: unknown, key: unknown) => unknown;

/**
 * How a join looks up a table's current value of a key without materializing every table in
 * between: from the store of the table it derives from (a topic's table, toTable, an
 * aggregation) or a global table, through the filters, mapValues and joins applied since.
 */
export type TableView =
  | { kind: 'store'; store: string; key: KeySerde; topic: string }
  | { kind: 'global'; store: string; key: KeySerde; topic: string }
  | { kind: 'filter'; of: TableView; fn: TwoArgFn }
  | { kind: 'mapValues'; of: TableView; fn: TwoArgFn }
  | {
      kind: 'join';
      join: 'inner' | 'left' | 'outer';
      left: TableView;
      right: TableView;
      joiner: AnyJoiner;
    };

/** The operations of table nodes (label `table`). */
export type TableOp =
  /** Keeps the latest value per key in stores[0] (key encoded as for `topic`); a null deletes. */
  | { type: 'materialize'; key: KeySerde; topic: string }
  /** fn(key, value): entries for which it fails are absent downstream. */
  | { type: 'filter'; fn: TwoArgFn }
  /** fn(value, key) */
  | { type: 'mapValues'; fn: TwoArgFn }
  | { type: 'toStream' }
  /** fn(key, value) returns [newKey, newValue]; old value out (subtract), new value in (add). */
  | { type: 'groupBy'; fn: TwoArgFn }
  /** Aggregates the records of a groupBy in stores[0]; `init` undefined: a reduce. */
  | {
      type: 'aggregate';
      key: KeySerde;
      topic: string;
      init: (() => unknown) | undefined;
      add: AnyTableAdder;
      subtract: AnyTableAdder;
    };

/** The operations of join nodes (label `join`). */
export type JoinOp =
  /** Stream-table or stream-global-table: looks up `view` (by keyOf(key, value) if given). */
  | {
      type: 'lookup';
      join: 'inner' | 'left';
      view: TableView;
      keyOf: TwoArgFn | undefined;
      joiner: AnyJoiner;
    }
  /** One side of a table-table join: a change of this side, joined with `other` as it is now. */
  | {
      type: 'table';
      join: 'inner' | 'left' | 'outer';
      side: 'this' | 'other';
      other: TableView;
      joiner: AnyJoiner;
    }
  /**
   * One side of a stream-stream join: keeps this side's records in `stores.this` and looks the
   * other's up in `stores.other` (its own store, and the other side's: connected).
   */
  | {
      type: 'window';
      join: 'inner' | 'left' | 'outer';
      side: 'this' | 'other';
      window: { beforeMs: number; afterMs: number; graceMs: number };
      joiner: AnyJoiner;
      /** Encodes keys into store keys: the same serde on both sides. */
      key: KeySerde;
      topic: string;
      stores: { this: string; other: string };
    };
