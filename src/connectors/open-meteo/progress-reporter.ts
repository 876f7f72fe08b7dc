import { systemClock } from '../../core/index.ts';
import type { Clock } from '../../core/index.ts';

/** Where progress goes: process.stderr, or anything with write (isTTY decides bar or lines). */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressFigures {
  label: string;
  done: number;
  failed: number;
  total: number;
  records: number;
  elapsedMs: number;
}

const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `1:05:09`, `4:07`, `0:03`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * One line of progress: `backfill 12/20 chunks (1 failed)  2,016 records  840 rec/s  ETA 0:07`,
 * with a bar of `barWidth` cells in front when asked; the final line gives the time taken
 * instead of the ETA. Rate and ETA come from this run's chunks.
 */
export function formatProgress(figures: ProgressFigures, barWidth = 0, final = false): string {
  const { label, done, failed, total, records, elapsedMs } = figures;
  const finished = done + failed;
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? records / seconds : 0;
  const eta = final
    ? `took ${formatDuration(elapsedMs)}`
    : finished === 0
      ? 'ETA --:--'
      : `ETA ${formatDuration((elapsedMs / finished) * Math.max(0, total - finished))}`;
  const filled = total === 0 ? barWidth : Math.round((finished / total) * barWidth);
  const bar = barWidth > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ` : '';
  const failures = failed > 0 ? ` (${failed} failed)` : '';
  return `${label} ${bar}${finished}/${total} chunks${failures}  ${formatCount(records)} records  ${formatCount(rate)} rec/s  ${eta}`;
}

export interface ProgressReporter {
  /** `chunks` more are done (default 1), together holding `records`. */
  chunkDone(records: number, chunks?: number): void;
  /** `chunks` more failed (default 1). */
  chunkFailed(chunks?: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

export interface ProgressReporterOptions {
  label: string;
  /** Chunks this run will work on. */
  total: number;
  output: ProgressOutput;
  clock?: Clock;
  /**
   * Without a terminal: a line each time the chunks finished pass a multiple of this (default
   * 10; one line for a step that passes several), and at the end.
   */
  logEveryChunks?: number;
  /** On a terminal: redraw at most this often (default 100 ms). */
  redrawMs?: number;
}

/** A progress bar redrawn in place on a terminal, or a line every N chunks anywhere else. */
export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  const {
    label,
    total,
    output,
    clock = systemClock,
    logEveryChunks = 10,
    redrawMs = 100,
  } = options;
  const tty = output.isTTY === true;
  const started = clock.now();
  let done = 0;
  let failed = 0;
  let records = 0;
  let drawnAt = -Infinity;
  const figures = (): ProgressFigures => ({
    label,
    done,
    failed,
    total,
    records,
    elapsedMs: clock.now() - started,
  });
  const barWidth = (): number => Math.max(10, Math.min(30, (output.columns ?? 80) - 70));

  const draw = (final: boolean, before: number): void => {
    const finished = done + failed;
    if (tty) {
      const now = clock.now();
      if (!final && now - drawnAt < redrawMs) return;
      drawnAt = now;
      // \r back to the start of the line, \x1b[K clears what a longer earlier line left.
      output.write(`\r${formatProgress(figures(), barWidth(), final)}\x1b[K${final ? '\n' : ''}`);
    } else if (
      final ||
      (Math.floor(finished / logEveryChunks) > Math.floor(before / logEveryChunks) &&
        finished < total)
    ) {
      output.write(`${formatProgress(figures(), 0, final)}\n`);
    }
  };
  let ended = false;
  return {
    chunkDone(n, chunks = 1) {
      const before = done + failed;
      done += chunks;
      records += n;
      draw(false, before);
    },
    chunkFailed(chunks = 1) {
      const before = done + failed;
      failed += chunks;
      draw(false, before);
    },
    finish() {
      if (ended) return;
      ended = true;
      draw(true, done + failed);
    },
  };
}
