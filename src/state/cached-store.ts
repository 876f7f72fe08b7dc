import { TributaryError } from '../core/index.ts';
import type { StateStore, StoreCache, StoreChange, ValueCodec } from './store.ts';

/** Where a cached store reads the entries it does not hold: its RocksDB (rocksdb-persistence.ts). */
export interface KeyReader {
  getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]>;
}

/**
 * Bytes a cached entry costs beyond its key and encoded value: the Map entry, the slot object,
 * the key's Buffer and latin1 string, the decoded value's objects. Measured roughly (heap
 * snapshots of a store of small JSON aggregates); what matters is that the bound scales with the
 * entry count, not only with the bytes.
 */
export const entryOverheadBytes = 160;

/** Value bytes assumed for an entry written but not yet encoded (its size is known at flush). */
const unencodedValueBytes = 64;

/**
 * The worker's memory for cached stores, shared by every cached store of every task: each store
 * may hold `totalBytes / stores` (so a worker with more tasks keeps fewer entries of each), and
 * the counters a metric reports.
 */
export class StoreCacheBudget {
  private readonly stores = new Set<object>();
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly totalBytes: number) {}

  register(store: object): void {
    this.stores.add(store);
  }

  unregister(store: object): void {
    this.stores.delete(store);
  }

  /** What one store may hold now. */
  get perStoreBytes(): number {
    return Math.floor(this.totalBytes / Math.max(1, this.stores.size));
  }

  /** Bytes the registered stores hold (each store's own estimate). */
  get bytes(): number {
    let sum = 0;
    for (const store of this.stores) sum += (store as { bytes: number }).bytes;
    return sum;
  }
}

interface Slot<V> {
  /**
   * Bytes of the key; the key itself is the entry's id (latin1), not its Buffer: a small Buffer
   * is a view of an 8 KiB slab shared with the buffers allocated next to it (Buffer.poolSize),
   * or of a whole fetched batch, and one entry kept would keep all of it. The bytes go back to a
   * Buffer when they are flushed. (The worker's RSS in the 5,000,000-key test was 1.2 GiB either
   * way: that is the fetch pipeline and the heap's growth, decision 0025.)
   */
  keyLength: number;
  /** undefined: the key is absent (a read found nothing, or it was deleted). */
  value: V | undefined;
  /** Estimated bytes held for this entry (key, encoded value, overhead). */
  bytes: number;
  /** Written since the last flush. */
  dirty: boolean;
  /** Flushes of this entry not yet written to RocksDB (`persisted`): it must stay. */
  unpersisted: number;
  /** The prefetch (batch) that last touched it: an entry of the current batch stays. */
  batch: number;
}

/**
 * A store whose live copy is RocksDB and whose memory is a bounded cache (issue 17, decision
 * 0025). Operators stay synchronous: before a batch is processed the runtime hands the store the
 * keys the batch will read (`prefetch`), and the store reads those it does not hold from RocksDB
 * in one batched native read. While the batch runs every read is a hit.
 *
 * What is written is held until it is in RocksDB: a written entry is dirty until `flush` (its
 * change goes to the changelog and, once committed, to RocksDB), then "unpersisted" until the
 * runtime says RocksDB has it (`persisted`). Only clean entries are evicted, least recently
 * prefetched first, never one the current batch prefetched. So RocksDB holds committed changes
 * only, as before, and a read never sees an older value than the last write.
 *
 * `complete` is true while the cache holds every entry of the store (a store that starts empty
 * and has evicted nothing): then a key it does not hold is absent, and nothing needs a read. A
 * read of a key that is neither held nor known absent is a bug of the prefetch (the runtime did
 * not name a key the batch reads): it fails loudly rather than answer "absent".
 */
export class CachedStore<V> implements StateStore<V>, StoreCache {
  private readonly slots = new Map<string, Slot<V>>();
  private readonly dirty = new Map<string, Slot<V>>();
  private reader: KeyReader | undefined;
  private complete = true;
  private batch = 0;
  /** Live entries while complete (slots with a value); unknown otherwise. */
  private live = 0;
  bytes = 0;

  constructor(
    readonly name: string,
    readonly codec: ValueCodec<V>,
    private readonly budget: StoreCacheBudget,
  ) {
    budget.register(this);
  }

