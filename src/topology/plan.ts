import type {
  ExternalSink,
  JoinOp,
  ProcessorSupplier,
  StreamRecord,
  TableOp,
  WindowSpec,
} from '../core/index.ts';
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
export type AnyExternalSink = ExternalSink<unknown, unknown>;

// Window kinds are core types: the DSL makes them and the aggregate operator runs them, and
// neither layer may import the other.
export { isSessionWindow, tableChangeHeader } from '../core/index.ts';
export type {
  AnyJoiner,
  AnyTableAdder,
  JoinOp,
  TableChange,
  TableOp,
  TableView,
} from '../core/index.ts';
export type { SessionWindowSpec, TimeWindowKind, WindowSpec } from '../core/index.ts';

/** An aggregation over erased types: the DSL checks the types. `merge` is required for sessions. */
export interface AnyAggregator {
  init(): unknown;
  add(aggregate: unknown, value: unknown, key: unknown): unknown;
  merge?(left: unknown, right: unknown): unknown;
  /** The emitted result of an aggregate (the identity when absent). */
  result?(aggregate: unknown): unknown;
}

/** A task-local store: its name (required, stable) and its changelog topic. */
export interface StoreSpec {
  name: string;
  /** `<appId>-<name>-changelog`, compacted, one partition per input partition. */
  changelogTopic: string;
  /**
   * What it holds: `key-value` (the default: any value per key, src/state/memory-store.ts),
   * `window` (values per key and window start, a Processor API store), `timers` (a processor's
   * timers, src/state/timer-store.ts) or `seen` (a dedup step's entries per key in time order,
   * src/state/seen-store.ts).
   */
  kind?: 'key-value' | 'window' | 'timers' | 'seen';
  /** `seen` only: the entries carry ids of their own, not just their event time. */
  withIds?: boolean;
  /**
   * A Processor API store (`key-value` or `window`): the serdes its keys and values are encoded
   * with when written. Without them (the built-in aggregates) values are kept as they are and
   * encoded as JSON at commit.
   */
  serdes?: { key: AnySerde; value: AnySerde };
  /**
   * A table's store whose changelog is the topic the table reads (`changelogTopic` is that user
   * topic): nothing is written for it, and restore decodes the topic's records with these serdes,
   * up to the offset the group committed (Kafka Streams' source-topic changelog).
   */
  source?: { key: AnySerde; value: AnySerde };
}

/** Event time of a record: from the payload, or the record's own timestamp when absent. */
export type TimestampExtractor = (key: unknown, value: unknown, recordTimestamp: number) => number;

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
      /** Sets each record's timestamp (event time); undefined keeps the Kafka timestamp. */
      timestamp?: TimestampExtractor;
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
  /** Collects records for a system outside Kafka; written at commit (ExternalSink). */
  | (NodeBase & { kind: 'external'; sink: AnyExternalSink })
  /** A stateful operator: a user's processor or a built-in one (see ProcessNode). */
  | ProcessNode
  | (NodeBase & {
      kind: 'sink';
      topic: string;
      key: AnySerde;
      value: AnySerde;
      /** True when it writes a repartition topic the topology created. */
      internal: boolean;
    });

export type PlanNodeKind = PlanNode['kind'];

/**
 * The one stateful node kind: an operator with the stores it owns (`stores`, its timer store
 * among them, kind `timers`), which the runtime makes per task and hands out through the
 * operator's context. `label` says what it is: a user's processor (`process`, Processor API),
 * or a built-in the runtime makes from the node's parameters (`aggregate`, `dedup`); describe()
 * shows the label.
 */
export type ProcessNode = NodeBase & {
  kind: 'process';
  stores: StoreSpec[];
  /**
   * Stores this node uses that another node of its sub-topology owns (a join looks up the
   * table's store; each side of a stream-stream join reads the other's): compile() puts owner
   * and users in one sub-topology, so their inputs are co-partitioned.
   */
  connected?: string[];
  /** Global tables this node looks up (plan.globalTables), by store name. */
  globals?: string[];
} & (
    | {
        label: 'process';
        supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
      }
    /**
     * Groups by key and aggregates into its store; with a window, per (key, window), emitting
     * `{ key, start, end, value }` once the window closes (`final`) or on each change (`updates`).
     */
    | {
        label: 'aggregate';
        /** Encodes the grouping key into store keys. */
        key: AnySerde;
        aggregator: AnyAggregator;
        window: WindowSpec | undefined;
        emit: 'final' | 'updates';
        /** Wall-clock ms without records after which the watermark follows the wall clock. */
        idleTimeoutMs: number | undefined;
        /** Windowed only: windows close by the partition's stream time or by each key's own time. */
        time: 'partition' | 'key' | undefined;
      }
    /** A table operator: its input and output are changes of a table (TableChange). */
    | { label: 'table'; op: TableOp }
    /** One side of a join (stream-table, stream-global-table, stream-stream, table-table). */
    | { label: 'join'; op: JoinOp }
    /**
     * Drops a record whose (key, id) its store has seen; ids are event times unless `id` is set.
     * Entries are forgotten by the key's own event time, `retentionMs` after their time.
     */
    | {
        label: 'dedup';
        /** Encodes the key into store keys. */
        key: AnySerde;
        retentionMs: number;
        /** Called `(value, key)`: a record's id within its key; undefined: its event time. */
        id: AnyKeyValueFn | undefined;
      }
  );

/** The built-in aggregate node. */
export type AggregateNode = Extract<PlanNode, { label: 'aggregate' }>;
/** The built-in dedup node. */
export type DedupNode = Extract<PlanNode, { label: 'dedup' }>;

/**
 * A table every worker reads whole (all partitions of `topic`) into an in-memory store, outside
 * the consumer group: src/runtime/global-tables.ts. Its topic is not a source of any task.
 */
export interface GlobalTableSpec {
  store: string;
  topic: string;
  key: AnySerde;
  value: AnySerde;
}

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
  /** The stores its tasks own. */
  stores: StoreSpec[];
}

export interface InternalTopic {
  name: string;
  kind: 'repartition' | 'dlq' | 'changelog';
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
  /**
   * Repartition topics, the dead-letter topic and the stores' changelog topics, named
   * `<appId>-<operator>-repartition`, `<appId>-dlq` and `<appId>-<store>-changelog`.
   */
  internalTopics: InternalTopic[];
  dlqTopic: string;
  /** The global tables the topology's joins look up. */
  globalTables: GlobalTableSpec[];
}

/** A record as operators see it. */
export type AnyRecord = StreamRecord<unknown, unknown>;

/** The stores a node owns (a processor's, an aggregate's, a dedup step's), in order. */
export function storesOf(node: { kind: PlanNodeKind; stores?: StoreSpec[] }): StoreSpec[] {
  return node.kind === 'process' ? (node.stores ?? []) : [];
}
