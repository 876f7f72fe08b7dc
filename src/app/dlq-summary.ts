import { matches, missingForReplay } from './dlq-letter.ts';
import type { DeadLetter, DeadLetterFilter } from './dlq-letter.ts';

/** One dead letter as `dlq inspect` shows it: where it is, where it came from, why, and a preview. */
export interface DeadLetterSample {
  /** `<partition>:<offset>` in the dead-letter topic. */
  letter: string;
  key: string | null;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: string | null;
  /** The original record's timestamp (its event time when the producer set it), ISO 8601. */
  sourceTime: string | null;
  appendTime: string | null;
  operator: string | null;
  message: string | null;
  /** The start of the value: text, or `0x` and hex for binary; null for a null value. */
  value: string | null;
  valueBytes: number;
}

export interface TimeRange {
  first: string;
  last: string;
}

/** What `dlq inspect` prints (and prints as JSON with --json). */
export interface DeadLetterSummary {
  topic: string;
  partitions: number;
  /** Letters read (the whole topic up to its end at the start). */
  read: number;
  /** Letters the filters took; every figure below counts these only. */
  selected: number;
  filters: DeadLetterFilter;
  byCode: Record<string, number>;
  byOperator: Record<string, number>;
  byReason: Record<string, number>;
  bySourceTopic: Record<string, number>;
  sourceTime: TimeRange | null;
  appendTime: TimeRange | null;
  /** Selected letters a replay would skip: they lack a source topic or timestamp. */
  notReplayable: number;
  /** Up to the requested number per code, in the order read. */
  samples: Record<string, DeadLetterSample[]>;
}

/** The label of an absent header in counts. */
export const absent = '(none)';

function iso(ms: number | undefined): string | null {
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
}

function printable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

/**
 * The start of some bytes for people: UTF-8 text cut to `max` characters, or `0x` and the hex of
 * the first bytes when they are not text. Decodes only what it shows.
 */
export function preview(bytes: Buffer | null, max: number): string | null {
  if (bytes === null) return null;
  const head = bytes.subarray(0, max * 4);
  let decoded: string | undefined;
  try {
    // stream: a character cut at the end of `head` is not an error.
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    decoded = undefined;
  }
  if (decoded !== undefined && printable(decoded)) {
    const cut = decoded.length > max || head.length < bytes.length;
    return cut ? `${decoded.slice(0, max)}…` : decoded;
  }
  const shown = Math.max(1, Math.floor(max / 2));
  return `0x${bytes.subarray(0, shown).toString('hex')}${bytes.length > shown ? '…' : ''}`;
}

function sampleOf(letter: DeadLetter): DeadLetterSample {
  return {
    letter: `${letter.partition}:${letter.offset}`,
    key: preview(letter.key, 80),
    sourceTopic: letter.sourceTopic ?? null,
    sourcePartition: letter.sourcePartition ?? null,
    sourceOffset: letter.sourceOffset ?? null,
    sourceTime: iso(letter.sourceTimestamp),
    appendTime: iso(letter.appendTime),
    operator: letter.operator ?? null,
    message: letter.message ?? null,
    value: preview(letter.value, 120),
    valueBytes: letter.value?.length ?? 0,
  };
}

/** Counts sorted by count (largest first), then by name. */
function sorted(counts: Map<string, number>): Record<string, number> {
  const entries = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

function bump(counts: Map<string, number>, name: string | undefined): void {
  const label = name ?? absent;
  counts.set(label, (counts.get(label) ?? 0) + 1);
}

/** Builds a summary letter by letter, so a large dead-letter topic is never held in memory. */
export class SummaryBuilder {
  private read = 0;
  private selected = 0;
  private notReplayable = 0;
  private readonly byCode = new Map<string, number>();
  private readonly byOperator = new Map<string, number>();
  private readonly byReason = new Map<string, number>();
  private readonly bySourceTopic = new Map<string, number>();
  private readonly samples = new Map<string, DeadLetterSample[]>();
  private source: [number, number] | undefined;
  private append: [number, number] | undefined;

  constructor(
    private readonly topic: string,
    private readonly filter: DeadLetterFilter,
    private readonly samplesPerCode: number,
  ) {}

  add(letter: DeadLetter): void {
    this.read++;
    if (!matches(letter, this.filter)) return;
    this.selected++;
    bump(this.byCode, letter.code);
    bump(this.byOperator, letter.operator);
    bump(this.byReason, letter.reason);
    bump(this.bySourceTopic, letter.sourceTopic);
    if (missingForReplay(letter).length > 0) this.notReplayable++;
    const t = letter.sourceTimestamp;
    if (t !== undefined)
      this.source = [Math.min(t, this.source?.[0] ?? t), Math.max(t, this.source?.[1] ?? t)];
    const a = letter.appendTime;
    this.append = [Math.min(a, this.append?.[0] ?? a), Math.max(a, this.append?.[1] ?? a)];
    const code = letter.code ?? absent;
    const list = this.samples.get(code) ?? [];
    if (list.length < this.samplesPerCode) list.push(sampleOf(letter));
    this.samples.set(code, list);
  }

  finish(partitions: number): DeadLetterSummary {
    const range = (r: [number, number] | undefined): TimeRange | null => {
      const first = iso(r?.[0]);
      const last = iso(r?.[1]);
      return first === null || last === null ? null : { first, last };
    };
    const byCode = sorted(this.byCode);
    return {
      topic: this.topic,
      partitions,
      read: this.read,
      selected: this.selected,
      filters: this.filter,
      byCode,
      byOperator: sorted(this.byOperator),
      byReason: sorted(this.byReason),
      bySourceTopic: sorted(this.bySourceTopic),
      sourceTime: range(this.source),
      appendTime: range(this.append),
      notReplayable: this.notReplayable,
      // In the order of byCode.
      samples: Object.fromEntries(
        Object.keys(byCode).map((code) => [code, this.samples.get(code) ?? []]),
      ),
    };
  }
}
