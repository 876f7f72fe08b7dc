import { TributaryError } from '../core/index.ts';
import type { Processor, ProcessorContext, StreamRecord } from '../core/index.ts';
import type { StateStore } from '../state/index.ts';
import { encodeKey, resultOf } from './aggregate-spec.ts';
import type { AggregateSpec } from './aggregate-spec.ts';
import { KeyClock } from './key-clock.ts';
import { OpenWindows } from './open-windows.ts';
import type { OpenWindow } from './open-windows.ts';
import { PartitionClock } from './partition-clock.ts';
import { isoTime, isSessionWindow, parseWindowKey, windowKey } from './window.ts';
import type { WindowSpec } from './window.ts';
import { readWindow, storedAggregate, storedWindow } from './window-clock.ts';
import type { WindowClock } from './window-clock.ts';

// Windowed aggregation, as Kafka Streams does it, with event time per partition or per key.
//
// Store layout (values are stored with the store's codec, JSON):
//   <encoded key><start: 8 bytes, big-endian>  ->  { a, e?, d? }     one entry per open window
//   0xff (one byte)                            ->  { streamTime }   per-partition mode
//   <encoded key><8 bytes 0xff>                ->  { t }            per-key mode, see key-clock.ts
// (the aggregate; a session's end - start; per key, the key's time - start: window-clock.ts).
// `end` is exclusive: `start + size` for time windows; for a session, its last record's time + 1.
// Closed windows are deleted, so the store holds only open windows and the clock's times.
//
// "Time" below is the clock's (window-clock.ts): the task's stream time (time: 'partition', the
// largest event time seen in the partition) or the record's key's own largest event time
// (time: 'key'). record.timestamp is the event time (the source applied the timestamp
// extractor). With grace G:
// - time windows (tumbling, hopping, sliding, or any TimeWindowKind: the kind says which windows
//   [start, start + size) a timestamp falls in, nothing else): a window closes when
//   end + G <= time; a record is late when all of its windows are closed, and otherwise counts
//   in those still open. A record in no window at all (a kind may leave gaps, and no window
//   starts before the epoch) fails with OPERATOR_FAILED.
// Sessions are not a kind of time window: they grow and merge per key, so they keep their own
// path below.
// - session (gap P): a record joins every session of its key with start - P <= t <= last + P
//   (last = end - 1), merging them; a session closes when last + P + G < time, i.e.
//   end + P + G <= time: from then on no record that is not late can reach it. A record is late
//   when the session it would make closes by that rule (Kafka Streams' rule, with its inclusive
//   session end: mergedEnd < streamTime - grace - gap).
// Windows that close together are emitted (emit 'final') in start order, then key order, and
// deleted.

/** How long a key whose windows all closed by its idle timeout keeps its time (event time). */
const minKeyTimeRetentionMs = 86_400_000;

type Context = ProcessorContext<unknown, unknown>;
type AnyRecord = StreamRecord<unknown, unknown>;

/** One store write a record makes, computed before anything is written. */
interface Update {
  storeKey: Buffer;
  start: number;
  end: number;
  closeAt: number;
  agg: unknown;
  /** The open window this updates in place, if any. */
  window: OpenWindow | undefined;
  /** Sessions merged into this one, deleted when it is written. */
  merged: OpenWindow[];
}

