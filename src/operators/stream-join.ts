import { TributaryError } from '../core/index.ts';
import type { JoinOp, Processor, ProcessorContext } from '../core/index.ts';
import type { StateStore } from '../state/index.ts';
import { MinHeap } from './min-heap.ts';

// A stream-stream join within a time window (decision 0017), as two operators, one per input
// stream, that share the task's two stores: each keeps its own side's records and looks up the
// other's. A record of this side at t joins the other side's records of its key at
// [t - before, t + after] (the other side's record at t at [t - after, t + before]) as soon as
// the second of the two arrives, stamped with the later time.
//
// The join's stream time is the largest time either side has seen, kept in this side's store (so
// a restart judges lateness as before it). A record older than stream time - grace is late. A
// record is kept while a record of the other side that is not late could still match it: this
// side's record at t while t + after >= stream time - grace, the other's while t + before >= it.
// Then it is dropped, and, for left and outer joins, if it never matched, emitted once with null
// for the other side: never earlier, so a match arriving within the grace is never preceded by a
// spurious null result.
//
// Store layout (values kept as they are, the changelog holds them as JSON):
//   [4-byte key length][key bytes][8-byte time]  ->  [[value, matched 0|1], ...] (arrival order)
//   the meta key 0xffffffff in this side's store   ->  the join's stream time

type AnyProcessor = Processor<unknown, unknown, unknown, unknown>;
type AnyContext = ProcessorContext<unknown, unknown>;
type WindowJoin = Extract<JoinOp, { type: 'window' }>;
/** One record of a side: its value and whether a record of the other side joined it. */
type Entry = [value: unknown, matched: 0 | 1];

const metaKey = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const twoTo32 = 2 ** 32;

function entryKey(key: Buffer, time: number): Buffer {
  const out = Buffer.allocUnsafe(4 + key.length + 8);
  out.writeUInt32BE(key.length, 0);
  key.copy(out, 4);
  out.writeUInt32BE(Math.floor(time / twoTo32), 4 + key.length);
  out.writeUInt32BE(time % twoTo32, 8 + key.length);
  return out;
}

function parseEntryKey(id: Buffer): { key: Buffer; time: number } {
  const length = id.readUInt32BE(0);
  const key = id.subarray(4, 4 + length);
  const time = id.readUInt32BE(4 + length) * twoTo32 + id.readUInt32BE(8 + length);
  return { key, time };
}

/** What the two sides of one join share in one task: stream time and each side's expiry order. */
interface JoinState {
  streamTime: number | undefined;
  /** Per store: its entries by time (then key bytes); stale items are skipped when popped. */
  heaps: Map<StateStore<unknown>, MinHeap<{ time: number; id: Buffer }>>;
}

/** Keyed by this side's store, which is one object per task: the two operators find one state. */
const states = new WeakMap<StateStore<unknown>, JoinState>();

function heapOf(store: StateStore<unknown>): MinHeap<{ time: number; id: Buffer }> {
  const heap = new MinHeap<{ time: number; id: Buffer }>(
    (a, b) => a.time < b.time || (a.time === b.time && Buffer.compare(a.id, b.id) < 0),
  );
  for (const [id] of store.entries()) {
    if (id.equals(metaKey)) continue;
    heap.push({ time: parseEntryKey(id).time, id });
  }
  return heap;
}

