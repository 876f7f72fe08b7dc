import type { Clock } from './clock.ts';
import type { SourcePosition, StreamRecord } from './record.ts';
import type {
  KeyValueStore,
  KeyValueStoreDefinition,
  Timer,
  Timers,
  WindowStore,
  WindowStoreDefinition,
} from './store.ts';

/** What an operator sees while it processes a record, and how it passes records on. */
export interface ProcessorContext<KOut, VOut> {
  /**
   * Passes a record to the next operators (all of them, or only the one named `child`).
   * Synchronous: the downstream operators run before forward returns.
   */
  forward(record: StreamRecord<KOut, VOut>, child?: string): void;
  /** The task running this operator, e.g. `0_3`. */
  readonly taskId: string;
  /** This operator's name in the plan. */
  readonly operator: string;
  readonly clock: Clock;
  /** Where the input record being processed was read (undefined outside processing). */
  readonly source: SourcePosition | undefined;
  /**
   * A store the operator declared (`process(supplier, { stores: [...] })`), for this task:
   * typed by its definition, or by name (then the caller says what it is, as in Kafka Streams).
   * Throws TOPOLOGY_INVALID for a store the operator did not declare.
   */
  getStore<K, V>(store: KeyValueStoreDefinition<K, V>): KeyValueStore<K, V>;
  getStore<K, V>(store: WindowStoreDefinition<K, V>): WindowStore<K, V>;
  getStore<S>(name: string): S;
  /**
   * The operator's timers (event time and wall clock), kept in the timer store it declared
   * (`process(supplier, { timers: 'name' })`); throws TOPOLOGY_INVALID when it declared none.
   */
  readonly timers: Timers;
}

/**
 * One operator instance, owned by one task. Lifecycle:
 *
 *   created --init--> running --process*--> running --close--> closed
 *
 * `process` is synchronous, so a batch is never awaited per record; do I/O in connectors.
 */
export interface Processor<KIn, VIn, KOut, VOut> {
  init?(context: ProcessorContext<KOut, VOut>): void | Promise<void>;
  process(record: StreamRecord<KIn, VIn>, context: ProcessorContext<KOut, VOut>): void;
  /**
   * Called by the runtime every punctuation interval with the wall-clock time (from the task's
   * Clock), also while no records arrive: for work driven by time, such as closing windows on a
   * quiet partition. Forwarded records are committed like a batch's.
   */
  punctuate?(now: number, context: ProcessorContext<KOut, VOut>): void;
  /**
   * A timer set through `context.timers` is due: event timers right after the record that moved
   * stream time to them, wall-clock ones at the next punctuation; in time order, then key order.
   * The timer is gone from the timer store when this is called (set it again to repeat it).
   * If it throws, the operator's error policy applies as to punctuation: `fail` stops the
   * worker (nothing of it is committed, so the timer fires again after the restart); `dlq` and
   * `skip` log the error and count it as skipped (there is no input record to dead-letter).
   */
  onTimer?(timer: Timer, context: ProcessorContext<KOut, VOut>): void;
  close?(): void | Promise<void>;
}

/** Makes a fresh processor for each task, so tasks never share operator state. */
export type ProcessorSupplier<KIn, VIn, KOut, VOut> = () => Processor<KIn, VIn, KOut, VOut>;
