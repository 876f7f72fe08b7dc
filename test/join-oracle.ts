// Oracles of tables and joins, in plain TS over the generated input (no code under src/): what a
// stream-stream join, a table-table join and a retracting table aggregation must produce. Shared by
// the test-driver tests and the real-broker tests.
import { random } from './random.ts';

/** A record of one side of a stream-stream join, in arrival order. */
export interface SideRecord {
  side: 'left' | 'right';
  key: string;
  t: number;
  id: string;
}

export interface WindowSpec {
  before: number;
  after: number;
  grace: number;
}

export interface StreamJoinOracle {
  /** Every matched pair as `leftId+rightId`, sorted. */
  pairs: string[];
  /** Left records emitted with null (window closed by the final stream time), sorted. */
  leftUnmatched: string[];
  /** Right records emitted with null by an outer join, sorted. */
  rightUnmatched: string[];
  /** Ids of late records (older than stream time minus grace on arrival). */
  late: string[];
}

/**
 * One partition's stream-stream join, record by record: stream time is the largest time seen on
 * either side; a record older than streamTime - grace is late and joins nothing; a left record at t
 * joins right records in [t - before, t + after]. A record that never matched is emitted with null
 * once stream time passes its window's end plus grace: t + after + grace for a left record,
 * t + before + grace for a right one (the bounds are seen from the right record's side).
 */
export function streamJoinOracle(records: SideRecord[], w: WindowSpec): StreamJoinOracle {
  let streamTime = -Infinity;
  const kept: SideRecord[] = [];
  const matched = new Set<string>();
  const pairs: string[] = [];
  const late: string[] = [];
  for (const r of records) {
    if (r.t < streamTime - w.grace) {
      late.push(r.id);
      continue;
    }
    streamTime = Math.max(streamTime, r.t);
    for (const o of kept) {
      if (o.side === r.side || o.key !== r.key) continue;
      const [l, rr] = r.side === 'left' ? [r, o] : [o, r];
      if (rr.t >= l.t - w.before && rr.t <= l.t + w.after) {
        pairs.push(`${l.id}+${rr.id}`);
        matched.add(l.id);
        matched.add(rr.id);
      }
    }
    kept.push(r);
  }
  const closed = (r: SideRecord): boolean =>
    streamTime > r.t + (r.side === 'left' ? w.after : w.before) + w.grace;
  const unmatched = (side: 'left' | 'right'): string[] =>
    kept
      .filter((r) => r.side === side && !matched.has(r.id) && closed(r))
      .map((r) => r.id)
      .sort();
  return {
    pairs: pairs.sort(),
    leftUnmatched: unmatched('left'),
    rightUnmatched: unmatched('right'),
    late,
  };
}

/**
 * Records of both sides over a few keys, times rising with jitter backwards of up to `jitter` ms, so
 * some arrive out of order within grace and some beyond it. Ids are unique: `L3`, `R7`.
 */
export function generateSides(
  seed: number,
  count: number,
  keys: number,
  jitter: number,
): SideRecord[] {
  const next = random(seed);
  const out: SideRecord[] = [];
  let clock = 1_000;
  for (let i = 0; i < count; i++) {
    clock += Math.floor(next() * 8);
    const side = next() < 0.5 ? 'left' : 'right';
    const t = clock - (next() < 0.3 ? Math.floor(next() * jitter) : 0);
    out.push({
      side,
      key: `k${Math.floor(next() * keys)}`,
      t,
      id: `${side === 'left' ? 'L' : 'R'}${i}`,
    });
  }
  return out;
}

/** A change of one of two tables: a value, or null for a delete. */
export interface TableChange {
  table: 'a' | 'b';
  key: string;
  value: number | null;
}

export function generateTableChanges(seed: number, count: number, keys: number): TableChange[] {
  const next = random(seed);
  const out: TableChange[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      table: next() < 0.5 ? 'a' : 'b',
      key: `k${Math.floor(next() * keys)}`,
      value: next() < 0.2 ? null : Math.floor(next() * 100),
    });
  }
  return out;
}

/** The current values of both tables after every change. */
export function tablesAfter(changes: TableChange[]): {
  a: Map<string, number>;
  b: Map<string, number>;
} {
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  for (const c of changes) {
    const m = c.table === 'a' ? a : b;
    if (c.value === null) m.delete(c.key);
    else m.set(c.key, c.value);
  }
  return { a, b };
}

/** The final table-table join results per key (absent keys are not in the map). */
export function tableJoinOracle(
  changes: TableChange[],
  kind: 'inner' | 'left' | 'outer',
  joiner: (a: number | null, b: number | null) => string,
): Map<string, string> {
  const { a, b } = tablesAfter(changes);
  const out = new Map<string, string>();
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const va = a.get(key) ?? null;
    const vb = b.get(key) ?? null;
    if (kind === 'inner' && (va === null || vb === null)) continue;
    if (kind === 'left' && va === null) continue;
    out.set(key, joiner(va, vb));
  }
  return out;
}

/** Table a grouped by group(value): entries and sum per group (0 for a group left empty). */
export function groupOracle(
  changes: TableChange[],
  group: (value: number) => string,
): { count: Map<string, number>; sum: Map<string, number> } {
  const { a } = tablesAfter(changes);
  const count = new Map<string, number>();
  const sum = new Map<string, number>();
  for (const v of a.values()) {
    const g = group(v);
    count.set(g, (count.get(g) ?? 0) + 1);
    sum.set(g, (sum.get(g) ?? 0) + v);
  }
  return { count, sum };
}

/** The last value per key of a topic's records (a compacted view): null drops the key. */
export function lastPerKey<V>(records: { key: string | null; value: V | null }[]): Map<string, V> {
  const out = new Map<string, V>();
  for (const r of records) {
    if (r.key === null) continue;
    if (r.value === null) out.delete(r.key);
    else out.set(r.key, r.value);
  }
  return out;
}
