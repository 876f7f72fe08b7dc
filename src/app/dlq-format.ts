import type { DeadLetterFilter } from './dlq-letter.ts';
import type { ReplayReport } from './dlq-replay.ts';
import type { DeadLetterSummary } from './dlq-summary.ts';

/** The filters as a phrase (`code LATE_RECORD; source time from ...`); '' when there are none. */
export function describeFilter(filter: DeadLetterFilter): string {
  const parts: string[] = [];
  const list = (name: string, values: string[] | undefined): void => {
    if (values !== undefined && values.length > 0) parts.push(`${name} ${values.join(', ')}`);
  };
  list('code', filter.codes);
  list('operator', filter.operators);
  list('reason', filter.reasons);
  list('source topic', filter.sourceTopics);
  const iso = (ms: number): string => new Date(ms).toISOString();
  if (filter.from !== undefined || filter.to !== undefined) {
    const from = filter.from === undefined ? '' : ` from ${iso(filter.from)}`;
    const to = filter.to === undefined ? '' : ` before ${iso(filter.to)}`;
    parts.push(`source time${from}${to}`);
  }
  return parts.join('; ');
}

/** Text for a terminal: control characters (a message may quote binary input) escaped. */
function clean(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || c === 0x7f ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

/** `  4  LATE_RECORD` lines, counts right-aligned. */
function countLines(counts: Record<string, number>, indent = '  '): string[] {
  const entries = Object.entries(counts);
  const width = Math.max(1, ...entries.map(([, n]) => String(n).length));
  return entries.map(([name, n]) => `${indent}${String(n).padStart(width)}  ${name}`);
}

/** What `dlq inspect` prints without --json. */
export function formatSummary(s: DeadLetterSummary): string {
  const filters = describeFilter(s.filters);
  const lines = [
    `dead-letter topic ${s.topic}: ${s.read} letter${s.read === 1 ? '' : 's'} in ${s.partitions} partition${s.partitions === 1 ? '' : 's'}, ${s.selected} selected${filters === '' ? '' : ` (${filters})`}`,
  ];
  if (s.selected === 0) return `${lines.join('\n')}\n`;
  if (s.sourceTime !== null)
    lines.push(`source time  ${s.sourceTime.first} .. ${s.sourceTime.last}`);
  if (s.appendTime !== null)
    lines.push(`appended     ${s.appendTime.first} .. ${s.appendTime.last}`);
  if (s.notReplayable > 0)
    lines.push(`not replayable (no source topic or timestamp): ${s.notReplayable}`);
  const groups: [string, Record<string, number>][] = [
    ['by code', s.byCode],
    ['by operator', s.byOperator],
    ['by reason', s.byReason],
    ['by source topic', s.bySourceTopic],
  ];
  for (const [title, counts] of groups) lines.push('', title, ...countLines(counts));
  for (const [code, samples] of Object.entries(s.samples)) {
    if (samples.length === 0) continue;
    lines.push('', `samples of ${code} (${samples.length} of ${s.byCode[code] ?? 0})`);
    for (const x of samples) {
      const from =
        x.sourceTopic === null
          ? 'source unknown'
          : `from ${x.sourceTopic}/${x.sourcePartition ?? '?'}/${x.sourceOffset ?? '?'}`;
      lines.push(
        `  ${x.letter}  key ${x.key === null ? '(null)' : clean(JSON.stringify(x.key))}  ${from}  source time ${x.sourceTime ?? '?'}  appended ${x.appendTime ?? '?'}`,
        `      ${clean(x.operator ?? '(no operator)')}: ${clean(x.message ?? '(no message)')}`,
        `      value ${x.value === null ? '(null)' : clean(x.value)} (${x.valueBytes} byte${x.valueBytes === 1 ? '' : 's'})`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What `dlq replay` prints. */
export function formatReplayReport(r: ReplayReport): string {
  const filters = describeFilter(r.filters);
  const verb = r.dryRun ? 'would replay' : 'replayed';
  const lines = [
    `${r.dryRun ? 'dry run (nothing written): ' : ''}dead-letter topic ${r.topic}: ${r.read} letter${r.read === 1 ? '' : 's'} read, ${r.selected} selected${filters === '' ? '' : ` (${filters})`}`,
    `${verb}: ${r.replayed}`,
  ];
  if (r.replayed > 0) {
    lines.push('  by code', ...countLines(r.byCode, '    '));
    lines.push('  by target topic', ...countLines(r.byTarget, '    '));
  }
  lines.push(`skipped, already replayed (ledger ${r.ledger}): ${r.alreadyReplayed}`);
  if (r.notReplayable > 0)
    lines.push(
      `skipped, headers missing: ${r.notReplayable}`,
      ...countLines(r.missingHeaders, '    '),
    );
  const missingTargets = Object.values(r.targetMissing).reduce((a, b) => a + b, 0);
  if (missingTargets > 0)
    lines.push(
      `skipped, target topic does not exist: ${missingTargets}`,
      ...countLines(r.targetMissing, '    '),
    );
  return `${lines.join('\n')}\n`;
}
