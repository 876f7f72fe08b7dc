import { TributaryError } from '../core/index.ts';
import {
  backoffMs,
  classifyKafkaError,
  groupOnly,
  isTimestampRefused,
  kafka4TimestampLimits,
  rootCause,
} from '../kafka/index.ts';
import type {
  Clock,
  Logger,
  PartitionLag,
  RuntimeSnapshot,
  TaskId,
  Telemetry,
} from '../core/index.ts';
import type {
  BatchConsumer,
  BatchConsumerOptions,
  ChangelogReader,
  TopicFollower,
  FetchedBatch,
  RecordProducer,
  TopicAdmin,
  TopicPartition,
  TransactionalProducer,
} from '../kafka/index.ts';
import { checkStateDirWritable, isFatalStateError, StoreCacheBudget } from '../state/index.ts';
import type { AnyExternalSink, Plan } from '../topology/plan.ts';
import { atLeastOnceCommitter, exactlyOnceCommitter } from './commit.ts';
import { externalWriter } from './external-writes.ts';
import type { Committer, TaskHandle } from './commit.ts';
import { GlobalTables } from './global-tables.ts';
import { prepareTopics } from './internal-topics.ts';
import type { ReplicationSetting } from './internal-topics.ts';
import { pollLoop } from './poll-loop.ts';
import type { HaltError } from './processor-node.ts';
import { onAssignment } from './rebalance.ts';
import { StandbyTasks } from './standby.ts';
import { TaskRegistry } from './task-registry.ts';
import { TimestampGuard } from './timestamp-range.ts';
import { initSerdes, prepareBatch as prepareTopicBatch, serdesByTopic } from './topic-serdes.ts';
import type { TaskStats } from './task.ts';

export type Guarantee = 'at_least_once' | 'exactly_once';

export interface RuntimeDeps {
  plan: Plan;
  guarantee: Guarantee;
  /** Under exactly-once: how long a transaction stays open (outputs become visible at its commit). */
  commitIntervalMs: number;
  /** How often operators' punctuate hooks run and idle transactions commit. */
  punctuateIntervalMs: number;
  stateDir: string;
  /** The worker's memory for cached stores (cached-store.ts); default 64 MiB. */
  storeCacheBytes?: number;
  admin: TopicAdmin;
  /** Replicas of the internal topics the worker creates; default 'auto' (min(3, brokers)). */
  replicationFactor?: ReplicationSetting;
  /** The shared producer under at-least-once. */
  producer: RecordProducer;
  transactionalProducer: (taskId: TaskId) => TransactionalProducer;
  reader: ChangelogReader;
  /** Reads the global tables' topics (needed when the plan has global tables). */
  follower?: TopicFollower;
  /**
   * Made once the plan is known: the consumer's assigner needs the topic -> sub-topology map,
   * and with standby replicas their settings and this worker's report (standby.ts).
   */
  consumer: (
    groupOf: (topic: string) => number | undefined,
    replicas?: BatchConsumerOptions['replicas'],
  ) => BatchConsumer;
  /**
   * Standby replicas per stateful task (Kafka Streams' num.standby.replicas); 0 (the default)
   * keeps none. Warm-ups before a stateful task moves to a new worker happen anyway (decision
   * 0026), where the consumer's adapter carries them.
   */
  standbyReplicas?: number;
  /** Records behind the changelog end a standby may be and still count as caught up; 10,000. */
  acceptableRecoveryLag?: number;
  /** Warm-ups at most at once in the group; 2. */
  maxWarmupReplicas?: number;
  clock: Clock;
  logger: Logger;
  telemetry: Telemetry;
  /**
   * Start-up waits for the brokers (named in its log lines) while they do not answer: for at
   * most `limitMs` (then start fails with KAFKA_UNAVAILABLE), or indefinitely without a limit.
   */
  brokerWait?: { brokers: string[]; limitMs?: number };
}

/**
 * Runtime states:
 *
 *   created --start--> starting --first assignment--> running --stop--> stopping --> stopped
 *                          \                              |
 *                           +--------- (error) -----------+--> failed
 */