export function windowAggregate(
  spec: AggregateSpec,
  window: WindowSpec,
  store: StateStore<unknown>,
): Processor<unknown, unknown, unknown, unknown> {
  const { aggregator } = spec;
  const grace = window.graceMs;
  const sessions = isSessionWindow(window);
  if (sessions && aggregator.merge === undefined) {
    // The DSL rejects this when it builds the topology; a hand-made spec fails here, at once.
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `aggregation '${spec.name}' uses session windows, so its aggregator needs merge(left, right)`,
    );
  }
  const merge = (left: unknown, right: unknown): unknown => aggregator.merge?.(left, right);
  const perKey = spec.time === 'key';
  const length = isSessionWindow(window) ? window.gapMs : window.sizeMs;
  const retentionMs = Math.max(minKeyTimeRetentionMs, length + grace);
  let open = new OpenWindows(!perKey);
  const newClock = (): WindowClock =>
    perKey
      ? new KeyClock(store, open, spec.idleTimeoutMs, retentionMs)
      : new PartitionClock(store, open, spec.idleTimeoutMs);
  let clock = newClock();
  const timeName = perKey ? 'key time' : 'stream time';

  const late = (t: number, kind: string, start: number, end: number, time: number) =>
    new TributaryError(
      'LATE_RECORD',
      `record at ${isoTime(t)} is later than the grace period of ${kind} [${isoTime(start)}, ${isoTime(end)}) of aggregation '${spec.name}': ${timeName} is ${isoTime(time)}, grace ${grace} ms`,
    );

  const forward = (context: Context, w: OpenWindow, agg: unknown): void => {
    const value = { key: w.key, start: w.start, end: w.end, value: resultOf(aggregator, agg) };
    context.forward({ key: w.key, value, timestamp: w.end - 1, headers: {} });
  };

  const aggregateOf = (w: OpenWindow): unknown => storedAggregate(store.get(w.storeKey));

  const timeUpdates = (record: AnyRecord, keyBytes: Buffer, time: number): Update[] => {
    if (isSessionWindow(window)) return [];
    const size = window.sizeMs;
    const starts = window.windowStarts(record.timestamp);
    if (starts.length === 0) {
      throw new TributaryError(
        'OPERATOR_FAILED',
        `record at ${isoTime(record.timestamp)} falls in no ${window.type} window of aggregation '${spec.name}'`,
      );
    }
    const updates: Update[] = [];
    for (const start of starts) {
      const end = start + size;
      if (end + grace <= time) continue;
      const storeKey = windowKey(keyBytes, start);
      const current = open.get(storeKey.toString('latin1'));
      const base = current === undefined ? aggregator.init() : aggregateOf(current);
      const agg = aggregator.add(base, record.value, record.key);
      updates.push({
        storeKey,
        start,
        end,
        closeAt: end + grace,
        agg,
        window: current,
        merged: [],
      });
    }
    const last = starts.at(-1) ?? 0;
    if (updates.length === 0) throw late(record.timestamp, 'window', last, last + size, time);
    return updates;
  };

  const sessionUpdate = (record: AnyRecord, keyBytes: Buffer, time: number): Update => {
    if (!isSessionWindow(window)) throw new TypeError('not a session window');
    const gap = window.gapMs;
    const t = record.timestamp;
    const merged = open
      .ofKey(keyBytes.toString('latin1'))
      .filter((s) => t >= s.start - gap && t < s.end + gap)
      .sort((a, b) => a.start - b.start);
    const start = Math.min(t, ...merged.map((s) => s.start));
    const end = Math.max(t + 1, ...merged.map((s) => s.end));
    const closeAt = end + gap + grace;
    if (closeAt <= time) throw late(t, 'session', start, end, time);
    const [first, ...rest] = merged;
    let base = first === undefined ? aggregator.init() : aggregateOf(first);
    for (const s of rest) base = merge(base, aggregateOf(s));
    const agg = aggregator.add(base, record.value, record.key);
    const storeKey = windowKey(keyBytes, start);
    const current = merged.find((s) => s.start === start);
    const others = merged.filter((s) => s !== current);
    return { storeKey, start, end, closeAt, agg, window: current, merged: others };
  };

  const write = (
    context: Context,
    record: AnyRecord,
    update: Update,
    t: number | undefined,
  ): void => {
    for (const s of update.merged) {
      store.delete(s.storeKey);
      open.remove(s);
    }
    let w = update.window;
    if (w === undefined) {
      w = {
        id: update.storeKey.toString('latin1'),
        storeKey: update.storeKey,
        keyId: update.storeKey.subarray(0, update.storeKey.length - 8).toString('latin1'),
        key: record.key,
        start: update.start,
        end: update.end,
        closeAt: update.closeAt,
      };
      open.add(w);
    } else {
      open.extend(w, update.end, update.closeAt);
    }
    store.put(update.storeKey, storedWindow(update.agg, update.start, update.end, sessions, t));
    if (spec.emit === 'updates') forward(context, w, update.agg);
  };

  const emitClosed = (context: Context, closed: OpenWindow[]): void => {
    for (const w of closed) {
      if (spec.emit === 'final') forward(context, w, aggregateOf(w));
      store.delete(w.storeKey);
    }
  };

  return {
    /** Rebuilds the clock and the index of open windows from the (possibly restored) store. */
    init(context) {
      open = new OpenWindows(!perKey);
      clock = newClock();
      const extra = isSessionWindow(window) ? window.gapMs : 0;
      for (const [storeKey, value] of store.entries()) {
        if (clock.restoreEntry(storeKey, value)) continue;
        const { keyBytes, start } = parseWindowKey(storeKey);
        const entry = readWindow(value, start, isSessionWindow(window) ? undefined : window.sizeMs);
        const w: OpenWindow = {
          id: storeKey.toString('latin1'),
          storeKey,
          keyId: keyBytes.toString('latin1'),
          key: spec.key.deserialize(keyBytes, store.name),
          start,
          end: entry.end,
          closeAt: entry.end + extra + grace,
        };
        open.add(w);
        clock.restoreWindow(w, entry);
      }
      clock.restored(context.clock.now());
    },

    process(record, context) {
      const t = record.timestamp;
      if (!Number.isSafeInteger(t) || t < 0) {
        throw new TributaryError(
          'OPERATOR_FAILED',
          `aggregation '${spec.name}' got a record with event time ${t}: windows need whole milliseconds since the epoch (check the source's timestamp extractor)`,
        );
      }
      const keyBytes = encodeKey(spec, record.key, store.name);
      const keyId = keyBytes.toString('latin1');
      const time = clock.timeWith(keyId, keyBytes, t);
      // Everything that can throw (lateness, the aggregator) runs before anything is written,
      // so a record that fails leaves the store and the clock as they were.
      const updates = sessions
        ? [sessionUpdate(record, keyBytes, time)]
        : timeUpdates(record, keyBytes, time);
      const entryTime = clock.entryTime(time);
      for (const update of updates) write(context, record, update, entryTime);
      emitClosed(context, clock.advance(keyId, keyBytes, time, context.clock.now()));
    },

    /** Idle timeouts (wall clock) close windows of quiet partitions or keys. */
    punctuate(now, context) {
      emitClosed(context, clock.punctuate(now));
    },
  };
}
