import { replayedFromHeader, TributaryError } from '../core/index.ts';
import type { Processor } from '../core/index.ts';
import type { Serde } from '../serde/index.ts';
import type { SeenStore } from '../state/index.ts';

// Deduplication: a record whose (key, id) was seen before is dropped. The id is the record's
// event time unless the step gives an id function.
//
// What is seen is kept per key in a SeenStore (src/state/seen-store.ts, which has the layout),
// and forgotten by the key's own event time: once the largest event time of a key's records
// reaches an entry's time + retentionMs, the entry is gone. Per key, not per partition, because
// input is often ordered by entity (a backfill sends one location's ten days, then the next
// location's): by partition time the second location's entries would be forgotten at once.
// Each key's entries are in time order, so forgetting pops from the front of that key's list,
// and only when the key's time moves on; nothing ever scans all keys.
//
// A record older than its key's time - retentionMs cannot be judged (what it would duplicate is
// forgotten): it is passed on unchecked and not remembered, and a windowed aggregate downstream
// whose size + grace fits in the retention finds it late.
//
// A record that carries the replay header (replayedFromHeader) is let through although seen:
// `tributary dlq replay` republishes dead letters, which this step saw before a later step
// (a late window, a failing aggregator) rejected them; dropping them would make a replay useless.
//
// A key that stops sending keeps its last retentionMs of entries until it sends again (its time
// does not move without it); the memory is bounded by the number of keys, not by time.

/** What the dedup operator needs of its plan node (the plan's `dedup` node is assignable to it). */
export interface DedupSpec {
  /** The operator's name, for error messages. */
  readonly name: string;
  /** Encodes the key into store keys. */
  readonly key: Serde<unknown>;
  /** Event-time ms a key keeps an entry after the entry's time. */
  readonly retentionMs: number;
  /** Called `(value, key)`: the record's id within its key. Undefined: its event time. */
  readonly id: ((value: unknown, key: unknown) => unknown) | undefined;
}

/** Counters of one dedup operator instance (records in = forwarded + duplicates). */
export interface DedupStats {
  /** Records dropped as duplicates. */
  duplicates: number;
  /** Records older than their key's time - retention, passed on unchecked. */
  unchecked: number;
}

export type DedupProcessor = Processor<unknown, unknown, unknown, unknown> & {
  readonly stats: DedupStats;
};

/** Ids are stored as UTF-8 with a 2-byte length. */
const maxIdBytes = 0xffff;

export function dedupOperator(spec: DedupSpec, store: SeenStore): DedupProcessor {
  const retention = spec.retentionMs;
  const stats: DedupStats = { duplicates: 0, unchecked: 0 };
  if (store.withIds !== (spec.id !== undefined)) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `dedup '${spec.name}': its store '${store.name}' ${store.withIds ? 'keeps' : 'does not keep'} ids, but the step ${spec.id === undefined ? 'has no' : 'has an'} id function`,
    );
  }
  const idOf = (value: unknown, key: unknown): string | undefined => {
    if (spec.id === undefined) return undefined;
    const id = spec.id(value, key);
    if (typeof id === 'number' && Number.isFinite(id)) return String(id);
    if (typeof id === 'string' && Buffer.byteLength(id, 'utf8') <= maxIdBytes) return id;
    throw new TributaryError(
      'OPERATOR_FAILED',
      `the id function of dedup '${spec.name}' returned ${typeof id === 'string' ? `a string of ${Buffer.byteLength(id, 'utf8')} bytes` : String(id)}: ids are strings of at most ${maxIdBytes} bytes or finite numbers`,
    );
  };
  return {
    stats,
    process(record, context) {
      const t = record.timestamp;
      if (!Number.isSafeInteger(t) || t < 0) {
        throw new TributaryError(
          'OPERATOR_FAILED',
          `dedup '${spec.name}' got a record with event time ${t}: it keeps whole milliseconds since the epoch (check the source's timestamp extractor)`,
        );
      }
      const keyBytes = spec.key.serialize(record.key, store.name);
      if (keyBytes === null) {
        throw new TributaryError(
          'SERDE_NULL',
          `dedup '${spec.name}' got a record whose key encodes to null; it deduplicates per key, so give records one (map or keyBy)`,
        );
      }
      const id = idOf(record.value, record.key);
      const entries = store.entriesOf(keyBytes.toString('latin1'), keyBytes);
      const seen = entries.has(t, id);
      if (seen && record.headers[replayedFromHeader] === undefined) {
        stats.duplicates++;
        return;
      }
      if (seen) {
        // A dead letter replayed by `tributary dlq replay`: seen here, then rejected downstream.
        context.forward(record);
        return;
      }
      const latest = entries.latest;
      if (t + retention <= latest) {
        stats.unchecked++;
      } else {
        store.add(entries, t, id);
        if (t > latest) store.forgetUpTo(entries, t - retention);
      }
      context.forward(record);
    },
  };
}