export type RuntimeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface Runtime {
  readonly state: RuntimeState;
  /** Resolves once topics are prepared and the worker is consuming. */
  start(): Promise<void>;
  /** Resolves after the first assignment (joined the group, tasks created and restored). */
  readonly assigned: Promise<void>;
  /** Stops fetching, commits what the tasks have open, closes them and leaves the group. */
  stop(): Promise<void>;
  /** Resolves with the error that stopped the worker, if one does. */
  readonly failure: Promise<Error>;
  stats(): { tasks: string[]; totals: TaskStats };
  /** Counters and gauges for the metrics layer (per task and operator, readiness). */
  snapshot(): RuntimeSnapshot;
  /** Consumer lag of every source partition owned, against the partitions' current ends. */
  consumerLag(): Promise<PartitionLag[]>;
}

function externalSinksOf(plan: Plan): AnyExternalSink[] {
  const sinks = new Set<AnyExternalSink>();
  for (const sub of plan.subtopologies)
    for (const node of sub.nodes) if (node.kind === 'external') sinks.add(node.sink);
  return [...sinks];
}

/** Opens the external sinks at start: a few attempts with backoff, then start-up fails. */
async function openSinks(sinks: AnyExternalSink[], logger: Logger, clock: Clock): Promise<void> {
  for (const sink of sinks) {
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.open();
        break;
      } catch (error) {
        if (attempt >= 5) {
          throw new TributaryError(
            'SINK_WRITE_FAILED',
            `sink ${sink.name} could not be opened after ${attempt} attempts: ${(error as Error).message}`,
            { cause: error },
          );
        }
        logger.warn({ sink: sink.name, attempt, err: error }, 'opening sink failed; retrying');
        await clock.sleep(1000 * attempt);
      }
    }
  }
}

