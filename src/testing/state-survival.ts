import { MemoryStore } from '../state/index.ts';
import type { Task } from '../runtime/task.ts';

/** A store entry that came back from the changelog different from what the task held. */
export interface LostState {
  task: string;
  store: string;
  /** The entry's store key: text when printable, else hex. */
  key: string;
  /** What changed, e.g. `value: a Map became {}`. */
  reason: string;
}

function printable(key: Buffer): string {
  const text = key.toString('latin1');
  return /^[\x20-\x7e]*$/.test(text) ? text : `0x${key.toString('hex')}`;
}

function show(value: unknown): string {
  if (value === undefined || typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value).slice(0, 60)}`;
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 60);
  } catch {
    return String(value);
  }
}

/** `object`, `array`, or the name of what else an object is (Map, Set, Date, a class). */
function kindOf(value: object): string {
  if (Array.isArray(value)) return 'array';
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return 'object';
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
}

/**
 * How a value differs after its store's encoding and decoding, or undefined when it reads back
 * the same: a property that was undefined may be missing, and 0 may be -0, nothing else.
 */
export function encodingLoss(before: unknown, after: unknown, path = 'value'): string | undefined {
  if (Object.is(before, after) || (before === 0 && after === 0)) return undefined;
  if (typeof before === 'function') return `${path}: a function was dropped`;
  if (before === null || typeof before !== 'object')
    return `${path}: ${show(before)} became ${show(after)}`;
  const kind = kindOf(before);
  if (kind !== 'object' && kind !== 'array') return `${path}: a ${kind} became ${show(after)}`;
  if (after === null || typeof after !== 'object' || kindOf(after) !== kind)
    return `${path}: ${show(before)} became ${show(after)}`;
  if (Array.isArray(before)) {
    const list = after as unknown[];
    if (list.length !== before.length)
      return `${path}: ${before.length} items became ${list.length}`;
    for (let i = 0; i < before.length; i++) {
      const loss = encodingLoss(before[i], list[i], `${path}[${i}]`);
      if (loss !== undefined) return loss;
    }
    return undefined;
  }
  const record = after as Record<string, unknown>;
  for (const [field, value] of Object.entries(before)) {
    if (value === undefined) continue;
    const loss = encodingLoss(value, record[field], `${path}.${field}`);
    if (loss !== undefined) return loss;
  }
  return undefined;
}

/** The committed entries of a task's key-value stores (those with no change pending). */
export function committedState(task: Task): Map<string, [Buffer, unknown][]> {
  const state = new Map<string, [Buffer, unknown][]>();
  for (const { spec, memory } of task.stores.values())
    if (memory instanceof MemoryStore && memory.pending === 0)
      state.set(spec.name, [...(memory as MemoryStore<unknown>).entries()]);
  return state;
}

/** Compares what a task held before a restart with what its successor restored. */
export function lostState(before: Map<string, [Buffer, unknown][]>, successor: Task): LostState[] {
  const lost: LostState[] = [];
  for (const [store, entries] of before) {
    const memory = successor.stores.get(store)?.memory;
    if (!(memory instanceof MemoryStore)) continue;
    for (const [key, value] of entries) {
      const reason = encodingLoss(value, (memory as MemoryStore<unknown>).get(key));
      if (reason !== undefined)
        lost.push({ task: successor.id, store, key: printable(key), reason });
    }
  }
  return lost;
}
