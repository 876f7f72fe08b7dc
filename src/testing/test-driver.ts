import { TributaryError } from '../core/index.ts';
import type { Headers, SinkRecord } from '../core/index.ts';
import type { OutgoingRecord } from '../kafka/index.ts';
import { prepareBatch } from '../runtime/topic-serdes.ts';
import type { TaskStats } from '../runtime/task.ts';
import type { Serdes } from '../serde/index.ts';
import type { AnySerde, Plan } from '../topology/plan.ts';
import { DriverEngine } from './driver-engine.ts';
import type { CommitMode } from './driver-engine.ts';
import { ManualClock } from './manual-clock.ts';
import type { LostState } from './state-survival.ts';

export type { CommitMode } from './driver-engine.ts';

export interface TestDriverOptions {
  /** Partitions of every topic; keys are spread by Java's murmur2. Default 1. */
  partitions?: number;
  /** Start time of the manual clock; record timestamps default to it. */
  startTime?: number;
  /** Most records of one partition a task processes at once (a fetched batch). Default 100. */
  batchSize?: number;
  /**
   * `batch` (default): each batch is committed as soon as it is processed, as under
   * at-least-once. `manual`: work is committed only by `commit()` (and `close()`), as a
   * transaction stays open under exactly-once; `restart()` loses what was not committed.
   */
  commit?: CommitMode;
}

export interface OutputRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
  partition: number;
}

export interface TestInput<K, V> {
  /** Appends a record to the topic; it is processed at the next read, flush() or advanceWallClock(). */
  pipe(key: K, value: V, options?: { timestamp?: number; headers?: Headers }): void;
}

export interface TestOutput<K, V> {
  /** The topic's committed records, decoded, in the order written (after processing what waits). */
  readAll(): OutputRecord<K, V>[];
  readValues(): V[];
}

/**
 * Runs a topology in-process, without a broker, through the worker's own code: the runtime's
 * Task per sub-topology and partition, fed batches of piped records; serde `init` at start and
 * `prepareBatch` before each batch (so Avro serdes work, against `memorySchemaRegistry()`);
 * commits in the worker's order (external sink records, store flush to changelog records in the
 * stores' encoding, outputs, offsets); and a `restart()` that rebuilds every task from those
 * changelog records alone. Repartition topics are read back by their sub-topology once
 * committed; dead letters land on the plan's dead-letter topic.
 *
 * Reads (`readAll`, `written`, `sunk`, `stats`) first process what waits, synchronously; a
 * topology whose serdes need asynchronous hooks (Avro) needs `await driver.flush()` before
 * reading instead (a read then throws TEST_DRIVER_MISUSE saying so).
 *
 * @example
 *   const driver = await createTestDriver(t.build(), { batchSize: 10 });
 *   driver.input('readings', { key: string(), value: json<Reading>() }).pipe('s1', { celsius: 21 });
 *   await driver.flush();
 *   driver.output('celsius', { key: string(), value: json<number>() }).readValues(); // [21]
 */
export interface TestDriver {
  readonly clock: ManualClock;
  /** Serdes default to the topology's own for the topic (then the types are yours to state). */
  input<K = unknown, V = unknown>(topic: string, serdes?: Serdes<K, V>): TestInput<K, V>;
  /** Serdes default to the topology's own for the topic (its sink's, else its source's). */
  output<K = unknown, V = unknown>(topic: string, serdes?: Serdes<K, V>): TestOutput<K, V>;
  /**
   * Processes every record waiting, in batches, awaiting the serdes' init and prepareBatch as
   * the worker does, until no task has input left; also prepares the serdes of every output()
   * so that reads can decode.
   */
  flush(): Promise<void>;
  /** Commits every task's open work (needed only with `commit: 'manual'`). */
  commit(): void;
  /**
   * Drops every task as a crashed worker would (uncommitted outputs, store changes and sink
   * records are lost, input is fetched again from the committed offsets) and builds fresh
   * tasks restored only from the changelog records committed so far, decoded by the stores'
   * codec: state that does not survive that encoding (a Map, a Date) is lost here as it would
   * be in production. Resolves with the committed store entries that came back different
   * (`[]` when all state survived), each with what changed: `value.seen: a Map became {}`.
   */
  restart(): Promise<LostState[]>;
  /** The raw committed records of a topic (dead-letter, repartition and changelog topics too). */
  written(topic: string): (OutgoingRecord & { partition: number })[];
  /**
   * The records that reached an external sink (by its name), in the order they would be
   * written at commit; the driver does not call the sink.
   */
  sunk<K = unknown, V = unknown>(sink: string): SinkRecord<K, V>[];
  /**
   * Processes what waits, moves the manual clock on and runs every task's punctuation once, as
   * the worker's timer does: windows on a quiet partition close after their idle timeout.
   */
  advanceWallClock(ms: number): void;
  /** Counters of all tasks, those dropped by restart() included (processed, dead-lettered, ...). */
  stats(): TaskStats;
  /** Processes what waits, commits what is open and closes the tasks, as a worker that stops. */
  close(): Promise<void>;
}