export function createRuntime(deps: RuntimeDeps): Runtime {
  const { plan, admin, producer, logger, clock } = deps;
  const exactlyOnce = deps.guarantee === 'exactly_once';
  const consumerRef: { current?: BatchConsumer } = {};
  const sinks = externalSinksOf(plan);
  const stoppingNow = (): boolean =>
    state === 'stopping' || state === 'stopped' || state === 'failed';
  const flushExternal = externalWriter({
    clock,
    stopping: stoppingNow,
    telemetry: deps.telemetry,
    logger,
  });
  const committer: Committer = exactlyOnce
    ? exactlyOnceCommitter({
        groupId: plan.appId,
        currentGroup: () => consumerRef.current?.groupMetadata() ?? groupOnly(plan.appId),
        commitIntervalMs: deps.commitIntervalMs,
        clock,
        logger,
        telemetry: deps.telemetry,
        flushExternal,
        rebalancing: () => consumerRef.current?.rebalancing?.() === true,
      })
    : atLeastOnceCommitter(
        producer,
        async (offsets) => {
          // The consumer is made after the registry (its assigner needs the registry's topics).
          await consumerRef.current?.commit(offsets);
        },
        deps.telemetry,
        flushExternal,
      );
  const timestamps = new TimestampGuard(clock);
  /** The topics written with records' own timestamps: sinks (outputs, repartition) and the DLQ. */
  const stampedTopics = [
    ...new Set([...plan.subtopologies.flatMap((sub) => sub.sinkTopics), plan.dlqTopic]),
  ];
  const globals = new GlobalTables(plan.globalTables, logger, deps.follower);
  const storeCache = new StoreCacheBudget(deps.storeCacheBytes ?? 64 * 1024 * 1024);
  const registry = new TaskRegistry({
    storeCache,
    timestamps,
    globals,
    prepareBatch: (batch) => prepareTopicBatch(serdes.get(batch.topic), batch),
    plan,
    clock,
    logger,
    location: { stateDir: deps.stateDir, appId: plan.appId },
    reader: deps.reader,
    admin,
    committer,
    ...(exactlyOnce
      ? {
          transactionalProducer: deps.transactionalProducer,
          groupMetadata: () => consumer.groupMetadata(),
        }
      : {}),
  });
  // Standbys and warm-ups (decision 0026): a stateful task moves to a worker only once that
  // worker has caught up with its changelogs, and with standbyReplicas > 0 other workers keep
  // its stores current. An adapter that cannot carry them (kafkajs) ignores these settings.
  const standbys = new StandbyTasks({
    plan,
    location: { stateDir: deps.stateDir, appId: plan.appId },
    reader: deps.reader,
    logger,
    acceptableLag: deps.acceptableRecoveryLag ?? 10_000,
    intervalMs: 1000,
    onCaughtUp: () => consumerRef.current?.probe?.(),
  });
  const statefulSubs = new Set(
    plan.subtopologies.filter((sub) => sub.stores.length > 0).map((sub) => sub.id),
  );
  const consumer = deps.consumer((topic) => registry.subtopologyOf(topic), {
    standbyReplicas: deps.standbyReplicas ?? 0,
    maxWarmups: deps.maxWarmupReplicas ?? 2,
    stateful: (sub) => statefulSubs.has(sub),
    report: () => standbys.report(),
  });
  consumerRef.current = consumer;
  const serdes = serdesByTopic(plan);
  let state: RuntimeState = 'created';
  let markAssigned: () => void = () => undefined;
  const assigned = new Promise<void>((resolve) => (markAssigned = resolve));
  let fail: (error: Error) => void = () => undefined;
  const failure = new Promise<Error>((resolve) => (fail = resolve));
  let ticker: NodeJS.Timeout | undefined;
  let ticking = false;
  /** The source partitions owned, and the next offset to process of those processed so far. */
  let owned: TopicPartition[] = [];
  const positions = new Map<string, bigint>();
  let rebalances = 0;
  let assigning = 0;
  /** False from a Kafka fault until a batch or an assignment succeeds again (readiness). */
  let connected = false;
  /** From a fence or a lost membership to the next assignment: no task is created. */
  let rejoining = false;

  const prepareBatch = (batch: FetchedBatch): Promise<void> =>
    prepareTopicBatch(serdes.get(batch.topic), batch);
  const failWith = (error: Error): void => {
    if (state === 'failed') return;
    state = 'failed';
    fail(error);
  };
  /** Whether the full or unwritable state directory was reported (once per worker). */
  let fatalStateLogged = false;
  /** A full or unwritable state directory: no retry can help, the worker stops (exit 1). */
  const failOnFatalState = (error: unknown): boolean => {
    if (!isFatalStateError(error)) return false;
    // Once: the other tasks meet the same disk, at assignment or in a batch, also while the
    // worker is already stopping (state 'stopping', no longer 'failed').
    if (!fatalStateLogged) logger.error({ code: error.code }, error.message);
    fatalStateLogged = true;
    failWith(error);
    return true;
  };
  /**
   * Under exactly-once a discarded task's transaction was aborted, and it may have held batches
   * the consumer had already moved past (a transaction spans a commit interval's batches): its
   * partitions are fetched again from the first offset it had not committed, or those batches
   * would be skipped. (A rejoin needs none of this: positions then come from committed offsets.)
   */
  const rewind = (handle: TaskHandle): void => {
    if (!exactlyOnce) return;
    for (const [key, offset] of handle.restartFrom) {
      const at = key.lastIndexOf('/');
      const tp = { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
      try {
        consumer.seek(tp, offset);
      } catch (error) {
        // The consumer is not running (stopping or restarting): it then starts from the
        // committed offsets anyway.
        logger.debug(
          { err: error, task: handle.task.id },
          'no rewind: the consumer is not running',
        );
      }
    }
  };
  const loop = pollLoop({
    registry,
    committer,
    prepareBatch,
    stopping: stoppingNow,
    rejoining: () => rejoining,
    telemetry: deps.telemetry,
    corrupted: async (handle, error, why) => {
      // Sought back first: a batch fetched meanwhile is then stale and left, not run on a
      // successor task past the aborted batches.
      rewind(handle);
      await registry.discard(handle, error, why);
      if (!failOnFatalState(error)) await afterTimestampRefusal(error);
    },
    position: (topic, partition, next) => {
      positions.set(`${topic}/${partition}`, next);
    },
    halt: (error: HaltError) => {
      logger.error({ operator: error.operator, err: error.cause }, error.message);
      failWith(error);
    },
  });
  /**
   * A commit of punctuation failed (its task is discarded already): a fence or a lost
   * membership loses every task and makes the next batch rejoin the group, as a failed batch
   * does (consumer.ts); a retriable fault waits for the partition's next batch to rebuild the
   * task; a fatal one stops the worker.
   */
  const afterTickFault = (error: unknown): void => {
    const kind = classifyKafkaError(error);
    connected = false;
    logger.warn({ cause: rootCause(error) }, `Kafka fault (${kind}) in an interval commit`);
    if (kind === 'fatal') failWith(error instanceof Error ? error : new Error(String(error)));
    else if (kind !== 'retriable' && !rejoining) {
      rejoining = true;
      void registry.loseAll(error);
    }
  };
  /**
   * Reads the timestamp limits of the topics written (at start, and after the broker refused a
   * timestamp). Where the configs cannot be read (describeConfigs not allowed), Kafka 4's
   * defaults are assumed; a retriable fault is thrown to the start-up's wait for Kafka.
   */
  const readTimestampLimits = async (): Promise<void> => {
    let limits;
    try {
      limits = await admin.timestampLimits(stampedTopics);
    } catch (error) {
      if (classifyKafkaError(error) === 'retriable') throw error;
      logger.warn(
        { cause: rootCause(error) },
        "the timestamp limits of the output topics could not be read (describeConfigs); assuming Kafka 4's defaults (at most 1 h ahead of the broker's clock)",
      );
      limits = new Map(stampedTopics.map((t) => [t, kafka4TimestampLimits]));
    }
    timestamps.update(limits);
  };
  /**
   * The broker refused a timestamp the check let through (the batch's task is discarded
   * already, and its batch is retried with backoff): the worker's and the broker's clocks
   * differ, or a topic's limits changed. Re-read the limits and widen the clock allowance, so
   * the retried batch dead-letters what the broker refuses (timestamp-range.ts).
   */
  const afterTimestampRefusal = async (error: unknown): Promise<void> => {
    if (!isTimestampRefused(error)) return;
    const allowanceMs = timestamps.widen();
    await readTimestampLimits().catch(() => undefined);
    logger.warn(
      { skewAllowanceMs: allowanceMs, cause: rootCause(error) },
      `the broker refused a record's timestamp that this worker's clock found in range: the clocks differ (check NTP) or a topic's limits changed; records within ${allowanceMs} ms of a limit now go to the dead-letter topic`,
    );
  };
  /** Punctuation: time-driven output (idle windows) and commits of idle transactions. */
  let tickSince = 0;
  let tickWarned = false;
  const tick = async (): Promise<void> => {
    if (ticking) {
      // Punctuation waits for each task's batch in flight; one that never ends stalls commits.
      const waited = Date.now() - tickSince;
      if (waited > 30_000 && !tickWarned) {
        tickWarned = true;
        const now = performance.now();
        const holders = registry.all.flatMap(({ task }) =>
          task.holder === undefined
            ? []
            : [`${task.id}: ${task.holder.what}, for ${Math.round(now - task.holder.since)} ms`],
        );
        logger.warn(
          { ms: waited, tasks: registry.all.map((h) => h.task.id), holders },
          'punctuation and interval commits have been waiting for a task for over 30 s',
        );
      }
      return;
    }
    if (state !== 'running') return;
    ticking = true;
    tickSince = Date.now();
    tickWarned = false;
    try {
      const now = clock.now();
      await Promise.all(
        registry.all.map((handle: TaskHandle) =>
          handle.task.exclusive(async () => {
            if (registry.get(handle.task.id) !== handle) return;
            const produced = handle.task.punctuate(now);
            try {
              await committer.tick(handle, produced);
            } catch (error) {
              rewind(handle);
              await registry.discard(handle, error);
              if (!failOnFatalState(error)) {
                await afterTimestampRefusal(error);
                afterTickFault(error);
              }
            }
          }, 'punctuation and interval commit'),
        ),
      );
    } catch (error) {
      logger.error({ err: error }, 'punctuation or interval commit failed');
    } finally {
      ticking = false;
    }
  };

  /**
   * Runs a start-up step until Kafka answers it: a retriable fault (faults.ts: brokers down or
   * not up yet, a coordinator not found) is retried with backoff and logged per attempt; any
   * other error, or the wait limit passed, fails the start.
   */
  const untilKafkaAnswers = async (step: string, run: () => Promise<void>): Promise<void> => {
    const began = clock.now();
    const limitMs = deps.brokerWait?.limitMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await run();
        return;
      } catch (error) {
        if (classifyKafkaError(error) !== 'retriable' || stoppingNow()) throw error;
        const waited = clock.now() - began;
        const brokers = deps.brokerWait?.brokers.join(',') ?? 'the brokers';
        if (limitMs !== undefined && waited >= limitMs) {
          throw new TributaryError(
            'KAFKA_UNAVAILABLE',
            `Kafka at ${brokers} did not answer within ${limitMs} ms (${step}): ${rootCause(error)}`,
            { cause: error },
          );
        }
        const delayMs = backoffMs(attempt, Math.random());
        logger.warn(
          { attempt, delayMs, waitedMs: waited, cause: rootCause(error) },
          `waiting for Kafka at ${brokers} (${step})`,
        );
        await clock.sleep(delayMs);
      }
    }
  };

  return {
    get state() {
      return state;
    },
    assigned,
    failure,
    async start() {
      state = 'starting';
      if (plan.subtopologies.some((sub) => sub.stores.length > 0)) {
        try {
          await checkStateDirWritable(deps.stateDir, plan.appId);
        } catch (error) {
          state = 'failed';
          throw error;
        }
      }
      try {
        await untilKafkaAnswers('preparing topics', async () => {
          await admin.connect();
          await prepareTopics(plan, admin, logger, deps.replicationFactor ?? 'auto');
          await readTimestampLimits();
        });
      } catch (error) {
        // A worker that cannot start holds no connection open.
        await admin.disconnect().catch(() => undefined);
        state = 'failed';
        throw error;
      }
      try {
        await initSerdes(serdes);
        await openSinks(sinks, logger, clock);
        // Read before any task processes: a join never looks up a table that is still loading.
        await globals.start();
      } catch (error) {
        await globals.stop().catch(() => undefined);
        await admin.disconnect();
        state = 'failed';
        throw error;
      }
      if (!exactlyOnce)
        await untilKafkaAnswers('connecting the producer', () => producer.connect());
      await untilKafkaAnswers('joining the group', () =>
        consumer.start(registry.sourceTopics, {
          handleBatch: async (batch) => {
            let outcome;
            try {
              outcome = await loop.handleBatch(batch);
            } catch (error) {
              // A task that cannot restore or commit for a full or unwritable disk: stop.
              if (failOnFatalState(error)) return 'halt' as const;
              throw error;
            }
            if (outcome === 'done') connected = true;
            return outcome;
          },
          onAssignment: async (tps, info) => {
            rebalances++;
            assigning++;
            try {
              owned = tps;
              const keys = new Set(tps.map((tp) => `${tp.topic}/${tp.partition}`));
              for (const key of positions.keys()) if (!keys.has(key)) positions.delete(key);
              try {
                await onAssignment(registry, tps, logger, info?.cooperative === true, {
                  standbys,
                  assigned: info?.standby,
                });
              } catch (error) {
                // A full or unwritable disk met while restoring: one line with its code, stop.
                if (failOnFatalState(error)) return;
                if (classifyKafkaError(error) === 'fatal') throw error;
                // Kafka stopped answering mid-restore: each task missing is built (restored) on
                // its partition's first batch, which the consumer retries until it succeeds.
                connected = false;
                logger.warn(
                  { cause: rootCause(error) },
                  'creating the assigned tasks failed; each is created on its first batch',
                );
              }
            } finally {
              assigning--;
            }
            connected = true;
            rejoining = false;
            if (state === 'starting') state = 'running';
            markAssigned();
          },
          onCrash: (error) => {
            logger.error(
              { err: error },
              `consumer stopped on an error no retry fixes: ${rootCause(error)}`,
            );
            failWith(error);
          },
          onFault: ({ error, what, attempt, delayMs, rejoin }) => {
            connected = false;
            if (rejoin && !rejoining) {
              // As Kafka Streams after a TaskMigratedException: every task is lost (aborted,
              // dropped, rebuilt from its changelog on reassignment); none is made before then.
              rejoining = true;
              void registry.loseAll(error);
            }
            logger.warn(
              {
                attempt,
                ...(delayMs === undefined ? {} : { delayMs }),
                rejoin,
                cause: rootCause(error),
              },
              `Kafka fault (${classifyKafkaError(error)}): retrying ${what}`,
            );
          },
          onLost: async (error) => {
            rejoining = true;
            await registry.loseAll(error);
          },
          onStalled: ({ topic, partition, seconds, waiting }) => {
            logger.warn(
              { code: 'PARTITION_STALLED', partition: `${topic}/${partition}`, seconds },
              `${topic}/${partition} has not moved on for ${seconds} s: waiting for ${waiting}`,
            );
          },
        }),
      );
      ticker = setInterval(() => void tick(), deps.punctuateIntervalMs);
      ticker.unref();
    },
    async stop() {
      if (state === 'stopping' || state === 'stopped') return;
      const failed = state === 'failed';
      state = 'stopping';
      if (ticker !== undefined) clearInterval(ticker);
      // (1) take no new batch and let those in flight finish, (2) commit what the tasks have
      // open and close them, while still a member (the next owner starts after our commit),
      // (3) leave the group, (4) close the producer and the admin.
      await loop.idle();
      await registry.closeAll();
      await consumer.stop();
      await standbys.close();
      await globals.stop().catch((error: unknown) => {
        logger.warn({ err: error }, 'stopping the global tables reader failed');
      });
      if (!exactlyOnce) await producer.disconnect();
      await admin.disconnect();
      for (const sink of sinks) {
        await sink.close().catch((error: unknown) => {
          logger.warn({ sink: sink.name, err: error }, 'closing sink failed');
        });
      }
      state = failed ? 'failed' : 'stopped';
    },
    stats() {
      return { tasks: registry.all.map((h) => h.task.id), totals: registry.totals() };
    },
    snapshot() {
      const restoring = registry.restoring;
      return {
        tasks: registry.all.map((handle) => handle.task.snapshot()),
        totals: registry.totals(),
        rebalances,
        restoring,
        storeCache: {
          hits: storeCache.hits,
          misses: storeCache.misses,
          evictions: storeCache.evictions,
          bytes: storeCache.bytes,
          limitBytes: storeCache.totalBytes,
        },
        standby: {
          tasks: standbys.size,
          warmups: standbys.warmups,
          records: standbys.stats.records,
        },
        ready: state === 'running' && connected && assigning === 0 && restoring === 0,
      };
    },
    async consumerLag() {
      if (state !== 'running' || owned.length === 0) return [];
      const lags: PartitionLag[] = [];
      for (const topic of new Set(owned.map((tp) => tp.topic))) {
        const ends = await admin.endOffsets(topic);
        // Partitions not processed yet here: the group's committed offset (0 without one).
        const mine = owned.filter((tp) => tp.topic === topic);
        const committed = mine.some((tp) => !positions.has(`${topic}/${tp.partition}`))
          ? await admin.committedOffsets(plan.appId, topic)
          : new Map<number, bigint>();
        for (const { partition } of mine) {
          const end = ends.get(partition);
          if (end === undefined) continue;
          const position = positions.get(`${topic}/${partition}`) ?? committed.get(partition) ?? 0n;
          const lag = end - position;
          lags.push({ topic, partition, lag: lag > 0n ? Number(lag) : 0 });
        }
      }
      return lags;
    },
  };
}
