import { MinHeap } from './min-heap.ts';

/** A window (or session) that has not closed yet: what the operator knows without the store. */
export interface OpenWindow {
  /** The store key as a latin1 string: unique per open window. */
  readonly id: string;
  readonly storeKey: Buffer;
  /** The encoded grouping key as a latin1 string: orders windows of one start deterministically. */
  readonly keyId: string;
  /** The grouping key, as records carry it (decoded from the store key after a restart). */
  readonly key: unknown;
  readonly start: number;
  /** Exclusive; a session's grows as records extend it. */
  end: number;
  /** The stream time at which the window closes (and is emitted, with emit 'final'). */
  closeAt: number;
}

interface Scheduled {
  closeAt: number;
  window: OpenWindow;
}

/** Emission order of windows that close together: by start, then grouping key. */
export const byStartThenKey = (a: OpenWindow, b: OpenWindow): number =>
  a.start !== b.start ? a.start - b.start : a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0;

const before = (a: Scheduled, b: Scheduled): boolean =>
  a.closeAt !== b.closeAt
    ? a.closeAt < b.closeAt
    : a.window.start !== b.window.start
      ? a.window.start < b.window.start
      : a.window.keyId < b.window.keyId;

/**
 * The open windows of one operator instance, indexed so a record costs O(log n) and never a scan
 * of the store: by id, by grouping key (for sessions), and in a min-heap by close time. Windows
 * removed or rescheduled stay in the heap until they reach its top, where they are skipped
 * (lazy deletion), so removing never searches the heap.
 */
export class OpenWindows {
  private readonly byId = new Map<string, OpenWindow>();
  private readonly byKey = new Map<string, OpenWindow[]>();
  /** Absent when windows close by key (per-key event time): then nothing is scheduled here. */
  private readonly heap: MinHeap<Scheduled> | undefined;

  /** `byCloseTime`: keep the min-heap by close time that takeClosed() reads (per-partition time). */
  constructor(byCloseTime = true) {
    this.heap = byCloseTime ? new MinHeap(before) : undefined;
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): OpenWindow | undefined {
    return this.byId.get(id);
  }

  /** The open windows of one grouping key, in no particular order. */
  ofKey(keyId: string): readonly OpenWindow[] {
    return this.byKey.get(keyId) ?? [];
  }

  add(window: OpenWindow): void {
    this.byId.set(window.id, window);
    const ofKey = this.byKey.get(window.keyId);
    if (ofKey === undefined) this.byKey.set(window.keyId, [window]);
    else ofKey.push(window);
    this.heap?.push({ closeAt: window.closeAt, window });
  }

  /** A session grew: it closes later. */
  extend(window: OpenWindow, end: number, closeAt: number): void {
    window.end = end;
    if (closeAt === window.closeAt) return;
    window.closeAt = closeAt;
    this.heap?.push({ closeAt, window });
  }

  remove(window: OpenWindow): void {
    if (this.byId.get(window.id) !== window) return;
    this.byId.delete(window.id);
    const ofKey = (this.byKey.get(window.keyId) ?? []).filter((w) => w !== window);
    if (ofKey.length === 0) this.byKey.delete(window.keyId);
    else this.byKey.set(window.keyId, ofKey);
  }

  /** Removes and returns one key's windows with `closeAt <= time`, by start (per-key time). */
  takeClosedOfKey(keyId: string, time: number): OpenWindow[] {
    const ofKey = this.byKey.get(keyId);
    if (ofKey === undefined || !ofKey.some((w) => w.closeAt <= time)) return [];
    const closed = ofKey.filter((w) => w.closeAt <= time);
    for (const w of closed) this.byId.delete(w.id);
    const rest = ofKey.filter((w) => w.closeAt > time);
    if (rest.length === 0) this.byKey.delete(keyId);
    else this.byKey.set(keyId, rest);
    return closed.sort(byStartThenKey);
  }

  /** Removes and returns the windows with `closeAt <= time`, by start, then grouping key. */
  takeClosed(time: number): OpenWindow[] {
    const closed: OpenWindow[] = [];
    const heap = this.heap;
    if (heap === undefined) throw new TypeError('these open windows are not indexed by close time');
    for (let top = heap.peek(); top !== undefined && top.closeAt <= time; top = heap.peek()) {
      heap.pop();
      const { window } = top;
      // Skip entries of removed windows and superseded close times of extended sessions.
      if (this.byId.get(window.id) !== window || window.closeAt !== top.closeAt) continue;
      this.remove(window);
      closed.push(window);
    }
    return closed.sort(byStartThenKey);
  }
}