export async function createTestDriver(
  topology: { plan: Plan },
  options: TestDriverOptions = {},
): Promise<TestDriver> {
  const clock = new ManualClock(options.startTime ?? 0);
  const engine = await DriverEngine.create(topology.plan, {
    partitions: options.partitions ?? 1,
    batchSize: Math.max(1, options.batchSize ?? 100),
    commit: options.commit ?? 'batch',
    clock,
  });
  /** The serdes of each output() handle and how many of its topic's records they prepared. */
  const readers: { topic: string; serdes: Serdes<unknown, unknown>; prepared: number }[] = [];

  const serdesFor = <K, V>(
    topic: string,
    side: 'read' | 'write',
    given: Serdes<K, V> | undefined,
  ): Serdes<K, V> => {
    if (given !== undefined) return given;
    const own = engine.topologySerdes(topic, side);
    if (own === undefined) {
      throw new TributaryError(
        'TEST_DRIVER_MISUSE',
        `the topology does not ${side} topic ${topic}: give the serdes to use for it`,
      );
    }
    return own as unknown as Serdes<K, V>;
  };

  return {
    clock,
    input<K, V>(topic: string, given?: Serdes<K, V>): TestInput<K, V> {
      if (!engine.readsTopic(topic))
        throw new TributaryError('TEST_DRIVER_MISUSE', `the topology does not read topic ${topic}`);
      const serdes = serdesFor(topic, 'read', given);
      return {
        pipe(key, value, pipeOptions = {}) {
          engine.pipe(topic, serdes.key as AnySerde, serdes.value as AnySerde, {
            key,
            value,
            timestamp: pipeOptions.timestamp ?? clock.now(),
            headers: pipeOptions.headers ?? {},
          });
        },
      };
    },
    output<K, V>(topic: string, given?: Serdes<K, V>): TestOutput<K, V> {
      const serdes = serdesFor(topic, 'write', given);
      const hooked =
        serdes.key.prepareBatch !== undefined || serdes.value.prepareBatch !== undefined;
      const same = readers.find(
        (r) => r.topic === topic && r.serdes.key === serdes.key && r.serdes.value === serdes.value,
      );
      const reader = same ?? { topic, serdes: serdes as Serdes<unknown, unknown>, prepared: 0 };
      if (hooked && same === undefined) readers.push(reader);
      const readAll = (): OutputRecord<K, V>[] => {
        engine.drainNow(`reading topic ${topic}`);
        const records = engine.topics.records(topic);
        if (hooked && reader.prepared < records.length) {
          throw new TributaryError(
            'TEST_DRIVER_MISUSE',
            `reading topic ${topic}: its serdes (${serdes.value.name}) prepare batches asynchronously; await driver.flush() before reading`,
          );
        }
        return records.map((r) => ({
          key: serdes.key.deserialize(r.key, topic),
          value: serdes.value.deserialize(r.value, topic),
          timestamp: r.timestamp,
          headers: r.headers,
          partition: r.partition,
        }));
      };
      return { readAll, readValues: () => readAll().map((r) => r.value) };
    },
    async flush() {
      await engine.drain();
      for (const reader of readers) {
        const records = engine.topics.records(reader.topic);
        if (reader.prepared === records.length) continue;
        const fresh = records.slice(reader.prepared);
        await prepareBatch(
          { keys: [reader.serdes.key as AnySerde], values: [reader.serdes.value as AnySerde] },
          { topic: reader.topic, records: fresh },
        );
        reader.prepared = records.length;
      }
    },
    commit: () => engine.commitAll(),
    restart: () => engine.restart(),
    written(topic) {
      engine.drainNow(`reading topic ${topic}`);
      return [...engine.topics.records(topic)];
    },
    sunk<K, V>(sink: string) {
      engine.drainNow(`reading sink ${sink}`);
      return [...(engine.sunk.get(sink) ?? [])] as SinkRecord<K, V>[];
    },
    advanceWallClock(ms) {
      engine.drainNow('advancing the wall clock');
      clock.advance(ms);
      engine.punctuate();
    },
    stats() {
      engine.drainNow('reading the stats');
      return engine.stats();
    },
    close: () => engine.close(),
  };
}
