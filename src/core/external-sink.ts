/** A record as an external sink receives it: the stream's key, value and event time. */
export interface SinkRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
}

/**
 * A sink to a system outside Kafka (Cassandra). A task collects the records that reach the sink
 * while it processes a batch; the runtime writes them at commit step (1), before outputs,
 * changelogs and input offsets, so no offset is committed past a record not yet written. A
 * failed `write` is retried with backoff (the partition waits meanwhile), so writes must be
 * idempotent: the same records written twice leave the same rows (upserts keyed by what
 * identifies a result, such as (key, window start)).
 *
 * Members are function properties (as Serde's), so a sink's types are checked strictly.
 */
export interface ExternalSink<K, V> {
  /** Names the sink in metrics, logs and describe(): `cassandra:analytics.weather_hourly`. */
  readonly name: string;
  /** Once per worker, before it consumes: create tables, prepare statements. */
  readonly open: () => Promise<void>;
  /** Writes the records; resolves once they are durable, rejects if any was not written. */
  readonly write: (records: readonly SinkRecord<K, V>[]) => Promise<void>;
  /** Once per worker, after its tasks closed. */
  readonly close: () => Promise<void>;
}
