import { silentLogger, taskId } from '../core/index.ts';
import type { Headers, SinkRecord } from '../core/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../kafka/index.ts';
import { partitionForKey } from '../kafka/partitioner.ts';
import { emptyStats, Task } from '../runtime/index.ts';
import type { TaskStats } from '../runtime/index.ts';
import type { Serdes } from '../serde/index.ts';
import type { Plan, SubTopology } from '../topology/plan.ts';
import { ManualClock } from './manual-clock.ts';

export interface TestDriverOptions {
  /** Partitions of every topic; keys are spread by Java's murmur2. Default 1. */
  partitions?: number;
  /** Start time of the manual clock; record timestamps default to it. */
  startTime?: number;
}

export interface OutputRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
  partition: number;
}

/**
 * Runs a topology in-process, without a broker: records piped into a source topic go through
 * the same tasks the worker runs (one per sub-topology and partition), repartition topics are
 * followed at once, and everything written is kept per topic to read back. Dead letters land on
 * the plan's dead-letter topic, as in production.
 *
 * @example
 *   const driver = await createTestDriver(t.build());
 *   driver.input('readings', { key: string(), value: json<Reading>() }).pipe('s1', { celsius: 21 });
 *   driver.output('celsius', { key: string(), value: json<number>() }).readValues(); // [21]
 */
export interface TestDriver {
  readonly clock: ManualClock;
  input<K, V>(
    topic: string,
    serdes: Serdes<K, V>,
  ): { pipe(key: K, value: V, options?: { timestamp?: number; headers?: Headers }): void };
  output<K, V>(
    topic: string,
    serdes: Serdes<K, V>,
  ): { readAll(): OutputRecord<K, V>[]; readValues(): V[] };
  /** The raw records written to a topic (dead-letter and changelog topics included). */
  written(topic: string): OutgoingRecord[];
  /**
   * The records that reached an external sink (by its name), in the order they would be
   * written; the driver does not call the sink.
   */
  sunk<K = unknown, V = unknown>(sink: string): SinkRecord<K, V>[];
  /**
   * Moves the manual clock on and runs every task's punctuation, as the worker does on its
   * timer: windows on a quiet partition close after their idle timeout.
   */
  advanceWallClock(ms: number): void;
  /** Counters of all tasks (processed, dead-lettered, late, ...). */
  stats(): TaskStats;
  close(): Promise<void>;
}

export async function createTestDriver(
  topology: { plan: Plan },
  options: TestDriverOptions = {},
): Promise<TestDriver> {
  const { plan } = topology;
  const partitions = options.partitions ?? 1;
  const clock = new ManualClock(options.startTime ?? 0);
  const readers = new Map<string, SubTopology>();
  for (const sub of plan.subtopologies)
    for (const topic of sub.sourceTopics) readers.set(topic, sub);
  const tasks = new Map<string, Task>();
  for (const sub of plan.subtopologies) {
    for (let p = 0; p < partitions; p++) {
      const task = new Task({
        id: taskId(sub.id, p),
        subtopology: sub,
        partition: p,
        dlqTopic: plan.dlqTopic,
        clock,
        logger: silentLogger,
      });
      await task.init();
      tasks.set(task.id, task);
    }
  }
  const topics = new Map<string, (OutgoingRecord & { partition: number })[]>();
  const external = new Map<string, SinkRecord<unknown, unknown>[]>();
  const takeExternal = (task: Task): void => {
    for (const [sink, records] of task.takeExternal())
      external.set(sink.name, [...(external.get(sink.name) ?? []), ...records]);
  };
  const offsets = new Map<string, number>();

  const partitionOf = (record: OutgoingRecord): number =>
    record.partition ?? (record.key === null ? 0 : partitionForKey(record.key, partitions));

  /** Appends a record to its topic and, when the topology reads that topic, processes it. */
  const write = (record: OutgoingRecord): void => {
    const partition = partitionOf(record);
    const log = topics.get(record.topic) ?? [];
    log.push({ ...record, partition });
    topics.set(record.topic, log);
    const sub = readers.get(record.topic);
    if (sub === undefined) return;
    const position = `${record.topic}/${partition}`;
    const offset = offsets.get(position) ?? 0;
    offsets.set(position, offset + 1);
    const fetched: FetchedRecord = {
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: record.headers,
      offset: String(offset),
    };
    const task = tasks.get(taskId(sub.id, partition));
    if (task === undefined) throw new Error(`no task ${sub.id}_${partition}`);
    for (const produced of task.process(record.topic, partition, [fetched])) write(produced);
    // Commit after every record: the stores' changes go to their changelog topics.
    for (const changelog of task.flushStores().records) write(changelog);
    takeExternal(task);
  };

  return {
    clock,
    input(topic, serdes) {
      if (!readers.has(topic)) throw new Error(`the topology does not read topic ${topic}`);
      return {
        pipe(key, value, pipeOptions = {}) {
          write({
            topic,
            key: serdes.key.serialize(key, topic),
            value: serdes.value.serialize(value, topic),
            timestamp: pipeOptions.timestamp ?? clock.now(),
            headers: pipeOptions.headers ?? {},
          });
        },
      };
    },
    output(topic, serdes) {
      const readAll = () =>
        (topics.get(topic) ?? []).map((r) => ({
          key: serdes.key.deserialize(r.key, topic),
          value: serdes.value.deserialize(r.value, topic),
          timestamp: r.timestamp,
          headers: r.headers,
          partition: r.partition,
        }));
      return { readAll, readValues: () => readAll().map((r) => r.value) };
    },
    written: (topic) => [...(topics.get(topic) ?? [])],
    sunk: <K, V>(sink: string) => [...(external.get(sink) ?? [])] as SinkRecord<K, V>[],
    advanceWallClock(ms) {
      clock.advance(ms);
      for (const task of tasks.values()) {
        for (const produced of task.punctuate(clock.now())) write(produced);
        for (const changelog of task.flushStores().records) write(changelog);
        takeExternal(task);
      }
    },
    stats() {
      const totals = emptyStats();
      for (const task of tasks.values()) {
        for (const key of Object.keys(totals) as (keyof TaskStats)[])
          totals[key] += task.stats[key];
      }
      return totals;
    },
    async close() {
      for (const task of tasks.values()) await task.close();
    },
  };
}
