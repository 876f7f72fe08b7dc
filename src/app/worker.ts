import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { exitCodeOf, systemClock, TributaryError } from '../core/index.ts';
import type { Clock, Logger } from '../core/index.ts';
import { abortedFilterReplaced, createClient, defaultKafkaLibrary } from '../kafka/index.ts';
import type { KafkaLibrary, KafkaSasl, KafkaTls } from '../kafka/index.ts';
import { createMetrics, startMetricsServer } from '../metrics/index.ts';
import type { WorkerMetrics } from '../metrics/index.ts';
import { createRuntime } from '../runtime/index.ts';
import type { Guarantee, ReplicationSetting, Runtime } from '../runtime/index.ts';
import { withAppId } from '../topology/index.ts';
import type { Topology } from '../topology/index.ts';
import { createLogger } from './logger.ts';

export interface WorkerOptions {
  brokers: string[];
  /** SASL (PLAIN, SCRAM) and TLS to the brokers, passed to the Kafka client. */
  sasl?: KafkaSasl;
  tls?: KafkaTls;
  /** The Kafka client library (TRIBUTARY_KAFKA_CLIENT); default @platformatic/kafka (library.ts). */
  kafkaClient?: KafkaLibrary;
  /** Runs the topology under this application id instead of its own (see withAppId). */
  appId?: string;
  /**
   * Serve /metrics, /healthz and /readyz on this address (port 0: any free port). Without it
   * the worker still keeps its metrics (`worker.metrics`) but serves nothing.
   */
  metrics?: { host: string; port: number };
  /** Default `at_least_once`. */
  guarantee?: Guarantee;
  /** Replicas of the internal topics the worker creates; default 'auto' (min(3, brokers)). */
  replicationFactor?: ReplicationSetting;
  /**
   * Under exactly-once, how long a transaction collects batches before it commits: outputs
   * become visible to read_committed consumers at most this late. Default 100 ms (Kafka
   * Streams' default under exactly-once). At-least-once commits after every batch.
   */
  commitIntervalMs?: number;
  /** How often time-driven work runs (idle windows, idle transactions). Default 1,000 ms. */
  punctuateIntervalMs?: number;
  /** Where task stores live: `<stateDir>/<appId>/<taskId>/<store>`. Default `<tmpdir>/tributary`. */
  stateDir?: string;
  /**
   * MiB of memory for the entries of stores whose live copy is RocksDB (src/state/cached-store.ts),
   * shared by all of them. Default 64.
   */
  storeCacheMb?: number;
  /**
   * Standby replicas per stateful task: other workers keep a copy of its stores current from
   * its changelogs, so that a failover restores only the tail (src/runtime/standby.ts, decision
   * 0026). Default 0. Needs the default Kafka client (@platformatic/kafka), which also warms a
   * stateful task up on a new worker before it moves there, whatever this is.
   */
  standbyReplicas?: number;
  /** Records behind a changelog's end a standby may be and count as caught up. Default 10,000. */
  acceptableRecoveryLag?: number;
  /** Tasks warming up at once in the group. Default 2. */
  maxWarmupReplicas?: number;
  /** This worker's name in logs and its Kafka client id; default `<host>-<pid>`. */
  workerId?: string;
  /** The group drops a worker silent this long (Kafka's session.timeout.ms). Default 30 s. */
  sessionTimeoutMs?: number;
  /** How many partitions' batches are processed at once. Default 3. */
  concurrency?: number;
  /** Largest fetch per partition and round. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** After SIGTERM, the worker exits 1 if it has not stopped within this time. Default 30 s. */
  shutdownTimeoutMs?: number;
  /**
   * How long start-up waits for the brokers to answer (logging each attempt) before the worker
   * fails with KAFKA_UNAVAILABLE. Default: indefinitely, as a container under an orchestrator
   * that starts Kafka alongside it wants.
   */
  kafkaWaitTimeoutMs?: number;
  logLevel?: string;
  logger?: Logger;
  clock?: Clock;
}

export interface Worker {
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  /** Where /metrics is served, when it is. */
  readonly metricsAddress: { host: string; port: number } | undefined;
  stop(): Promise<void>;
}

