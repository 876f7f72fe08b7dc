// The oracle of the TTL dedup processor (fixtures/ttl-dedup.ts), computed from the input alone
// with plain maps and loops, none of the runtime's or the stores' code: per partition in offset
// order, the largest event time seen so far is the stream time; after each record every session
// whose first time + TTL the stream time has reached is summarised, earliest first (then by
// device).
import type { Output, Reading } from './fixtures/ttl-dedup.ts';
import { minuteMs } from './fixtures/ttl-dedup.ts';

interface OpenSession {
  first: number;
  count: number;
  sum: number;
  ids: Set<string>;
  minutes: Map<number, number>;
}

/** What the processor emits, per device, in order; `partitions` in offset order each. */
export function ttlDedupOracle(partitions: Reading[][], ttlMs: number): Map<string, Output[]> {
  const out = new Map<string, Output[]>();
  const emit = (o: Output): void => {
    const list = out.get(o.device) ?? [];
    list.push(o);
    out.set(o.device, list);
  };
  for (const records of partitions) {
    let streamTime = Number.NEGATIVE_INFINITY;
    const sessions = new Map<string, OpenSession>();
    for (const r of records) {
      streamTime = Math.max(streamTime, r.time);
      let s = sessions.get(r.device);
      if (s === undefined) {
        s = { first: r.time, count: 0, sum: 0, ids: new Set(), minutes: new Map() };
        sessions.set(r.device, s);
      }
      if (!s.ids.has(r.id)) {
        s.ids.add(r.id);
        s.count++;
        s.sum += r.v;
        const minute = r.time - (r.time % minuteMs);
        s.minutes.set(minute, (s.minutes.get(minute) ?? 0) + 1);
        emit({ kind: 'first', device: r.device, id: r.id, time: r.time, v: r.v });
      }
      const due = [...sessions]
        .filter(([, open]) => open.first + ttlMs <= streamTime)
        .sort(([a, x], [b, y]) => x.first + ttlMs - (y.first + ttlMs) || (a < b ? -1 : 1));
      for (const [device, open] of due) {
        sessions.delete(device);
        emit({
          kind: 'summary',
          device,
          first: open.first,
          count: open.count,
          sum: open.sum,
          ids: [...open.ids].sort(),
          perMinute: [...open.minutes].sort((a, b) => a[0] - b[0]),
        });
      }
    }
  }
  return out;
}
