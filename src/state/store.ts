/**
 * A task's local state, read and written synchronously by operators. Keys are bytes (the
 * operator encodes its key, and for windows the window start, into them); values are typed.
 *
 * A read never awaits: a single awaited RocksDB call costs ~50 us (docs/decisions/0002). A
 * MemoryStore holds every live entry in memory; a CachedStore holds a bounded part of them, and
 * the runtime has the entries a batch reads loaded before the batch runs (cached-store.ts).
 * Writes mark entries dirty; at commit the runtime flushes the dirty entries, in one batch, to
 * the store's changelog topic and to RocksDB.
 */
export interface StateStore<V> {
  readonly name: string;
  get(key: Buffer): V | undefined;
  put(key: Buffer, value: V): void;
  delete(key: Buffer): void;
  /** Every live entry, in no particular order. */
  entries(): IterableIterator<[Buffer, V]>;
  readonly size: number;
}

/**
 * A store's in-memory layer as the runtime drives it: the changes since the last flush become
 * changelog records and a RocksDB batch at commit (`flush`), and restore feeds changelog and
 * RocksDB entries back (`apply`, not marked as changes). Applying an entry twice, or deleting one
 * that is absent, changes nothing: a restart may replay a changelog tail RocksDB already holds.
 */
export interface StoreCache {
  readonly name: string;
  /** Live entries. */
  readonly size: number;
  /** Changes waiting for the next flush. */
  readonly pending: number;
  /** The changes since the last flush, encoded (a null value deletes), and forgets them. */
  flush(): StoreChange[];
  apply(key: Buffer, value: Buffer | null): void;
  /**
   * RocksDB now holds these flushed changes (commit step 5). A store that keeps every entry in
   * memory has nothing to do; a cached store (cached-store.ts) may evict them from then on.
   */
  persisted?(changes: readonly StoreChange[]): void;
  /** Drops every entry and every pending change (before a restore from the beginning). */
  clear(): void;
}

/** How a store's values become changelog and RocksDB bytes. */
export interface ValueCodec<V> {
  encode(value: V): Buffer;
  decode(data: Buffer): V;
}

/** A change not yet flushed: a new value, or `null` for a deletion (a tombstone). */
export interface StoreChange {
  key: Buffer;
  value: Buffer | null;
}
