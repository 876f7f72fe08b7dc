// The demos' verification as text: expected vs written per table, dead letters by code and
// reason next to what the input implies, and the verdict.
import type { CountCheck, DeadLetterComparison, TableComparison } from './compare.ts';

function table(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function tableLines(tables: TableComparison[]): string[] {
  return table([
    ['table', 'expected', 'written', 'equal', 'missing', 'extra', 'wrong count', 'wrong values'],
    ...tables.map((t) => [
      t.table,
      String(t.expected),
      String(t.written),
      String(t.equal),
      String(t.missing.length),
      String(t.extra.length),
      String(t.wrongCount.length),
      String(new Set(t.wrongValues.map((m) => m.id)).size),
    ]),
  ]);
}

export function deadLetterLines(d: DeadLetterComparison): string[] {
  const lines = [`${d.topic}: ${d.read} read`];
  const codes = [...d.byCodeReason].sort(([a], [b]) => a.localeCompare(b));
  lines.push(...table(codes.map(([label, n]) => [`  ${label}`, String(n)])));
  for (const [cause, c] of d.byCause)
    lines.push(`  expected, ${cause}: ${c.expected}, found ${c.found}`);
  lines.push(`  unexpected: ${d.unexpected.length}`);
  return lines;
}

export function countLines(counts: CountCheck[]): string[] {
  return table(
    counts.map((c) => [
      `  ${c.what}`,
      String(c.actual),
      c.actual === c.expected ? 'ok' : `expected ${c.expected}`,
    ]),
  );
}
