import type { ProcessorSupplier, StreamRecord } from '../core/index.ts';
import type { Serde } from '../serde/index.ts';

/**
 * What happens when an operator's function throws (or a record cannot be decoded):
 * - `dlq` (the default): the input record goes to `<appId>-dlq` with the reason, is counted,
 *   and processing goes on. Nothing is lost and one bad record never stops a pipeline.
 * - `fail`: the worker stops with the error (for pipelines where a gap is worse than a halt).
 * - `skip`: the record is dropped and counted.
 */
export type ErrorPolicy = 'fail' | 'dlq' | 'skip';

export const defaultErrorPolicy: ErrorPolicy = 'dlq';

/** Erased function types: the DSL checks the types, the plan only runs them. */
export type AnyKeyValueFn = (key: unknown, value: unknown) => unknown;
export type AnySerde = Serde<unknown>;

interface NodeBase {
  /** Unique in the topology; explicit where the user gave one, else derived (`filter-3`). */
  name: string;
  /** Names of the nodes this one forwards to, in order. */
  children: string[];
  onError: ErrorPolicy;
}

export type PlanNode =
  | (NodeBase & {
      kind: 'source';
      /** Topics this node reads (one, or several merged by a source pattern later). */
      topics: string[];
      key: AnySerde;
      value: AnySerde;
      /** True when it reads a repartition topic the topology created. */
      internal: boolean;
    })
  /** fn returns `[key, value]`. */
  | (NodeBase & { kind: 'map'; fn: AnyKeyValueFn })
  /** fn is called `(value, key)` and returns the new value. */
  | (NodeBase & { kind: 'mapValues'; fn: AnyKeyValueFn })
  | (NodeBase & { kind: 'filter'; fn: AnyKeyValueFn })
  /** fn returns an iterable of `[key, value]`. */
  | (NodeBase & { kind: 'flatMap'; fn: AnyKeyValueFn })
  | (NodeBase & { kind: 'peek'; fn: AnyKeyValueFn })
  /** A record goes to `children[i]` for the first predicate i that holds; else it is dropped. */
  | (NodeBase & { kind: 'branch'; predicates: AnyKeyValueFn[] })
  /**
   * Passes records through: a merge (several parents), or one output of a branch (one parent,
   * the branch node), so that `children[i]` of a branch is always branch i.
   */
  | (NodeBase & { kind: 'merge' })
  /** fn returns the new key; the next node is a repartition sink. */
  | (NodeBase & { kind: 'selectKey'; fn: AnyKeyValueFn })
  | (NodeBase & {
      kind: 'process';
      supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
    })
  | (NodeBase & {
      kind: 'sink';
      topic: string;
      key: AnySerde;
      value: AnySerde;
      /** True when it writes a repartition topic the topology created. */
      internal: boolean;
    });

export type PlanNodeKind = PlanNode['kind'];

/** A connected part of the DAG between Kafka topics; one task runs it per input partition. */
export interface SubTopology {
  id: number;
  /** Source node names, in order. */
  sources: string[];
  /** Every node of this sub-topology by name, in a deterministic (topological) order. */
  nodes: PlanNode[];
  /** The topics its sources read (user topics and repartition topics). */
  sourceTopics: string[];
  /** The topics its sinks write. */
  sinkTopics: string[];
}

export interface InternalTopic {
  name: string;
  kind: 'repartition' | 'dlq';
  /**
   * Partition count: for a repartition topic, the largest partition count of the source topics
   * upstream of it, known only at start; `undefined` until the worker resolves it.
   */
  partitionsFrom: string[];
}

/** The compiled topology: sub-topologies and every topic it reads and writes. */
export interface Plan {
  appId: string;
  subtopologies: SubTopology[];
  /** User topics read (not internal). */
  sourceTopics: string[];
  /** User topics written (not internal). */
  sinkTopics: string[];
  /** Repartition topics and the dead-letter topic, named `<appId>-<operator>-repartition` and `<appId>-dlq`. */
  internalTopics: InternalTopic[];
  dlqTopic: string;
}

/** A record as operators see it. */
export type AnyRecord = StreamRecord<unknown, unknown>;