/** Connects a topology's plan to Kafka and starts consuming. */
export async function startWorker(topology: Topology, options: WorkerOptions): Promise<Worker> {
  const { plan } = options.appId === undefined ? topology : withAppId(topology, options.appId);
  const workerId = options.workerId ?? `${hostname()}-${process.pid}`;
  const logger =
    options.logger ??
    createLogger({
      app: plan.appId,
      worker: workerId,
      ...(options.logLevel === undefined ? {} : { level: options.logLevel }),
    });
  const kafkaClient = options.kafkaClient ?? defaultKafkaLibrary;
  const client = createClient(kafkaClient, {
    brokers: options.brokers,
    clientId: `${plan.appId}-${workerId}`,
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  const guarantee = options.guarantee ?? 'at_least_once';
  // kafkajs loaded before Tributary keeps its own filter of aborted transactions, which lets
  // aborted records through (src/kafka/kafkajs.ts): exactly-once cannot hold on it.
  if (guarantee === 'exactly_once' && kafkaClient === 'kafkajs' && !abortedFilterReplaced)
    throw new TributaryError(
      'CONFIG_INVALID',
      'exactly_once needs kafkajs loaded through Tributary: import tributary before kafkajs (kafkajs alone lets records of aborted transactions through)',
    );
  const standbyReplicas = options.standbyReplicas ?? 0;
  if (standbyReplicas > 0 && kafkaClient === 'kafkajs')
    throw new TributaryError(
      'CONFIG_INVALID',
      'TRIBUTARY_STANDBY_REPLICAS needs the default Kafka client: kafkajs cannot carry standby tasks in its assignments (set TRIBUTARY_KAFKA_CLIENT=platformatic or TRIBUTARY_STANDBY_REPLICAS=0)',
    );
  const metrics = createMetrics({ app: plan.appId, guarantee });
  const commitIntervalMs = options.commitIntervalMs ?? 100;
  const runtime = createRuntime({
    plan,
    guarantee,
    commitIntervalMs,
    punctuateIntervalMs: options.punctuateIntervalMs ?? 1000,
    stateDir: options.stateDir ?? join(tmpdir(), 'tributary'),
    storeCacheBytes: (options.storeCacheMb ?? 64) * 1024 * 1024,
    admin: client.topicAdmin(),
    replicationFactor: options.replicationFactor ?? 'auto',
    producer: client.recordProducer(),
    // A zombie's open transaction is aborted after this even if no new owner fences it.
    transactionalProducer: (taskId) =>
      client.transactionalProducer(
        `${plan.appId}-${taskId}`,
        Math.max(10_000, commitIntervalMs * 10),
      ),
    reader: client.changelogReader(),
    ...(plan.globalTables.length === 0 ? {} : { follower: client.topicFollower(plan.appId) }),
    standbyReplicas,
    ...(options.acceptableRecoveryLag === undefined
      ? {}
      : { acceptableRecoveryLag: options.acceptableRecoveryLag }),
    ...(options.maxWarmupReplicas === undefined
      ? {}
      : { maxWarmupReplicas: options.maxWarmupReplicas }),
    consumer: (groupOf, replicas) =>
      client.batchConsumer({
        groupId: plan.appId,
        groupOf,
        ...(replicas === undefined ? {} : { replicas }),
        sessionTimeoutMs,
        heartbeatIntervalMs: Math.max(500, Math.floor(sessionTimeoutMs / 10)),
        concurrency: options.concurrency ?? 3,
        maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      }),
    clock: options.clock ?? systemClock,
    logger,
    telemetry: metrics.telemetry,
    brokerWait: {
      brokers: options.brokers,
      ...(options.kafkaWaitTimeoutMs === undefined ? {} : { limitMs: options.kafkaWaitTimeoutMs }),
    },
  });
  metrics.observe(
    () => runtime.snapshot(),
    () => runtime.consumerLag(),
  );
  // Serving starts before the group is joined: /healthz answers at once, /readyz once ready.
  const server =
    options.metrics === undefined
      ? undefined
      : await startMetricsServer({
          ...options.metrics,
          metrics,
          health: {
            alive: () => runtime.state !== 'failed',
            ready: () => runtime.snapshot().ready,
            state: () => runtime.state,
          },
        });
  const metricsAddress =
    server === undefined ? undefined : { host: server.host, port: server.port };
  try {
    await runtime.start();
  } catch (error) {
    await server?.close();
    throw error;
  }
  logger.info(
    {
      topics: plan.sourceTopics,
      guarantee,
      kafkaClient,
      ...(metricsAddress && { metrics: metricsAddress }),
    },
    'worker started',
  );
  return {
    runtime,
    logger,
    metrics,
    metricsAddress,
    async stop() {
      try {
        await runtime.stop();
      } finally {
        await server?.close();
      }
    },
  };
}

/**
 * Runs a worker until SIGTERM or SIGINT: then it stops fetching, finishes and commits the
 * batches in flight, leaves the group and exits 0; if that takes longer than the shutdown
 * timeout it exits 1. A fatal error (an operator with the `fail` policy) exits 1.
 */
export async function runWorker(topology: Topology, options: WorkerOptions): Promise<Worker> {
  const worker = await startWorker(topology, options);
  const timeoutMs = options.shutdownTimeoutMs ?? 30_000;
  let stopping = false;
  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    worker.logger.info({ reason }, 'worker stopping');
    const timer = setTimeout(() => {
      const error = new TributaryError(
        'SHUTDOWN_TIMEOUT',
        `worker did not stop within ${timeoutMs} ms`,
      );
      worker.logger.error({ code: error.code }, error.message);
      process.exit(exitCodeOf(error));
    }, timeoutMs);
    timer.unref();
    try {
      await worker.stop();
      worker.logger.info({ ...worker.runtime.stats().totals }, 'worker stopped');
      process.exit(code);
    } catch (error) {
      worker.logger.error({ err: error }, 'worker stop failed');
      process.exit(exitCodeOf(error));
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  // The failure's domain decides the exit code (1 for any run-time failure but a config error).
  void worker.runtime.failure.then((error) =>
    shutdown(`failed: ${error.message}`, exitCodeOf(error)),
  );
  return worker;
}
