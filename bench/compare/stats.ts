// Figures over interleaved rounds: every figure of `npm run bench` is reported as the median of
// its rounds with their spread (min..max), and a ratio between two implementations is the median
// of the per-round ratios (each round's pair ran minutes apart, so a noisy minute of a shared
// machine moves one round's ratio, not the median).

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many rounds gave a figure. */
  n: number;
}

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median, min and max of the figures that exist; undefined when none does. */
export function spread(xs: (number | undefined)[]): Spread | undefined {
  const defined = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  const mid = median(defined);
  if (mid === undefined) return undefined;
  return { median: mid, min: Math.min(...defined), max: Math.max(...defined), n: defined.length };
}

/**
 * Per-round ratios a / b of one figure, pairing the rounds by number (a round missing on
 * either side, or a zero divisor, gives no ratio), and their spread.
 */
export function roundRatios<T extends { round?: number | undefined }>(
  a: T[],
  b: T[],
  figure: (x: T) => number | undefined,
): Spread | undefined {
  const ratios: number[] = [];
  for (const x of a) {
    const y = b.find((r) => (r.round ?? 1) === (x.round ?? 1));
    const [fx, fy] = [figure(x), y === undefined ? undefined : figure(y)];
    if (fx !== undefined && fy !== undefined && fy !== 0) ratios.push(fx / fy);
  }
  return spread(ratios);
}

/** "1,234 (1,100-1,300)" for several rounds, "1,234" for one; `format` formats one number. */
export function formatSpread(s: Spread | undefined, format: (n: number) => string): string {
  if (s === undefined) return '-';
  if (s.n === 1) return format(s.median);
  return `${format(s.median)} (${format(s.min)}-${format(s.max)})`;
}