  /**
   * The store's RocksDB, opened for this task. `holdsEntries`: it has entries (a checkpointed
   * store), so the cache is no longer the whole store.
   */
  attach(reader: KeyReader, holdsEntries: boolean): void {
    this.reader = reader;
    if (holdsEntries) this.forgetAll();
  }

  /** Releases the store's share of the budget (the task closed). */
  release(): void {
    this.budget.unregister(this);
    this.slots.clear();
    this.dirty.clear();
    this.bytes = 0;
  }

  /** Whether every entry of the store is in memory (nothing evicted, nothing left on disk). */
  get isComplete(): boolean {
    return this.complete;
  }

  /** Live entries; NaN once part of the store is only on disk. */
  get size(): number {
    return this.complete ? this.live : Number.NaN;
  }

  get pending(): number {
    return this.dirty.size;
  }

  /** Entries held in memory (values and known-absent keys). */
  get cached(): number {
    return this.slots.size;
  }

  /**
   * Makes sure every one of `keys` is held (or known absent) for the batch about to run: evicts
   * what the budget no longer allows (never an entry this batch needs, a written one, or one not
   * yet in RocksDB), then reads the missing keys in one batch. Returns undefined when nothing had
   * to be read (no await: the batch goes on at once).
   */
  prefetch(keys: Iterable<Buffer>): Promise<void> | undefined {
    this.batch++;
    const batch = this.batch;
    let missing: Map<string, Buffer> | undefined;
    /** Keys found absent because the cache held the whole store: absent they stay. */
    let absent: Buffer[] | undefined;
    for (const key of keys) {
      const id = key.toString('latin1');
      const slot = this.slots.get(id);
      if (slot !== undefined) {
        if (slot.batch !== batch) {
          slot.batch = batch;
          // Least recently prefetched first: a touched entry moves to the end of the order.
          this.slots.delete(id);
          this.slots.set(id, slot);
          this.budget.hits++;
        }
        continue;
      }
      if (this.complete) {
        this.budget.hits++;
        (absent ??= []).push(key);
        continue;
      }
      missing ??= new Map();
      missing.set(id, key);
    }
    this.evict(true);
    // Evicting just now made the cache partial: the keys found absent before must be held as
    // absent, or the batch could not tell them from keys left on disk.
    if (!this.complete && absent !== undefined)
      for (const key of absent) this.holdAbsent(key, batch);
    if (missing === undefined) return undefined;
    const reader = this.reader;
    if (reader === undefined)
      throw new Error(`cached store ${this.name} is incomplete without a RocksDB to read`);
    this.budget.misses += missing.size;
    const wanted = [...missing.values()];
    return reader.getMany(wanted).then((values) => {
      for (let i = 0; i < wanted.length; i++) {
        const key = wanted[i] as Buffer;
        const id = key.toString('latin1');
        // Written meanwhile (nothing runs between prefetch and the batch, but stay safe).
        if (this.slots.has(id)) continue;
        const data = values[i] ?? null;
        if (data === null) {
          this.holdAbsent(key, batch);
          continue;
        }
        const slot: Slot<V> = {
          keyLength: key.length,
          value: this.codec.decode(data),
          bytes: key.length + data.length + entryOverheadBytes,
          dirty: false,
          unpersisted: 0,
          batch,
        };
        this.slots.set(id, slot);
        this.bytes += slot.bytes;
      }
    });
  }

  private holdAbsent(key: Buffer, batch: number): void {
    const id = key.toString('latin1');
    if (this.slots.has(id)) return;
    const slot: Slot<V> = {
      keyLength: key.length,
      value: undefined,
      bytes: key.length + entryOverheadBytes,
      dirty: false,
      unpersisted: 0,
      batch,
    };
    this.slots.set(id, slot);
    this.bytes += slot.bytes;
  }

  get(key: Buffer): V | undefined {
    const slot = this.slots.get(key.toString('latin1'));
    if (slot !== undefined) return slot.value;
    if (this.complete) return undefined;
    throw this.notLoaded(key);
  }

  put(key: Buffer, value: V): void {
    const id = key.toString('latin1');
    const slot = this.slots.get(id);
    if (slot === undefined) {
      if (!this.complete) throw this.notLoaded(key);
      const added: Slot<V> = {
        keyLength: key.length,
        value,
        bytes: key.length + unencodedValueBytes + entryOverheadBytes,
        dirty: true,
        unpersisted: 0,
        batch: this.batch,
      };
      this.slots.set(id, added);
      this.dirty.set(id, added);
      this.bytes += added.bytes;
      this.live++;
      return;
    }
    if (slot.value === undefined) this.live++;
    slot.value = value;
    if (!slot.dirty) {
      slot.dirty = true;
      this.dirty.set(id, slot);
    }
  }

