/**
 * What a running worker reports, for the metrics layer to export. Events that need a
 * distribution (latencies) or happen outside the runtime (sink errors) are pushed through
 * `Telemetry`; counters and gauges the runtime keeps anyway are read from a `RuntimeSnapshot`
 * when metrics are collected, so the per-record path only increments plain numbers.
 */
export interface Telemetry {
  /** A fetched batch of a task took this long from hand-over to committed (or queued for commit). */
  batchProcessed(task: string, seconds: number, records: number): void;
  /** One commit (at-least-once: a batch's; exactly-once: a transaction's) took this long. */
  committed(seconds: number): void;
  /** A sink could not write to its external system (each failed attempt counts once). */
  sinkWriteFailed(sink: string): void;
}

export const noTelemetry: Telemetry = {
  batchProcessed: () => undefined,
  committed: () => undefined,
  sinkWriteFailed: () => undefined,
};

/** One operator of one task: records it received and records it passed on (or wrote). */
export interface OperatorSnapshot {
  operator: string;
  recordsIn: number;
  recordsOut: number;
}

export interface TaskSnapshot {
  task: string;
  operators: OperatorSnapshot[];
  /** Largest event time seen by the task (ms since the epoch), undefined before its first record. */
  streamTimeMs: number | undefined;
  late: number;
  deadLettered: number;
  /** Changelog records read back into each store. */
  restored: Map<string, number>;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Records between this worker's position (or the group's committed offset) and the end. */
  lag: number;
}

/** Counters summed over every task the worker ran, including those closed or discarded. */
export interface WorkerTotals {
  processed: number;
  produced: number;
  deadLettered: number;
  skipped: number;
  late: number;
  restored: number;
  /** Times a task's local state was found corrupt or inconsistent and wiped. */
  wiped: number;
}

/** Reads of cached stores' entries: from memory (hits) or from RocksDB (misses). */
export interface StoreCacheSnapshot {
  hits: number;
  misses: number;
  /** Entries dropped from memory to stay within the budget. */
  evictions: number;
  /** Estimated bytes the cached entries hold now. */
  bytes: number;
  limitBytes: number;
}

/** The tasks a worker keeps as standby replicas (src/runtime/standby.ts). */
export interface StandbySnapshot {
  /** Standby tasks now, warm-ups among them. */
  tasks: number;
  warmups: number;
  /** Changelog records written to standbys' stores since the worker started. */
  records: number;
}

export interface RuntimeSnapshot {
  tasks: TaskSnapshot[];
  /** Worker-wide counters, which unlike the per-task ones survive a task's close. */
  totals?: WorkerTotals;
  rebalances: number;
  /** Tasks being created (restoring their stores). */
  restoring: number;
  /** Joined the group, every assigned task restored, not stopping. */
  ready: boolean;
  /** The stores kept in RocksDB behind a bounded cache (src/state/cached-store.ts). */
  storeCache?: StoreCacheSnapshot;
  /** Present when the worker keeps standby replicas (TRIBUTARY_STANDBY_REPLICAS > 0). */
  standby?: StandbySnapshot;
}
