import type {
  Clock,
  Processor,
  ProcessorContext,
  SourcePosition,
  StreamRecord,
} from '../core/index.ts';
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
}

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
  ) {
    this.host = host;
    this.context = {
      forward: (record: AnyRecord, child?: string) => this.forward(record, child),
      taskId: host.taskId,
      operator: name,
      clock: host.clock,
      get source() {
        return host.source;
      },
    };
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
      if (this.onError === 'fail') throw new HaltError(this.name, error);
      this.host.operatorFailed(this.name, this.onError, error);
    }
  }
}
