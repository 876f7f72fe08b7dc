import type { Processor, ProcessorContext, StreamRecord } from '../../src/core/index.ts';
import type { StoreChange } from '../../src/state/index.ts';
import { aggregateOperator } from '../../src/operators/index.ts';
import type { AggregateSpec } from '../../src/operators/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { jsonCodec, MemoryStore } from '../../src/state/index.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { topology } from '../../src/topology/index.ts';
import type { GroupedStream } from '../../src/topology/index.ts';
import { node } from './topology-fixtures.ts';

export interface Reading {
  sensor: string;
  celsius: number;
}

/**
 * The plan node of one aggregation over a Stream<string, Reading>, built with the DSL, as the
 * runtime passes it to aggregateOperator. `define` adds the aggregation, named `agg`.
 */
export function aggregateSpec(
  define: (grouped: GroupedStream<string, Reading>) => void,
): AggregateSpec {
  const t = topology('app');
  define(t.stream('readings', { key: string(), value: json<Reading>() }).groupByKey());
  const found = node(t.build().plan, 'agg');
  if (found.kind !== 'process' || found.label !== 'aggregate')
    throw new Error('no aggregate node named agg');
  return found;
}

/** What the tests compare of a forwarded record. */
export type Output = StreamRecord<unknown, unknown>;

/** An aggregate operator over a MemoryStore, driven by hand, collecting what it forwards. */
export class Harness {
  readonly out: Output[] = [];
  readonly clock: ManualClock;
  readonly store: MemoryStore<unknown>;
  readonly operator: Processor<unknown, unknown, unknown, unknown>;
  /** Every change flushed from the store so far, as the changelog topic would hold them. */
  readonly changelog: StoreChange[];
  private readonly context: ProcessorContext<unknown, unknown>;

  constructor(
    readonly spec: AggregateSpec,
    options: { store?: MemoryStore<unknown>; clock?: ManualClock; changelog?: StoreChange[] } = {},
  ) {
    this.changelog = options.changelog ?? [];
    this.clock = options.clock ?? new ManualClock(1_000_000);
    this.store = options.store ?? new MemoryStore<unknown>('store', jsonCodec<unknown>());
    this.context = {
      forward: (record) => this.out.push(record),
      taskId: '0_0',
      operator: spec.name,
      clock: this.clock,
      source: undefined,
      getStore: (() => {
        throw new Error('this harness gives the operator its store directly');
      }) as ProcessorContext<unknown, unknown>['getStore'],
      get timers(): never {
        throw new Error('this harness has no timers');
      },
    };
    this.operator = aggregateOperator(spec, this.store);
    void this.operator.init?.(this.context);
  }

  send(key: string, timestamp: number, celsius = 1): void {
    this.operator.process(
      { key, value: { sensor: key, celsius }, timestamp, headers: {} },
      this.context,
    );
  }

  punctuate(now = this.clock.now()): void {
    this.operator.punctuate?.(now, this.context);
  }

  /** The forwarded records since the last call. */
  take(): Output[] {
    return this.out.splice(0);
  }

  /** Flushes the store's changes to the changelog, as a commit does. */
  commit(): void {
    this.changelog.push(...this.store.flush());
  }

  /**
   * Commits, then makes a new operator instance over a store restored as a task restores it:
   * the whole changelog applied to a new MemoryStore (values through the JSON codec).
   */
  restart(): Harness {
    this.commit();
    const restored = new MemoryStore<unknown>('store', jsonCodec<unknown>());
    for (const change of this.changelog) restored.apply(change.key, change.value);
    const changelog = [...this.changelog];
    return new Harness(this.spec, { store: restored, clock: this.clock, changelog });
  }
}

/** A forwarded window result: [key, start, end, value, timestamp]. */
export function windowed(record: Output): [unknown, number, number, unknown, number] {
  const value = record.value as { key: unknown; start: number; end: number; value: unknown };
  if (value.key !== record.key) throw new Error('the record key differs from the window key');
  return [record.key, value.start, value.end, value.value, record.timestamp];
}
