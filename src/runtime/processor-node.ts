import type {
  Clock,
  Processor,
  ProcessorContext,
  SourcePosition,
  StreamRecord,
} from '../core/index.ts';
import { TributaryError } from '../core/index.ts';
import type { Timer, Timers } from '../core/index.ts';
import { StoreNotLoadedError } from '../state/index.ts';
import type { ErrorPolicy } from '../topology/plan.ts';

type AnyRecord = StreamRecord<unknown, unknown>;

/** Thrown through the graph when an operator with the `fail` policy fails: stops the task. */
export class HaltError extends Error {
  override name = 'HaltError';
  constructor(
    readonly operator: string,
    override readonly cause: unknown,
  ) {
    super(`operator ${operator} failed and its error policy is 'fail'`);
  }
}

/** What a node needs from its task. */
export interface NodeHost {
  readonly taskId: string;
  readonly clock: Clock;
  readonly source: SourcePosition | undefined;
  /** Applies the error policy (dlq or skip); `fail` never reaches it. */
  operatorFailed(operator: string, policy: ErrorPolicy, error: unknown): void;
  /** A timer's onTimer threw (policy dlq or skip): there is no input record to dead-letter. */
  timerFailed(operator: string, timer: Timer, error: unknown): void;
}

/** What a node's context hands out: the stores its operator declared, by name, and its timers. */
export interface NodeResources {
  stores: ReadonlyMap<string, unknown>;
  timers: Timers | undefined;
}

const noResources: NodeResources = { stores: new Map(), timers: undefined };

/**
 * One operator instance in a task's graph: runs its processor and catches what the processor's
 * own code throws, so the error is charged to the operator that threw it.
 */
export class ProcessorNode {
  readonly children: ProcessorNode[] = [];
  /** Records this operator received, and records it forwarded (or, for a sink, wrote). */
  recordsIn = 0;
  recordsOut = 0;
  readonly context: ProcessorContext<unknown, unknown>;

  constructor(
    readonly name: string,
    readonly processor: Processor<unknown, unknown, unknown, unknown>,
    readonly onError: ErrorPolicy,
    host: NodeHost,
    resources: NodeResources = noResources,
  ) {
    this.host = host;
    const getStore = (store: string | { name: string }): unknown => {
      const storeName = typeof store === 'string' ? store : store.name;
      const found = resources.stores.get(storeName);
      if (found === undefined) {
        const declared = [...resources.stores.keys()];
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `operator '${name}' asked for store '${storeName}', which it did not declare (${declared.length === 0 ? 'it declares none' : `it declares ${declared.join(', ')}`}): list it in process(supplier, { stores: [...] })`,
        );
      }
      return found;
    };
    this.context = {
      forward: (record: AnyRecord, child?: string) => this.forward(record, child),
      taskId: host.taskId,
      operator: name,
      clock: host.clock,
      get source() {
        return host.source;
      },
      getStore: getStore as ProcessorContext<unknown, unknown>['getStore'],
      get timers(): Timers {
        if (resources.timers === undefined) {
          throw new TributaryError(
            'TOPOLOGY_INVALID',
            `operator '${name}' uses timers but declares no timer store: process(supplier, { timers: '<store name>' })`,
          );
        }
        return resources.timers;
      },
    };
  }

  /** Runs the processor's onTimer for a due timer, under its error policy (as punctuation). */
  fire(timer: Timer): void {
    try {
      this.processor.onTimer?.(timer, this.context);
    } catch (error) {
      if (error instanceof HaltError) throw error;
      if (this.onError === 'fail') throw new HaltError(this.name, error);
      this.host.timerFailed(this.name, timer, error);
    }
  }

  private readonly host: NodeHost;

  private forward(record: AnyRecord, child: string | undefined): void {
    this.recordsOut++;
    if (child === undefined) {
      for (const next of this.children) next.process(record);
      return;
    }
    const next = this.children.find((c) => c.name === child);
    if (next === undefined) throw new Error(`${this.name} has no child named ${child}`);
    next.process(record);
  }

  process(record: AnyRecord): void {
    this.recordsIn++;
    try {
      this.processor.process(record, this.context);
    } catch (error) {
      if (error instanceof HaltError) throw error;
      // A bug of the runtime, not of the record: no error policy applies.
      if (this.onError === 'fail' || error instanceof StoreNotLoadedError)
        throw new HaltError(this.name, error);
      this.host.operatorFailed(this.name, this.onError, error);
    }
  }
}
