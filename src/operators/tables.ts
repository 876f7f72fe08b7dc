import { tableChangeHeader, TributaryError } from '../core/index.ts';
import type {
  JoinOp,
  Processor,
  ProcessorContext,
  TableChange,
  TableOp,
  TableView,
} from '../core/index.ts';
import type { StateStore } from '../state/index.ts';

// Table operators and the joins that look tables up (decision 0017). A table passes changes:
// { newValue, oldValue } of a key, null meaning absent. An operator forwards a change only when
// something is present before or after it, so a key that was never there makes no noise.

type AnyProcessor = Processor<unknown, unknown, unknown, unknown>;
type AnyContext = ProcessorContext<unknown, unknown>;

/** A table's current value of a key, or null. */
export type Lookup = (key: unknown) => unknown;

/** What a lookup reads a global table through (src/runtime/global-view.ts). */
interface GlobalView {
  get(key: Buffer): unknown;
}

const present = (value: unknown): boolean => value !== null && value !== undefined;

/** Encodes a key as a table's store (or the topic it restores from) holds it. */
function keyBytes(serde: TableView & { kind: 'store' | 'global' }, key: unknown): Buffer {
  const bytes = serde.key.serialize(key, serde.topic);
  if (bytes === null) throw new TributaryError('OPERATOR_FAILED', 'a table key must not be null');
  return bytes;
}

/** Joins two values the way a table-table join of that kind does (null: no result). */
export function joinValues(
  join: 'inner' | 'left' | 'outer',
  joiner: (left: unknown, right: unknown, key: unknown) => unknown,
  left: unknown,
  right: unknown,
  key: unknown,
): unknown {
  const l = present(left) ? left : null;
  const r = present(right) ? right : null;
  if (join === 'inner' && (l === null || r === null)) return null;
  if (join === 'left' && l === null) return null;
  if (l === null && r === null) return null;
  return joiner(l, r, key) ?? null;
}

/**
 * The lookup of a table view, over the stores the node's context hands out (the table's store,
 * connected; a global table's view), with the filters, mapValues and joins since applied.
 */
export function lookupOf(view: TableView, context: AnyContext): Lookup {
  switch (view.kind) {
    case 'store': {
      const store = context.getStore<StateStore<unknown>>(view.store);
      return (key) =>
        key === null || key === undefined ? null : (store.get(keyBytes(view, key)) ?? null);
    }
    case 'global': {
      const store = context.getStore<GlobalView>(view.store);
      return (key) =>
        key === null || key === undefined ? null : (store.get(keyBytes(view, key)) ?? null);
    }
    case 'filter': {
      const of = lookupOf(view.of, context);
      return (key) => {
        const value = of(key);
        return present(value) && view.fn(key, value) === true ? value : null;
      };
    }
    case 'mapValues': {
      const of = lookupOf(view.of, context);
      return (key) => {
        const value = of(key);
        return present(value) ? (view.fn(value, key) ?? null) : null;
      };
    }
    case 'join': {
      const left = lookupOf(view.left, context);
      const right = lookupOf(view.right, context);
      return (key) => joinValues(view.join, view.joiner, left(key), right(key), key);
    }
  }
}

const changeOf = (value: unknown): TableChange => value as TableChange;

function forwardChange(
  context: AnyContext,
  record: { key: unknown; timestamp: number; headers: Record<string, Buffer | string | undefined> },
  newValue: unknown,
  oldValue: unknown,
): void {
  if (newValue === null && oldValue === null) return;
  context.forward({ ...record, value: { newValue, oldValue } satisfies TableChange });
}

