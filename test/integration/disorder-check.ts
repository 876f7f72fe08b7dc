// Compares what a disorder run wrote with its oracle: the windows on the output topic and the
// late readings on the dead-letter topic. Each check lists the first differences it finds, so
// a failure says which windows or readings are wrong, not only that two big maps differ.
import assert from 'node:assert/strict';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import type { Summary, Windowed } from '../../src/topology/index.ts';
import { windowId } from './disorder-oracle.ts';
import type { DisorderOracle, Position } from './disorder-oracle.ts';
import type { Reading } from './disorder-scenarios.ts';
import type { ReadRecord } from './topics.ts';

const sample = (list: string[]): string =>
  `${list.length}${list.length > 0 ? ` (${list.slice(0, 5).join('; ')}${list.length > 5 ? '; ...' : ''})` : ''}`;

/** What the output topic holds, by window, and how often each window was emitted. */
export function outputWindows(records: ReadRecord[]): {
  windows: Map<string, Summary>;
  emitted: Map<string, number>;
} {
  const windows = new Map<string, Summary>();
  const emitted = new Map<string, number>();
  for (const r of records) {
    const w = JSON.parse(r.value?.toString() ?? 'null') as Windowed<string, Summary>;
    const id = windowId(w.key, w.start);
    assert.equal(r.key, w.key, `window ${id} is keyed by its device`);
    windows.set(id, w.value);
    emitted.set(id, (emitted.get(id) ?? 0) + 1);
  }
  return { windows, emitted };
}

/** Every window of the oracle, each emitted once, with its values, and no other window. */
export function assertWindows(records: ReadRecord[], expected: DisorderOracle, what: string): void {
  const { windows, emitted } = outputWindows(records);
  const missing = [...expected.windows.keys()].filter((id) => !windows.has(id));
  const extra = [...windows.keys()].filter((id) => !expected.windows.has(id));
  const twice = [...emitted].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
  const wrong = [...expected.windows]
    .filter(([id, want]) => windows.has(id) && !sameSummary(windows.get(id), want))
    .map(([id, want]) => `${id}: ${JSON.stringify(windows.get(id))} != ${JSON.stringify(want)}`);
  assert.ok(
    missing.length + extra.length + twice.length + wrong.length === 0,
    `${what}: ${records.length} results for ${expected.windows.size} expected windows; missing ${sample(missing)}; unexpected ${sample(extra)}; emitted more than once ${sample(twice)}; wrong values ${sample(wrong)}`,
  );
}

function sameSummary(got: Summary | undefined, want: Summary): boolean {
  if (got === undefined) return false;
  // Sums of whole numbers are exact; the mean is the same division on both sides.
  return (
    got.count === want.count &&
    got.sum === want.sum &&
    got.min === want.min &&
    got.max === want.max &&
    got.mean === want.mean
  );
}

/**
 * The dead-letter topic holds exactly the oracle's late readings, each once, as LATE_RECORD,
 * matched by the source partition and offset in its headers, with the reading unchanged.
 */
export function assertDeadLetters(
  records: ReadRecord[],
  expected: DisorderOracle,
  input: string,
  what: string,
): void {
  const found = new Map<Position, number>();
  const problems: string[] = [];
  for (const d of records) {
    const h = d.headers;
    const position: Position = `${Number(h[deadLetterHeaders.partition])}/${Number(h[deadLetterHeaders.offset])}`;
    found.set(position, (found.get(position) ?? 0) + 1);
    if (h[deadLetterHeaders.code] !== 'LATE_RECORD' || h[deadLetterHeaders.reason] !== 'late')
      problems.push(`${position}: ${h[deadLetterHeaders.code]} ${h[deadLetterHeaders.message]}`);
    if (h[deadLetterHeaders.topic] !== input)
      problems.push(`${position}: from topic ${h[deadLetterHeaders.topic]}`);
    const want: Reading | undefined = expected.positions.get(position);
    const got = JSON.parse(d.value?.toString() ?? 'null') as Reading;
    if (want === undefined || d.key !== want.device || JSON.stringify(got) !== JSON.stringify(want))
      problems.push(
        `${position}: ${d.key} ${JSON.stringify(got)} is not the reading published there`,
      );
  }
  const missing = [...expected.late]
    .filter(([position]) => !found.has(position))
    .map(([position, r]) => `${position} ${r.device}@${new Date(r.time).toISOString()}`);
  const extra = [...found.keys()]
    .filter((position) => !expected.late.has(position))
    .map((position) => {
      const r = expected.positions.get(position);
      return `${position} ${r?.device}@${r === undefined ? '?' : new Date(r.time).toISOString()}`;
    });
  const twice = [...found].filter(([, n]) => n > 1).map(([p, n]) => `${p} x${n}`);
  assert.ok(
    problems.length + missing.length + extra.length + twice.length === 0,
    `${what}: ${records.length} dead letters for ${expected.late.size} late readings; not late but dead-lettered ${sample(extra)}; late but not dead-lettered ${sample(missing)}; more than once ${sample(twice)}; wrong ${sample(problems)}`,
  );
}
