import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type {
  PartitionLag,
  RuntimeSnapshot,
  StoreCacheSnapshot,
  Telemetry,
  WorkerTotals,
} from '../core/index.ts';

export interface MetricsOptions {
  app: string;
  guarantee: string;
  /** Node's process metrics (CPU, memory, event loop, GC); default true. */
  defaultMetrics?: boolean;
}

/** A worker's Prometheus registry: what the runtime pushes, and what it is asked for at scrape. */
export interface WorkerMetrics {
  readonly telemetry: Telemetry;
  /**
   * The source of the counters and gauges the runtime keeps, read at every scrape; and of the
   * consumer lag, asked of the brokers at most once a second.
   */
  observe(snapshot: () => RuntimeSnapshot, lag?: () => Promise<PartitionLag[]>): void;
  /** The exposition text and its content type. */
  render(): Promise<{ body: string; contentType: string }>;
}

const latencyBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * The metrics of DESIGN.md (Observability), prefixed `tributary_`, every series labelled with
 * the application. Label values are task ids, operator names, topics and partitions: bounded by
 * the topology and the partitions this worker owns. A task's series go when the task leaves this
 * worker, as Kafka Streams drops a revoked task's metrics.
 */
export function createMetrics(options: MetricsOptions): WorkerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app: options.app });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  let snapshot: () => RuntimeSnapshot | undefined = () => undefined;
  let lagSource: () => Promise<PartitionLag[]> = () => Promise.resolve([]);
  // Lag needs the brokers' end offsets: a scrape serves the last figures and starts a refresh
  // (at most one at a time, at most once a second), so a slow broker never slows a scrape.
  let lagCache: { at: number; value: PartitionLag[] } | undefined;
  let refreshing: Promise<void> | undefined;
  const refreshLag = (): Promise<void> => {
    refreshing ??= lagSource()
      .then(
        (value) => {
          lagCache = { at: Date.now(), value };
        },
        // A broker that does not answer keeps the last figures until it does.
        () => undefined,
      )
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };
  const currentLag = async (): Promise<PartitionLag[]> => {
    if (lagCache === undefined) await refreshLag();
    else if (Date.now() - lagCache.at > 1000) void refreshLag();
    return lagCache?.value ?? [];
  };
  // One snapshot per scrape, shared by every collector of that scrape.
  let cached: { at: number; value: RuntimeSnapshot | undefined } | undefined;
  const current = (): RuntimeSnapshot | undefined => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > 50) cached = { at: now, value: snapshot() };
    return cached.value;
  };
  const registers = [registry];

  const fromSnapshot = <L extends string>(
    metric: Counter<L> | Gauge<L>,
    fill: (
      s: RuntimeSnapshot,
      set: (labels: Record<L, string | number>, v: number) => void,
    ) => void,
  ): void => {
    const s = current();
    metric.reset();
    if (s === undefined) return;
    fill(s, (labels, value) => {
      if (metric instanceof Counter) metric.inc(labels, value);
      else metric.set(labels, value);
    });
  };

  new Counter({
    name: 'tributary_records_in_total',
    help: 'Records an operator received, per task and operator.',
    labelNames: ['task', 'operator'] as const,
    registers,
    collect() {
      fromSnapshot(this, (s, set) => {
        for (const t of s.tasks)
          for (const o of t.operators) set({ task: t.task, operator: o.operator }, o.recordsIn);
      });
    },
  });
  new Counter({
    name: 'tributary_records_out_total',
    help: 'Records an operator forwarded (a sink: wrote), per task and operator.',
    labelNames: ['task', 'operator'] as const,
    registers,
    collect() {
      fromSnapshot(this, (s, set) => {
        for (const t of s.tasks)
          for (const o of t.operators) set({ task: t.task, operator: o.operator }, o.recordsOut);
      });
    },
  });
  const batchLatency = new Histogram({
    name: 'tributary_process_latency_seconds',
    help: 'Time from a fetched batch handed to its task until its outputs are acknowledged and its offset committed (under exactly-once: added to the open transaction).',
    labelNames: ['task'] as const,
    buckets: latencyBuckets,
    registers,
  });
  new Gauge({
    name: 'tributary_consumer_lag',
    help: "Records between this worker's position in a source partition it owns and the partition's end.",
    labelNames: ['topic', 'partition'] as const,
    registers,
    async collect() {
      const lags = await currentLag();
      this.reset();
      for (const p of lags) this.set({ topic: p.topic, partition: p.partition }, p.lag);
    },
  });
  const commitDuration = new Histogram({
    name: 'tributary_commit_duration_seconds',
    help: 'Duration of a commit: outputs and changelogs acknowledged, input offsets committed, stores persisted.',
    labelNames: ['guarantee'] as const,
    buckets: latencyBuckets,
    registers,
  });
  new Gauge({
    name: 'tributary_watermark_seconds',
    help: "A task's stream time: the largest event time it has processed, in Unix seconds.",
    labelNames: ['task'] as const,
    registers,
    collect() {
      fromSnapshot(this, (s, set) => {
        for (const t of s.tasks)
          if (t.streamTimeMs !== undefined) set({ task: t.task }, t.streamTimeMs / 1000);
      });
    },
  });
  new Counter({
    name: 'tributary_late_records_total',
    help: "Records later than their window's grace period, per task.",
    labelNames: ['task'] as const,
    registers,
    collect() {
      fromSnapshot(this, (s, set) => {
        for (const t of s.tasks) set({ task: t.task }, t.late);
      });
    },
  });
  new Counter({
    name: 'tributary_dlq_records_total',
    help: 'Records sent to the dead-letter topic, per task.',
    labelNames: ['task'] as const,
    registers,
    collect() {
      fromSnapshot(this, (s, set) => {
        for (const t of s.tasks) set({ task: t.task }, t.deadLettered);
      });
    },
  });
  new Counter({
    name: 'tributary_restore_records_total',
    help: 'Changelog records read back into a store while its task was restored.',
    labelNames: ['task', 'store'] as const,
    registers,
    collect() {
      fromSnapshot(this, (s, set) => {
        for (const t of s.tasks)
          for (const [store, records] of t.restored) set({ task: t.task, store }, records);
      });
    },
  });
  // Worker-wide counters read from the snapshot (undefined: no series). The totals, unlike the
  // per-task series, keep the counts of closed and discarded tasks.
  const total =
    (value: (t: WorkerTotals) => number) =>
    (s: RuntimeSnapshot): number | undefined =>
      s.totals === undefined ? undefined : value(s.totals);
  const cache =
    (value: (c: StoreCacheSnapshot) => number) =>
    (s: RuntimeSnapshot): number | undefined =>
      s.storeCache === undefined ? undefined : value(s.storeCache);
  const workerCounters: [string, string, (s: RuntimeSnapshot) => number | undefined][] = [
    [
      'tributary_worker_records_processed_total',
      'Records processed by all tasks this worker ran, closed and discarded ones included.',
      total((t) => t.processed),
    ],
    [
      'tributary_worker_records_produced_total',
      'Records produced by all tasks this worker ran, closed and discarded ones included.',
      total((t) => t.produced),
    ],
    [
      'tributary_state_wipes_total',
      "Times a task's local state was found corrupt or inconsistent (see the warning log) and wiped, to be restored from the changelog.",
      total((t) => t.wiped),
    ],
    [
      'tributary_store_cache_hits_total',
      'Keys a batch reads that the cache of stores kept in RocksDB held (or knew absent).',
      cache((c) => c.hits),
    ],
    [
      'tributary_store_cache_misses_total',
      'Keys a batch reads that stores kept in RocksDB read from disk before the batch ran.',
      cache((c) => c.misses),
    ],
    [
      'tributary_store_cache_evictions_total',
      'Entries the cache of stores kept in RocksDB dropped to stay within TRIBUTARY_STORE_CACHE_MB.',
      cache((c) => c.evictions),
    ],
    [
      'tributary_standby_records_total',
      "Changelog records written to this worker's standby tasks' stores (TRIBUTARY_STANDBY_REPLICAS).",
      (s) => s.standby?.records,
    ],
  ];
  for (const [name, help, value] of workerCounters) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const s = current();
        const v = s === undefined ? undefined : value(s);
        if (v !== undefined) this.inc(v);
      },
    });
  }
  new Gauge({
    name: 'tributary_store_cache_bytes',
    help: 'Estimated bytes the cache of stores kept in RocksDB holds (limit: TRIBUTARY_STORE_CACHE_MB).',
    registers,
    collect() {
      this.set(current()?.storeCache?.bytes ?? 0);
    },
  });
  new Gauge({
    name: 'tributary_standby_tasks',
    help: 'Tasks this worker keeps as standby replicas (kind="warmup": those that move here once caught up).',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      const standby = current()?.standby;
      if (standby === undefined) return;
      this.set({ kind: 'standby' }, standby.tasks - standby.warmups);
      this.set({ kind: 'warmup' }, standby.warmups);
    },
  });
  new Gauge({
    name: 'tributary_tasks_restoring',
    help: 'Tasks being created: restoring their stores before they process.',
    registers,
    collect() {
      this.set(current()?.restoring ?? 0);
    },
  });
  new Gauge({
    name: 'tributary_tasks',
    help: 'Tasks this worker runs.',
    registers,
    collect() {
      this.set(current()?.tasks.length ?? 0);
    },
  });
  new Counter({
    name: 'tributary_rebalances_total',
    help: 'Assignments this worker received from the consumer group.',
    registers,
    collect() {
      this.reset();
      this.inc(current()?.rebalances ?? 0);
    },
  });
  const sinkErrors = new Counter({
    name: 'tributary_sink_write_errors_total',
    help: 'Failed attempts of a sink to write to its external system.',
    labelNames: ['sink'] as const,
    registers,
  });
  new Gauge({
    name: 'tributary_ready',
    help: '1 once the worker has joined its group and restored its tasks, else 0.',
    registers,
    collect() {
      this.set(current()?.ready === true ? 1 : 0);
    },
  });

  const guarantee = options.guarantee;
  return {
    telemetry: {
      batchProcessed: (task, seconds) => batchLatency.observe({ task }, seconds),
      committed: (seconds) => commitDuration.observe({ guarantee }, seconds),
      sinkWriteFailed: (sink) => sinkErrors.inc({ sink }),
    },
    observe(source, lag) {
      snapshot = source;
      if (lag !== undefined) lagSource = lag;
      cached = undefined;
      lagCache = undefined;
    },
    async render() {
      cached = undefined;
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
