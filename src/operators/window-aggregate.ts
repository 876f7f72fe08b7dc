import { TributaryError } from '../core/index.ts';
import type { Processor, ProcessorContext, StreamRecord } from '../core/index.ts';
import type { StateStore } from '../state/index.ts';
import { encodeKey, resultOf } from './aggregate-spec.ts';
import type { AggregateSpec } from './aggregate-spec.ts';
import { OpenWindows } from './open-windows.ts';
import type { OpenWindow } from './open-windows.ts';
import { isoTime, parseWindowKey, windowKey, windowStarts } from './window.ts';
import type { WindowSpec } from './window.ts';

// Windowed aggregation, as Kafka Streams does it.
//
// Store layout (values are stored with the store's codec, JSON):
//   <encoded key><start: 8 bytes, big-endian>  ->  { end, agg }   one entry per open window
//   0xff (one byte)                            ->  { streamTime }  reserved
// `end` is exclusive: `start + size` for time windows; for a session, its last record's time + 1.
// Window keys are at least 8 bytes long, so they never collide with the one-byte reserved key.
// Closed windows are deleted, so the store holds only open windows and the stream time.
//
// Stream time is the largest event time seen (record.timestamp: the source applied the
// timestamp extractor). With grace G:
// - tumbling/hopping: a window closes when end + G <= stream time; a record is late when all
//   of its windows are closed, and otherwise counts in those still open.
// - session (gap P): a record joins every session of its key with start - P <= t <= last + P
//   (last = end - 1), merging them; a session closes when last + P + G < stream time, i.e.
//   end + P + G <= stream time: from then on no record that is not late can reach it. A record
//   is late when the session it would make closes by that rule (Kafka Streams' rule, with its
//   inclusive session end: mergedEnd < streamTime - grace - gap).
// Closed windows are emitted (emit 'final') in start order, then key order, and deleted.

/** The reserved store key of the stream time. */
export const streamTimeKey = Buffer.from([0xff]);

interface WindowEntry {
  end: number;
  agg: unknown;
}

interface StreamTimeEntry {
  streamTime: number;
}

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
  if (window.type === 'session' && aggregator.merge === undefined) {
    // The DSL rejects this when it builds the topology; a hand-made spec fails here, at once.
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `aggregation '${spec.name}' uses session windows, so its aggregator needs merge(left, right)`,
    );
  }
  const merge = (left: unknown, right: unknown): unknown => aggregator.merge?.(left, right);
  let open = new OpenWindows();
  let streamTime = Number.NEGATIVE_INFINITY;
  // Wall-clock times (context.clock) of the last record and of the last advance of stream time.
  let lastRecordAt = 0;
  let lastAdvanceAt = 0;

  const advanceTo = (time: number): void => {
    if (time <= streamTime) return;
    streamTime = time;
    store.put(streamTimeKey, { streamTime } satisfies StreamTimeEntry);
  };

  const late = (t: number, kind: string, start: number, end: number, time: number) =>
    new TributaryError(
      'LATE_RECORD',
      `record at ${isoTime(t)} is later than the grace period of ${kind} [${isoTime(start)}, ${isoTime(end)}) of aggregation '${spec.name}': stream time is ${isoTime(time)}, grace ${grace} ms`,
    );

  const forward = (context: Context, w: OpenWindow, agg: unknown): void => {
    const value = { key: w.key, start: w.start, end: w.end, value: resultOf(aggregator, agg) };
    context.forward({ key: w.key, value, timestamp: w.end - 1, headers: {} });
  };

  const entryOf = (w: OpenWindow): WindowEntry => store.get(w.storeKey) as WindowEntry;

  const timeUpdates = (record: AnyRecord, keyBytes: Buffer, time: number): Update[] => {
    if (window.type === 'session') return [];
    const size = window.sizeMs;
    const advance = window.type === 'hopping' ? window.advanceMs : size;
    const starts = windowStarts(record.timestamp, size, advance);
    const updates: Update[] = [];
    for (const start of starts) {
      const end = start + size;
      if (end + grace <= time) continue;
      const storeKey = windowKey(keyBytes, start);
      const current = open.get(storeKey.toString('latin1'));
      const base = current === undefined ? aggregator.init() : entryOf(current).agg;
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
    if (window.type !== 'session') throw new TypeError('not a session window');
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
    let base = first === undefined ? aggregator.init() : entryOf(first).agg;
    for (const s of rest) base = merge(base, entryOf(s).agg);
    const agg = aggregator.add(base, record.value, record.key);
    const storeKey = windowKey(keyBytes, start);
    const current = merged.find((s) => s.start === start);
    const others = merged.filter((s) => s !== current);
    return { storeKey, start, end, closeAt, agg, window: current, merged: others };
  };

  const write = (context: Context, record: AnyRecord, update: Update): void => {
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
    store.put(update.storeKey, { end: update.end, agg: update.agg } satisfies WindowEntry);
    if (spec.emit === 'updates') forward(context, w, update.agg);
  };

  const closeWindows = (context: Context): void => {
    for (const w of open.takeClosed(streamTime)) {
      if (spec.emit === 'final') forward(context, w, entryOf(w).agg);
      store.delete(w.storeKey);
    }
  };

  return {
    /** Rebuilds stream time and the index of open windows from the (possibly restored) store. */
    init(context) {
      open = new OpenWindows();
      streamTime = Number.NEGATIVE_INFINITY;
      lastRecordAt = lastAdvanceAt = context.clock.now();
      const extra = window.type === 'session' ? window.gapMs : 0;
      for (const [storeKey, value] of store.entries()) {
        if (storeKey.equals(streamTimeKey)) {
          streamTime = (value as StreamTimeEntry).streamTime;
          continue;
        }
        const { keyBytes, start } = parseWindowKey(storeKey);
        const { end } = value as WindowEntry;
        open.add({
          id: storeKey.toString('latin1'),
          storeKey,
          keyId: keyBytes.toString('latin1'),
          key: spec.key.deserialize(keyBytes, store.name),
          start,
          end,
          closeAt: end + extra + grace,
        });
      }
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
      const time = Math.max(streamTime, t);
      // Everything that can throw (lateness, the aggregator) runs before anything is written,
      // so a record that fails leaves the store and stream time as they were.
      const updates =
        window.type === 'session'
          ? [sessionUpdate(record, keyBytes, time)]
          : timeUpdates(record, keyBytes, time);
      advanceTo(time);
      lastRecordAt = lastAdvanceAt = context.clock.now();
      for (const update of updates) write(context, record, update);
      closeWindows(context);
    },

    /** On a quiet partition, stream time follows the wall clock once idleTimeoutMs has passed. */
    punctuate(now, context) {
      const idle = spec.idleTimeoutMs;
      if (idle !== undefined && Number.isFinite(streamTime) && now - lastRecordAt >= idle) {
        if (now > lastAdvanceAt) advanceTo(streamTime + (now - lastAdvanceAt));
        lastAdvanceAt = Math.max(lastAdvanceAt, now);
      }
      closeWindows(context);
    },
  };
}