  delete(key: Buffer): void {
    const id = key.toString('latin1');
    const slot = this.slots.get(id);
    if (slot === undefined) {
      if (this.complete) return;
      throw this.notLoaded(key);
    }
    if (slot.value === undefined && !slot.dirty) return;
    if (slot.value !== undefined) this.live--;
    slot.value = undefined;
    if (!slot.dirty) {
      slot.dirty = true;
      this.dirty.set(id, slot);
    }
  }

  /** Every live entry, while the cache holds the whole store. */
  *entries(): IterableIterator<[Buffer, V]> {
    if (!this.complete) {
      throw new TributaryError(
        'STATE_FAILED',
        `store ${this.name} is larger than its cache: its entries cannot be listed from memory`,
        { retriable: false },
      );
    }
    for (const [id, slot] of this.slots)
      if (slot.value !== undefined) yield [Buffer.from(id, 'latin1'), slot.value];
  }

  /** The changes since the last flush, encoded (null = deleted); they stay until persisted. */
  flush(): StoreChange[] {
    const changes: StoreChange[] = [];
    for (const [id, slot] of this.dirty) {
      const value = slot.value === undefined ? null : this.codec.encode(slot.value);
      changes.push({ key: Buffer.from(id, 'latin1'), value });
      slot.dirty = false;
      slot.unpersisted++;
      const bytes = slot.keyLength + (value?.length ?? 0) + entryOverheadBytes;
      this.bytes += bytes - slot.bytes;
      slot.bytes = bytes;
    }
    this.dirty.clear();
    return changes;
  }

  /** RocksDB now holds these flushed changes: their entries may be evicted. */
  persisted(changes: readonly StoreChange[]): void {
    for (const { key } of changes) {
      const slot = this.slots.get(key.toString('latin1'));
      if (slot !== undefined && slot.unpersisted > 0) slot.unpersisted--;
    }
    // After the batch (commits run between batches, never between a prefetch and its batch):
    // its entries need not stay.
    this.evict(false);
  }

  /**
   * Restore: a change read back from the changelog, which the runtime writes to RocksDB. The
   * cache does not keep it (a restore may bring back more than the budget): a held copy is
   * dropped, and the store is no longer known to be whole in memory.
   */
  apply(key: Buffer, _value: Buffer | null): void {
    const id = key.toString('latin1');
    const slot = this.slots.get(id);
    if (slot !== undefined && !slot.dirty && slot.unpersisted === 0) {
      this.slots.delete(id);
      this.bytes -= slot.bytes;
    }
    this.complete = false;
  }

  /** Drops every entry and pending change: the store is empty (its RocksDB wiped). */
  clear(): void {
    this.slots.clear();
    this.dirty.clear();
    this.bytes = 0;
    this.live = 0;
    this.complete = true;
  }

  /**
   * Evicts clean entries, least recently prefetched first, to the budget; `keepBatch`: not those
   * of the current batch (before it runs).
   */
  private evict(keepBatch: boolean): void {
    const limit = this.budget.perStoreBytes;
    if (this.bytes <= limit) return;
    for (const [id, slot] of this.slots) {
      if (this.bytes <= limit) break;
      if (slot.dirty || slot.unpersisted > 0 || (keepBatch && slot.batch === this.batch)) continue;
      this.slots.delete(id);
      this.bytes -= slot.bytes;
      this.budget.evictions++;
      this.complete = false;
    }
  }

  private forgetAll(): void {
    this.slots.clear();
    this.dirty.clear();
    this.bytes = 0;
    this.complete = false;
  }

  private notLoaded(key: Buffer): StoreNotLoadedError {
    return new StoreNotLoadedError(
      `cached store ${this.name}: key ${key.toString('hex')} was not loaded before the batch that reads it (a bug of the prefetch: the worker stops rather than take the key for absent)`,
    );
  }
}

/**
 * A cached store was read at a key the runtime did not load before the batch: a bug, never a
 * fault of the record, so it stops the worker (processor-node.ts) instead of dead-lettering.
 */
export class StoreNotLoadedError extends Error {
  override readonly name = 'StoreNotLoadedError';
}
