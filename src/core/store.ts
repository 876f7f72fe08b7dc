// The stores and timers of the Processor API, as a processor sees them. The runtime makes them
// (src/state, src/runtime/processor-stores.ts); core only says what they are.

/**
 * How a store encodes its keys and values: a Serde (json(), string(), ...) fits. The encoding is
 * what the store's changelog and RocksDB hold, so a value that does not survive it fails at
 * `put`, not after a restart. Keys are ordered by their encoded bytes (as in Kafka Streams), so
 * pick a key encoding whose byte order is the order you want to scan in (string() keeps the
 * order of ASCII strings; json() of a number does not order numbers).
 */
export interface StoreSerde<T> {
  readonly name: string;
  readonly serialize: (value: T, topic: string) => Buffer | null;
  readonly deserialize: (data: Buffer | null, topic: string) => T;
}

/** What a processor declares about a store it uses: the runtime makes one per task. */
export interface StoreDefinition<Kind extends StoreKind, K, V> {
  /** Stable and unique in the topology: the changelog is `<appId>-<name>-changelog`. */
  readonly name: string;
  readonly kind: Kind;
  readonly key: StoreSerde<K>;
  readonly value: StoreSerde<V>;
}

/** `key-value`: one value per key. `window`: one value per (key, window start). */
export type StoreKind = 'key-value' | 'window';

export type KeyValueStoreDefinition<K, V> = StoreDefinition<'key-value', K, V>;
export type WindowStoreDefinition<K, V> = StoreDefinition<'window', K, V>;
export type AnyStoreDefinition = StoreDefinition<StoreKind, unknown, unknown>;

/** One entry of a key-value store scan. */
export interface KeyValue<K, V> {
  key: K;
  value: V;
}

/**
 * A task-local key-value store: synchronous reads and writes (every live entry is in memory),
 * changelogged, checkpointed, restored and committed with the task like the built-in
 * aggregates' stores. Scans are in the byte order of the encoded keys.
 */
export interface KeyValueStore<K, V> {
  readonly name: string;
  /** Live entries. */
  readonly size: number;
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): void;
  /**
   * Entries with `from <= key <= to` (by encoded bytes), in key order; `undefined` leaves that
   * end open. Writing to the store while iterating is allowed: the scan sees the entries as they
   * were when it started.
   */
  range(from: K | undefined, to: K | undefined): IterableIterator<KeyValue<K, V>>;
  /** Every entry, in key order. */
  all(): IterableIterator<KeyValue<K, V>>;
}

/** One entry of a window store scan. */
export interface WindowedEntry<K, V> {
  key: K;
  /** The window start (ms since the epoch, a whole number >= 0). */
  windowStart: number;
  value: V;
}

/**
 * A task-local store of values per (key, window start), as Kafka Streams' WindowStore. Window
 * starts are whole milliseconds >= 0. Scans of one key are in time order.
 */
export interface WindowStore<K, V> {
  readonly name: string;
  readonly size: number;
  get(key: K, windowStart: number): V | undefined;
  put(key: K, windowStart: number, value: V): void;
  delete(key: K, windowStart: number): void;
  /** One key's windows with `timeFrom <= windowStart <= timeTo`, in time order. */
  fetch(key: K, timeFrom: number, timeTo: number): IterableIterator<WindowedEntry<K, V>>;
  /** Every key's windows with `timeFrom <= windowStart <= timeTo`, by key, then time. */
  fetchAll(timeFrom: number, timeTo: number): IterableIterator<WindowedEntry<K, V>>;
  /** Every window, by key, then time. */
  all(): IterableIterator<WindowedEntry<K, V>>;
}

/**
 * `event`: fires once the task's stream time (the largest event time it has seen) reaches
 * `time`, right after the record that moved it there. `wall`: fires once the worker's Clock
 * reaches `time`, at the task's next punctuation.
 */
export type TimerKind = 'event' | 'wall';

/** A timer: which clock, when (ms since the epoch), and the key it was set for (a string). */
export interface Timer {
  readonly kind: TimerKind;
  readonly time: number;
  readonly key: string;
}

/**
 * The timers of one processor instance, kept in its timer store (changelogged like any store),
 * so they survive restarts and failover. A timer is identified by (kind, time, key): setting it
 * twice keeps one. Due timers fire in time order (then key order) through the processor's
 * `onTimer`, where the context forwards as in `process`.
 */
export interface Timers {
  /** Sets a timer; `key` defaults to ''. */
  schedule(kind: TimerKind, time: number, key?: string): void;
  /** Removes a timer; false when it was not set. */
  cancel(kind: TimerKind, time: number, key?: string): boolean;
  /** The task's stream time: the largest event time seen (kept across restarts), or undefined. */
  readonly streamTime: number | undefined;
}
