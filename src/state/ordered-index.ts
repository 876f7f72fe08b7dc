/**
 * The keys of a store in byte order, for range scans (docs/decisions/0012). Keys are held as
 * latin1 strings of their bytes, whose code-unit order is the byte order, so plain `<` compares
 * them. Built only when a store is first scanned: stores that are never scanned (the built-in
 * aggregates) pay nothing for it.
 *
 * Two sorted arrays: `main` (large) and `side` (small, at most ~2 sqrt(n)). A new key is
 * inserted into `side` (a binary search and a short move); when `side` is full it is merged into
 * `main` (O(n)), so an insert costs O(sqrt n) amortized, with the tiny constant of a memory
 * move. A deleted key is only marked (`stale`) and dropped at the next merge, so deleting costs
 * O(1). A scan walks both arrays from their lower bounds in step (O(log n) to start).
 */
export class OrderedIndex {
  private main: string[];
  private side: string[] = [];
  /** Keys deleted since the last merge, still in `main` or `side`. */
  private readonly stale = new Set<string>();

  /** `keys`: the store's live keys, in any order. */
  constructor(keys: Iterable<string>) {
    this.main = [...keys].sort();
  }

  /** How many live keys it holds. */
  get size(): number {
    return this.main.length + this.side.length - this.stale.size;
  }

  /** A key became live (it was absent). */
  add(id: string): void {
    if (this.stale.delete(id)) return;
    this.side.splice(lowerBound(this.side, id), 0, id);
    if (this.side.length > Math.max(256, 2 * Math.sqrt(this.main.length))) this.merge();
  }

  /** A live key was deleted. */
  remove(id: string): void {
    this.stale.add(id);
    if (this.stale.size > 1024 && this.stale.size > this.main.length / 2) this.merge();
  }

  /** Live keys with `from <= key <= to` in order (undefined: that end open). */
  *range(from: string | undefined, to: string | undefined): IterableIterator<string> {
    const { main, side, stale } = this;
    let i = from === undefined ? 0 : lowerBound(main, from);
    let j = from === undefined ? 0 : lowerBound(side, from);
    for (;;) {
      const a = main[i];
      const b = side[j];
      let next: string;
      if (a !== undefined && (b === undefined || a < b)) {
        next = a;
        i++;
      } else if (b !== undefined) {
        next = b;
        j++;
      } else {
        return;
      }
      if (to !== undefined && next > to) return;
      if (!stale.has(next)) yield next;
    }
  }

  /** The smallest live key >= `from`, or undefined. */
  first(from: string): string | undefined {
    for (const id of this.range(from, undefined)) return id;
    return undefined;
  }

  private merge(): void {
    const { main, side, stale } = this;
    const merged: string[] = new Array<string>(main.length + side.length - stale.size);
    let n = 0;
    let i = 0;
    let j = 0;
    while (i < main.length || j < side.length) {
      const a = main[i];
      const b = side[j];
      let next: string;
      if (a !== undefined && (b === undefined || a < b)) {
        next = a;
        i++;
      } else {
        next = b as string;
        j++;
      }
      if (!stale.has(next)) merged[n++] = next;
    }
    merged.length = n;
    this.main = merged;
    this.side = [];
    stale.clear();
  }
}

/** The first index of a sorted array whose item is >= `id`. */
function lowerBound(sorted: readonly string[], id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