/** The operator of a table node (`store` for materialize and aggregate, else undefined). */
export function tableOperator(op: TableOp, store: StateStore<unknown> | undefined): AnyProcessor {
  switch (op.type) {
    case 'materialize': {
      const kv = store as StateStore<unknown>;
      return {
        process(record, context) {
          if (record.key === null || record.key === undefined) {
            throw new TributaryError('OPERATOR_FAILED', 'a table record needs a key (got none)');
          }
          const bytes = keyBytes(
            { kind: 'store', store: '', key: op.key, topic: op.topic },
            record.key,
          );
          const oldValue = kv.get(bytes) ?? null;
          const newValue = present(record.value) ? record.value : null;
          if (newValue === null) kv.delete(bytes);
          else kv.put(bytes, newValue);
          forwardChange(context, record, newValue, oldValue);
        },
      };
    }
    case 'filter':
      return {
        process(record, context) {
          const { newValue, oldValue } = changeOf(record.value);
          const keep = (v: unknown): unknown =>
            present(v) && op.fn(record.key, v) === true ? v : null;
          forwardChange(context, record, keep(newValue), keep(oldValue));
        },
      };
    case 'mapValues':
      return {
        process(record, context) {
          const { newValue, oldValue } = changeOf(record.value);
          const map = (v: unknown): unknown => (present(v) ? (op.fn(v, record.key) ?? null) : null);
          forwardChange(context, record, map(newValue), map(oldValue));
        },
      };
    case 'toStream':
      return {
        process(record, context) {
          context.forward({ ...record, value: changeOf(record.value).newValue ?? null });
        },
      };
    case 'groupBy':
      // The old value leaves its old group first, then the new value joins its new group: two
      // records through the repartition topic, marked by a header (one partition each, in order).
      return {
        process(record, context) {
          const { newValue, oldValue } = changeOf(record.value);
          const send = (v: unknown, how: 'add' | 'subtract'): void => {
            const [key, value] = op.fn(record.key, v) as readonly [unknown, unknown];
            context.forward({
              key,
              value,
              timestamp: record.timestamp,
              headers: { ...record.headers, [tableChangeHeader]: how },
            });
          };
          if (present(oldValue)) send(oldValue, 'subtract');
          if (present(newValue)) send(newValue, 'add');
        },
      };
    case 'aggregate': {
      const kv = store as StateStore<unknown>;
      return {
        process(record, context) {
          const raw = record.headers[tableChangeHeader];
          const how = raw === undefined ? undefined : raw.toString();
          if (how !== 'add' && how !== 'subtract') {
            throw new TributaryError(
              'OPERATOR_FAILED',
              `a table aggregation's input record lacks its ${tableChangeHeader} header (add or subtract)`,
            );
          }
          const bytes = keyBytes(
            { kind: 'store', store: '', key: op.key, topic: op.topic },
            record.key,
          );
          const stored = kv.get(bytes);
          const oldValue = stored ?? null;
          let next: unknown;
          if (how === 'add') {
            next =
              stored === undefined
                ? op.init === undefined
                  ? record.value
                  : op.add(op.init(), record.value, record.key)
                : op.add(stored, record.value, record.key);
          } else {
            // A subtract without an aggregate cannot happen in a consistent history; a reduce
            // has nothing to subtract from, so it stays absent.
            if (stored === undefined) return;
            next = op.subtract(stored, record.value, record.key);
          }
          if (present(next)) kv.put(bytes, next);
          else kv.delete(bytes);
          forwardChange(context, record, present(next) ? next : null, oldValue);
        },
      };
    }
  }
}

/** The operator of a join node that looks a table up: stream-table, global, table-table. */
export function lookupJoinOperator(op: Exclude<JoinOp, { type: 'window' }>): AnyProcessor {
  let lookup: Lookup = () => null;
  if (op.type === 'lookup') {
    const { keyOf, joiner } = op;
    return {
      init(context) {
        lookup = lookupOf(op.view, context);
      },
      process(record, context) {
        // As Kafka Streams: a record without a key or value joins nothing.
        if (!present(record.key) || !present(record.value)) {
          if (op.join === 'inner') return;
        }
        const tableKey = keyOf === undefined ? record.key : keyOf(record.key, record.value);
        const tableValue = present(tableKey) ? lookup(tableKey) : null;
        if (tableValue === null && op.join === 'inner') return;
        context.forward({ ...record, value: joiner(record.value, tableValue, record.key) });
      },
    };
  }
  const { join, joiner, side } = op;
  const pair = (mine: unknown, other: unknown, key: unknown): unknown =>
    side === 'this'
      ? joinValues(join, joiner, mine, other, key)
      : joinValues(join, joiner, other, mine, key);
  return {
    init(context) {
      lookup = lookupOf(op.other, context);
    },
    process(record, context) {
      const { newValue, oldValue } = changeOf(record.value);
      const other = lookup(record.key);
      forwardChange(
        context,
        record,
        pair(newValue, other, record.key),
        pair(oldValue, other, record.key),
      );
    },
  };
}