/** The operator of one side of a stream-stream join. */
export function streamJoinOperator(op: WindowJoin): AnyProcessor {
  const { join, joiner, side, window } = op;
  const mineIsThis = side === 'this';
  // How far from t this side looks into the other's records.
  const lookBack = mineIsThis ? window.beforeMs : window.afterMs;
  const lookAhead = mineIsThis ? window.afterMs : window.beforeMs;
  let mine: StateStore<unknown>;
  let theirs: StateStore<unknown>;
  let thisStore: StateStore<unknown>;
  let state: JoinState;
  const emitsUnmatched = (isThis: boolean): boolean =>
    isThis ? join === 'left' || join === 'outer' : join === 'outer';
  const result = (isThis: boolean, value: unknown, other: unknown, key: unknown): unknown =>
    isThis ? joiner(value, other, key) : joiner(other, value, key);

  /** Drops what no record that is not late can join, emitting the unmatched of left/outer joins. */
  function expire(context: AnyContext): void {
    const time = state.streamTime;
    if (time === undefined) return;
    for (const [store, isThis] of [
      [thisStore, true],
      [thisStore === mine ? theirs : mine, false],
    ] as const) {
      const heap = state.heaps.get(store);
      if (heap === undefined) continue;
      const keep = time - window.graceMs - (isThis ? window.afterMs : window.beforeMs);
      for (let top = heap.peek(); top !== undefined && top.time < keep; top = heap.peek()) {
        heap.pop();
        const entries = store.get(top.id) as Entry[] | undefined;
        if (entries === undefined) continue;
        store.delete(top.id);
        if (!emitsUnmatched(isThis)) continue;
        const key = op.key.deserialize(parseEntryKey(top.id).key, op.topic);
        for (const [value, matched] of entries) {
          if (matched === 1) continue;
          context.forward({
            key,
            value: result(isThis, value, null, key),
            timestamp: top.time,
            headers: {},
          });
        }
      }
    }
  }

  return {
    init(context) {
      thisStore = context.getStore<StateStore<unknown>>(op.stores.this);
      const otherStore = context.getStore<StateStore<unknown>>(op.stores.other);
      [mine, theirs] = mineIsThis ? [thisStore, otherStore] : [otherStore, thisStore];
      let shared = states.get(thisStore);
      if (shared === undefined) {
        const saved = thisStore.get(metaKey);
        shared = { streamTime: typeof saved === 'number' ? saved : undefined, heaps: new Map() };
        states.set(thisStore, shared);
      }
      state = shared;
      if (!state.heaps.has(mine)) state.heaps.set(mine, heapOf(mine));
    },
    process(record, context) {
      // As Kafka Streams: a record without a key or value joins nothing.
      if (record.key === null || record.key === undefined) return;
      if (record.value === null || record.value === undefined) return;
      const time = record.timestamp;
      if (!Number.isSafeInteger(time) || time < 0) {
        throw new TributaryError(
          'OPERATOR_FAILED',
          `a joined record needs a time in whole ms >= 0, got ${time}`,
        );
      }
      const streamTime = state.streamTime;
      if (streamTime !== undefined && time < streamTime - window.graceMs) {
        throw new TributaryError(
          'LATE_RECORD',
          `record at ${new Date(time).toISOString()} is later than the join's grace: stream time ${new Date(streamTime).toISOString()}, grace ${window.graceMs} ms`,
        );
      }
      if (streamTime === undefined || time > streamTime) {
        state.streamTime = time;
        thisStore.put(metaKey, time);
      }
      const keyBytes = op.key.serialize(record.key, op.topic);
      if (keyBytes === null) return;
      // Joins with the other side's records in the window, in time order.
      let matched: 0 | 1 = 0;
      const from = entryKey(keyBytes, Math.max(0, time - lookBack));
      const to = entryKey(keyBytes, time + lookAhead);
      const otherUnmatched = emitsUnmatched(!mineIsThis);
      for (const [id, stored] of rangeOf(theirs, from, to)) {
        const entries = stored as Entry[];
        const otherTime = parseEntryKey(id).time;
        let changed = false;
        for (const entry of entries) {
          matched = 1;
          context.forward({
            key: record.key,
            value: result(mineIsThis, record.value, entry[0], record.key),
            timestamp: Math.max(time, otherTime),
            headers: record.headers,
          });
          if (otherUnmatched && entry[1] === 0) {
            entry[1] = 1;
            changed = true;
          }
        }
        if (changed) theirs.put(id, entries);
      }
      const id = entryKey(keyBytes, time);
      const existing = mine.get(id) as Entry[] | undefined;
      if (existing === undefined) {
        mine.put(id, [[record.value, matched]]);
        state.heaps.get(mine)?.push({ time, id });
      } else {
        mine.put(id, [...existing, [record.value, matched]]);
      }
      expire(context);
    },
  };
}

/** A store's entries between two keys, in key order (the stores here are MemoryStores). */
function rangeOf(store: StateStore<unknown>, from: Buffer, to: Buffer): [Buffer, unknown][] {
  return (store as unknown as { range(f: Buffer, t: Buffer): [Buffer, unknown][] }).range(from, to);
}
