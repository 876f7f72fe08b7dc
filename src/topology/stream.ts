import type { ProcessorSupplier } from '../core/index.ts';
import type { Serde, Serdes } from '../serde/index.ts';
import type { ErrorPolicy } from './plan.ts';

/** Options every operator takes. */
export interface OperatorOptions {
  /**
   * The operator's name in the plan, metrics and describe(). Give one to anything whose name
   * ends up in a topic or store name: a derived name (`filter-3`) changes when code is added
   * before it.
   */
  name?: string;
  /**
   * What happens when the operator's function throws (for a source or sink: when a record
   * cannot be decoded or encoded); default `dlq`.
   */
  onError?: ErrorPolicy;
}

/** keyBy repartitions, so it needs serdes for the repartition topic. */
export interface KeyByOptions<K, V> extends OperatorOptions {
  key: Serde<K>;
  value: Serde<V>;
}

/** A branch predicate: a plain one keeps the type, a type guard narrows its branch. */
export type BranchPredicate<K, V> = (key: K, value: V) => boolean;

/** One stream per predicate, narrowed by its type guard where it has one. */
export type BranchStreams<K, V, P extends readonly BranchPredicate<K, V>[]> = {
  -readonly [I in keyof P]: P[I] extends ((key: K, value: V) => value is infer V2 extends V)
    ? Stream<K, V2>
    : Stream<K, V>;
};

/**
 * A typed stream of keyed records. Each method adds one operator to the topology and returns the
 * stream it produces; the key and value types flow through, so a sink whose serdes do not match
 * the stream does not compile.
 */
export interface Stream<K, V> {
  /** New key and value per record. */
  map<K2, V2>(
    fn: (key: K, value: V) => readonly [K2, V2],
    options?: OperatorOptions,
  ): Stream<K2, V2>;

  /** New value per record; the key (and so the partitioning) stays. */
  mapValues<V2>(fn: (value: V, key: K) => V2, options?: OperatorOptions): Stream<K, V2>;

  /** Keeps the records for which fn holds; a type guard narrows the value type. */
  filter<V2 extends V>(
    fn: (key: K, value: V) => value is V2,
    options?: OperatorOptions,
  ): Stream<K, V2>;
  filter(fn: (key: K, value: V) => boolean, options?: OperatorOptions): Stream<K, V>;

  /** Zero or more records per record. */
  flatMap<K2, V2>(
    fn: (key: K, value: V) => Iterable<readonly [K2, V2]>,
    options?: OperatorOptions,
  ): Stream<K2, V2>;

  /** Sees each record (logging, metrics) and passes it on unchanged. */
  peek(fn: (key: K, value: V) => void, options?: OperatorOptions): Stream<K, V>;

  /**
   * Splits the stream: a record goes to the branch of the first predicate that holds, and is
   * dropped when none does (as in Kafka Streams). Add `() => true` last for a default branch.
   */
  branch<const P extends readonly BranchPredicate<K, V>[]>(
    predicates: P,
    options?: OperatorOptions,
  ): BranchStreams<K, V, P>;

  /**
   * Both streams' records as one stream. Streams from different source topics end up in one
   * sub-topology, so those topics must be co-partitioned (the runtime checks the counts).
   */
  merge(other: Stream<K, V>, options?: OperatorOptions): Stream<K, V>;

  /**
   * Re-keys the stream and repartitions it through `<appId>-<name>-repartition`, so records with
   * the same new key meet in the same task. Give a name: it names the topic.
   */
  keyBy<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): Stream<K2, V>;

  /** keyBy under its Kafka Streams name. */
  selectKey<K2>(fn: (key: K, value: V) => K2, options: KeyByOptions<K2, V>): Stream<K2, V>;

  /** Writes the stream to a topic. */
  to(topic: string, serdes: Serdes<K, V>, options?: OperatorOptions): void;

  /** A custom processor (see core's Processor); it forwards records of its output types. */
  process<K2, V2>(
    supplier: ProcessorSupplier<K, V, K2, V2>,
    options?: OperatorOptions,
  ): Stream<K2, V2>;
}
