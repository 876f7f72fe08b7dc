// The demos' verification, the pure part: what a pipeline wrote (rows of an aggregate table,
// records of a dead-letter topic) against what its input implies (an oracle), as lists of what
// is missing, extra or wrong. No I/O here, so a unit test can feed it made-up rows.

/** One aggregate row as the verification compares it: key, window start, count, other columns. */
export interface WindowRow {
  key: string;
  windowStart: number;
  count: number;
  /** Further columns, compared with a relative tolerance of 1e-9 (sums may add in any order). */
  values: Record<string, number | null>;
}

export interface RowMismatch {
  id: string;
  column: string;
  expected: number | null;
  written: number | null;
}

export interface TableComparison {
  table: string;
  expected: number;
  written: number;
  /** Rows present with the expected count and values. */
  equal: number;
  /** Ids of expected rows that were not written. */
  missing: string[];
  /** Ids of written rows the input does not imply. */
  extra: string[];
  wrongCount: RowMismatch[];
  wrongValues: RowMismatch[];
}

/** `key@2026-11-20T00:00:00.000Z`: how the report names a row. */
export function rowId(key: string, windowStart: number): string {
  return `${key}@${new Date(windowStart).toISOString()}`;
}

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
}

export function compareRows(
  table: string,
  expected: Iterable<WindowRow>,
  written: Iterable<WindowRow>,
): TableComparison {
  const want = new Map<string, WindowRow>();
  for (const row of expected) want.set(rowId(row.key, row.windowStart), row);
  const result: TableComparison = {
    table,
    expected: want.size,
    written: 0,
    equal: 0,
    missing: [],
    extra: [],
    wrongCount: [],
    wrongValues: [],
  };
  const seen = new Set<string>();
  for (const row of written) {
    const id = rowId(row.key, row.windowStart);
    result.written++;
    seen.add(id);
    const w = want.get(id);
    if (w === undefined) {
      result.extra.push(id);
      continue;
    }
    let equal = true;
    if (row.count !== w.count) {
      result.wrongCount.push({ id, column: 'count', expected: w.count, written: row.count });
      equal = false;
    }
    for (const [column, value] of Object.entries(w.values)) {
      const got = row.values[column] ?? null;
      if (close(value, got)) continue;
      result.wrongValues.push({ id, column, expected: value, written: got });
      equal = false;
    }
    if (equal) result.equal++;
  }
  for (const id of want.keys()) if (!seen.has(id)) result.missing.push(id);
  return result;
}

/**
 * A dead letter the input implies (or any record another side topic must hold, such as a
 * flagged reading: the comparison only pairs records by identity and code).
 */
export interface ExpectedDeadLetter {
  /** What identifies the record: its source partition and offset, or its key and payload. */
  match: string;
  /** The error code; one ending in `*` is a prefix (`SERDE_*`: whichever decoding error). */
  code: string;
  /** Why it is expected, as the report says it: `malformed on purpose`. */
  cause: string;
}

/** A dead letter read back: the same identity, and its error code, reason and operator headers. */
export interface SeenDeadLetter {
  match: string;
  code: string;
  reason: string;
  operator: string;
}

export interface DeadLetterComparison {
  topic: string;
  read: number;
  /** `code (reason)` -> dead letters read. */
  byCodeReason: Map<string, number>;
  /** cause -> expected and found. */
  byCause: Map<string, { expected: number; found: number }>;
  /** Read, but no expected dead letter matches them. */
  unexpected: SeenDeadLetter[];
  /** Expected, but not read. */
  missing: ExpectedDeadLetter[];
}

function codeMatches(pattern: string, code: string): boolean {
  return pattern.endsWith('*') ? code.startsWith(pattern.slice(0, -1)) : code === pattern;
}

/** Pairs each dead letter read with one expected for the same record and a matching code. */
export function compareDeadLetters(
  topic: string,
  expected: Iterable<ExpectedDeadLetter>,
  seen: Iterable<SeenDeadLetter>,
): DeadLetterComparison {
  const open = new Map<string, ExpectedDeadLetter[]>();
  const byCause = new Map<string, { expected: number; found: number }>();
  for (const e of expected) {
    const list = open.get(e.match) ?? [];
    list.push(e);
    open.set(e.match, list);
    const c = byCause.get(e.cause) ?? { expected: 0, found: 0 };
    c.expected++;
    byCause.set(e.cause, c);
  }
  const result: DeadLetterComparison = {
    topic,
    read: 0,
    byCodeReason: new Map(),
    byCause,
    unexpected: [],
    missing: [],
  };
  for (const letter of seen) {
    result.read++;
    const label = `${letter.code} (${letter.reason})`;
    result.byCodeReason.set(label, (result.byCodeReason.get(label) ?? 0) + 1);
    const candidates = open.get(letter.match) ?? [];
    const i = candidates.findIndex((e) => codeMatches(e.code, letter.code));
    const found = candidates[i];
    if (found === undefined) {
      result.unexpected.push(letter);
      continue;
    }
    candidates.splice(i, 1);
    const c = byCause.get(found.cause);
    if (c !== undefined) c.found++;
  }
  for (const list of open.values()) result.missing.push(...list);
  return result;
}

/** A count that must match: records published against records the simulator or source reported. */
export interface CountCheck {
  what: string;
  expected: number;
  actual: number;
}

const sample = (ids: string[], n = 5): string =>
  ids.slice(0, n).join(', ') + (ids.length > n ? `, ... (${ids.length - n} more)` : '');

/** Everything that is wrong, one line each, naming what is missing; empty when all is well. */
export function problems(
  tables: TableComparison[],
  deadLetters: DeadLetterComparison[],
  counts: CountCheck[] = [],
): string[] {
  const out: string[] = [];
  for (const c of counts)
    if (c.actual !== c.expected) out.push(`${c.what}: ${c.actual}, expected ${c.expected}`);
  for (const t of tables) {
    if (t.missing.length > 0)
      out.push(
        `${t.table}: ${t.missing.length} of ${t.expected} expected rows missing: ${sample(t.missing)}`,
      );
    if (t.extra.length > 0)
      out.push(`${t.table}: ${t.extra.length} rows the input does not imply: ${sample(t.extra)}`);
    if (t.wrongCount.length > 0)
      out.push(
        `${t.table}: ${t.wrongCount.length} rows with a wrong count: ${sample(t.wrongCount.map((m) => `${m.id} count ${m.written}, expected ${m.expected}`))}`,
      );
    if (t.wrongValues.length > 0)
      out.push(
        `${t.table}: ${t.wrongValues.length} wrong values: ${sample(t.wrongValues.map((m) => `${m.id} ${m.column} ${m.written}, expected ${m.expected}`))}`,
      );
  }
  for (const d of deadLetters) {
    if (d.unexpected.length > 0)
      out.push(
        `${d.topic}: ${d.unexpected.length} records that nothing published on purpose explains: ${sample(d.unexpected.map((u) => `${u.code} (${u.reason}) from ${u.operator || '?'} for ${u.match}`))}`,
      );
    if (d.missing.length > 0)
      out.push(
        `${d.topic}: ${d.missing.length} expected dead letters missing: ${sample(d.missing.map((m) => `${m.code} for ${m.match} (${m.cause})`))}`,
      );
  }
  return out;
}
