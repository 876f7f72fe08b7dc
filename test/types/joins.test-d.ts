// Type tests of tables and joins (decision 0017), compiled by `npm run typecheck`: each line marked
// as an expected error must be one, and every other line must compile. Nothing here runs.
import { joinWindow, json, string, topology } from 'tributary';
import type { GlobalTable, Stream, Table } from 'tributary';

interface Reading {
  v: number;
}
interface Meta {
  offset: number;
}

const t = topology('types-joins');
const readings: Stream<string, Reading> = t.stream('readings', {
  key: string(),
  value: json<Reading>(),
});
const other: Stream<string, Meta> = t.stream('other', { key: string(), value: json<Meta>() });
const meta: Table<string, Meta> = t.table(
  'meta',
  { key: string(), value: json<Meta>() },
  { store: 'meta' },
);
const byNumber: Table<number, Meta> = t.table(
  'by-number',
  { key: json<number>(), value: json<Meta>() },
  { store: 'by-number' },
);
const global: GlobalTable<string, Meta> = t.globalTable(
  'g',
  { key: string(), value: json<Meta>() },
  { store: 'g' },
);
const window = joinWindow(1000, { grace: 100 });

// Stream-table: the joiner sees both value types; the result's value is the joiner's result.
const inner: Stream<string, number> = readings.join(meta, (r, m, k) => {
  const key: string = k;
  void key;
  return r.v + m.offset;
});
void inner;
// leftJoin: the table value is nullable.
readings.leftJoin(meta, (r, m) => r.v + (m?.offset ?? 0));
// @ts-expect-error the table value may be null in a left join
readings.leftJoin(meta, (r, m) => r.v + m.offset);
// @ts-expect-error a table keyed by number cannot join a stream keyed by string
readings.join(byNumber, (r, m) => r.v + m.offset);

// Stream-stream: inner, left (other nullable), outer (both nullable).
readings.join(other, (r, o) => r.v + o.offset, { window, store: 'ss1' });
readings.leftJoin(other, (r, o) => r.v + (o?.offset ?? 0), { window, store: 'ss2' });
// @ts-expect-error the other value may be null in a left join
readings.leftJoin(other, (r, o) => r.v + o.offset, { window, store: 'ss3' });
readings.outerJoin(other, (r, o) => (r?.v ?? 0) + (o?.offset ?? 0), { window, store: 'ss4' });
// @ts-expect-error this side's value may be null in an outer join
readings.outerJoin(other, (r, o) => r.v + (o?.offset ?? 0), { window, store: 'ss5' });
// @ts-expect-error a stream-stream join needs its window and store
readings.join(other, (r, o) => r.v + o.offset, {});

// Table-table.
const tt: Table<string, string> = meta.join(meta, (a, b) => `${a.offset}${b.offset}`);
void tt;
meta.leftJoin(meta, (a, b) => a.offset + (b?.offset ?? 0));
meta.outerJoin(meta, (a, b) => (a?.offset ?? 0) + (b?.offset ?? 0));
// @ts-expect-error the left side may be null in an outer table join
meta.outerJoin(meta, (a, b) => a.offset + (b?.offset ?? 0));
// @ts-expect-error tables of different key types do not join
meta.join(byNumber, (a, b) => a.offset + b.offset);

// toStream passes deletes as null.
const changes: Stream<string, Meta | null> = meta.toStream();
void changes;
// @ts-expect-error a table's changes may be deletes (null)
const notNull: Stream<string, Meta> = meta.toStream();
void notNull;

// Table aggregation: count is a number table; aggregate's type is the initializer's.
const grouped = meta.groupBy((k, v) => [k.slice(0, 1), v.offset] as const, {
  name: 'g',
  key: string(),
  value: json<number>(),
});
const counts: Table<string, number> = grouped.count({ store: 'c' });
void counts;
const sums: Table<string, { n: number }> = grouped.aggregate(
  () => ({ n: 0 }),
  (a, v) => ({ n: a.n + v }),
  (a, v) => ({ n: a.n - v }),
  { store: 's' },
);
void sums;

// Global tables: keyOf picks the table key from the record; leftJoinGlobal's value is nullable.
readings.joinGlobal(
  global,
  (k) => k,
  (r, m) => r.v + m.offset,
);
readings.leftJoinGlobal(
  global,
  (k) => k,
  (r, m) => r.v + (m?.offset ?? 0),
);
readings.joinGlobal(
  global,
  // @ts-expect-error keyOf must return the global table's key type
  (_k, r) => r.v,
  (r: Reading, m: Meta) => r.v + m.offset,
);
// @ts-expect-error a GlobalTable of other types is not assignable
const wrong: GlobalTable<number, Meta> = global;
void wrong;
