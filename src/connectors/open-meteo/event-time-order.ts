import type { ObservationRecord } from './observation.ts';

/**
 * The records merged by event time, one hour at several locations ordered by location id (code
 * unit order, the same on every machine and locale). Published in this order, a topic partition
 * that carries several locations receives a non-decreasing event time, which a topology with
 * per-partition stream time needs: a location published after another one's later hours would
 * arrive late. Sorting is stable, so a location's own hours keep their order.
 */
export function inEventTimeOrder(records: readonly ObservationRecord[]): ObservationRecord[] {
  return [...records].sort(
    (a, b) => a.value.time - b.value.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}
