import type { Clock, Logger } from '../core/index.ts';
import type { BatchConsumer, FetchedBatch, RecordProducer, TopicAdmin } from '../kafka/index.ts';
import type { AnySerde, Plan } from '../topology/plan.ts';
import { prepareTopics } from './internal-topics.ts';
import { pollLoop } from './poll-loop.ts';
import type { HaltError } from './processor-node.ts';
import { onAssignment } from './rebalance.ts';
import { TaskRegistry } from './task-registry.ts';
import type { TaskStats } from './task.ts';

export interface RuntimeDeps {
  plan: Plan;
  admin: TopicAdmin;
  producer: RecordProducer;
  /** Made once the plan is known: the consumer's assigner needs the topic -> sub-topology map. */
  consumer: (groupOf: (topic: string) => number | undefined) => BatchConsumer;
  clock: Clock;
  logger: Logger;
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
  /** Resolves after the first assignment (joined the group, tasks created). */
  readonly assigned: Promise<void>;
  /** Stops fetching, finishes the batches in flight (their outputs sent, offsets committed), leaves the group. */
  stop(): Promise<void>;
  /** Resolves with the error that stopped the worker, if one does. */
  readonly failure: Promise<Error>;
  stats(): { tasks: string[]; totals: TaskStats };
}

function serdesByTopic(plan: Plan): Map<string, AnySerde[]> {
  const map = new Map<string, AnySerde[]>();
  for (const sub of plan.subtopologies) {
    for (const node of sub.nodes) {
      if (node.kind === 'source') for (const t of node.topics) map.set(t, [node.key, node.value]);
      if (node.kind === 'sink')
        map.set(node.topic, [...(map.get(node.topic) ?? []), node.key, node.value]);
    }
  }
  return map;
}

export function createRuntime(deps: RuntimeDeps): Runtime {
  const { plan, admin, producer, logger } = deps;
  const registry = new TaskRegistry(plan, deps.clock, logger);
  const consumer = deps.consumer((topic) => registry.subtopologyOf(topic));
  const serdes = serdesByTopic(plan);
  let state: RuntimeState = 'created';
  let markAssigned: () => void = () => undefined;
  const assigned = new Promise<void>((resolve) => (markAssigned = resolve));
  let fail: (error: Error) => void = () => undefined;
  const failure = new Promise<Error>((resolve) => (fail = resolve));
  const retired: TaskStats = { processed: 0, produced: 0, deadLettered: 0, skipped: 0 };

  const prepareBatch = async (batch: FetchedBatch): Promise<void> => {
    for (const serde of serdes.get(batch.topic) ?? []) {
      await serde.prepareBatch?.(
        batch.records.map((r) => r.value),
        batch.topic,
      );
    }
  };

  const runtime: Runtime = {
    get state() {
      return state;
    },
    assigned,
    failure,
    async start() {
      state = 'starting';
      await admin.connect();
      try {
        await prepareTopics(plan, admin, logger);
      } finally {
        await admin.disconnect();
      }
      for (const [topic, list] of serdes) for (const serde of list) await serde.init?.(topic);
      await producer.connect();
      const handleBatch = pollLoop({
        registry,
        consumer,
        producer,
        logger,
        prepareBatch,
        halt: (error: HaltError) => {
          logger.error({ operator: error.operator, err: error.cause }, error.message);
          state = 'failed';
          fail(error);
        },
      });
      await consumer.start(registry.sourceTopics, {
        handleBatch,
        onAssignment: async (tps) => {
          const before = new Set(registry.all);
          await onAssignment(registry, tps, logger);
          for (const task of before) {
            if (!registry.all.includes(task)) addStats(retired, task.stats);
          }
          if (state === 'starting') state = 'running';
          markAssigned();
        },
        onCrash: (error) => {
          logger.error({ err: error }, 'consumer crashed');
          state = 'failed';
          fail(error);
        },
      });
    },
    async stop() {
      if (state === 'stopping' || state === 'stopped') return;
      const failed = state === 'failed';
      state = 'stopping';
      // (1) stop fetching and wait for the batches in flight (each sends and commits),
      // (2) close the tasks, (3) flush and close the producer.
      await consumer.stop();
      for (const task of registry.all) addStats(retired, task.stats);
      await registry.closeAll();
      await producer.disconnect();
      state = failed ? 'failed' : 'stopped';
    },
    stats() {
      const totals = { ...retired };
      for (const task of registry.all) addStats(totals, task.stats);
      return { tasks: registry.all.map((t) => t.id), totals };
    },
  };
  return runtime;
}

function addStats(into: TaskStats, from: TaskStats): void {
  into.processed += from.processed;
  into.produced += from.produced;
  into.deadLettered += from.deadLettered;
  into.skipped += from.skipped;
}
