// The expected result of a tumbling summary per device, computed directly from the published
// readings as a batch job would, with no code of the operator: the rules as stated.
//
// - Where each reading lands: the Java client's partitioner (murmur2 of the key), at the next
//   offset of its partition, in publish order.
// - The clock: per key, a device's time is the largest event time of its readings so far (in
//   publish order, which is its partition's offset order); per partition, the largest event time
//   of any reading of the partition so far (Kafka Streams' stream time).
// - A reading is late when its window [start, start + size) has end + grace <= the clock,
//   the reading itself included; late readings count in no window.
// - A window is emitted once, when the clock passes end + grace: the oracle's windows are those
//   closed by the clock's final value.
// - A reading marked `duplicate` (a copy sent again within the deduplication's retention) takes
//   its place in its partition and counts nowhere else: it is dropped before the windows, and
//   its event time equals one already seen, so it moves no clock.
import { partitionForKey } from '../../src/kafka/index.ts';
import type { Summary } from '../../src/topology/index.ts';
import type { Reading, ScenarioWindow, TimeMode } from './disorder-scenarios.ts';

/** Where a reading was written: `partition/offset`. */
export type Position = `${number}/${number}`;

export interface DisorderOracle {
  /** `device@windowStart` -> summary, for every window that closes. */
  windows: Map<string, Summary>;
  /** The late readings by position. */
  late: Map<Position, Reading>;
  /** Every reading by position. */
  positions: Map<Position, Reading>;
  /** Readings per partition: the end offset of each. */
  partitionSizes: number[];
}

export const windowId = (device: string, start: number): string => `${device}@${start}`;

interface Accumulator {
  clock: string;
  end: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

export function disorderOracle(
  readings: Reading[],
  partitions: number,
  window: ScenarioWindow,
  mode: TimeMode,
): DisorderOracle {
  const { sizeMs, graceMs } = window;
  const partitionSizes = new Array<number>(partitions).fill(0);
  const clocks = new Map<string, number>();
  const open = new Map<string, Accumulator>();
  const late = new Map<Position, Reading>();
  const positions = new Map<Position, Reading>();
  for (const r of readings) {
    const partition = partitionForKey(r.device, partitions);
    const offset = partitionSizes[partition] ?? 0;
    partitionSizes[partition] = offset + 1;
    const position: Position = `${partition}/${offset}`;
    positions.set(position, r);
    // A copy sent again within the deduplication's retention: dropped before the windows.
    if (r.duplicate === true) continue;
    const clock = mode === 'key' ? `key ${r.device}` : `partition ${partition}`;
    const time = Math.max(clocks.get(clock) ?? Number.NEGATIVE_INFINITY, r.time);
    clocks.set(clock, time);
    const start = r.time - (r.time % sizeMs);
    if (start + sizeMs + graceMs <= time) {
      late.set(position, r);
      continue;
    }
    const id = windowId(r.device, start);
    const w = open.get(id);
    if (w === undefined) {
      open.set(id, {
        clock,
        end: start + sizeMs,
        count: 1,
        sum: r.value,
        min: r.value,
        max: r.value,
      });
    } else {
      w.count += 1;
      w.sum += r.value;
      w.min = Math.min(w.min, r.value);
      w.max = Math.max(w.max, r.value);
    }
  }
  const windows = new Map<string, Summary>();
  for (const [id, w] of open) {
    if (w.end + graceMs > (clocks.get(w.clock) ?? Number.NEGATIVE_INFINITY)) continue;
    windows.set(id, { count: w.count, sum: w.sum, min: w.min, max: w.max, mean: w.sum / w.count });
  }
  return { windows, late, positions, partitionSizes };
}
