import { OrderedIndex } from './ordered-index.ts';
import type { StateStore, StoreCache, StoreChange, ValueCodec } from './store.ts';

interface Entry<V> {
  key: Buffer;
  value: V;
}

/**
 * The in-memory layer every store has: all live entries, plus the changes since the last flush
 * (the write cache). `flush()` hands the changes over, encoded, and forgets them; the runtime
 * writes them to the changelog and to RocksDB. Keys are held as latin1 strings of their bytes.
 *
 * Range scans (`range`) are in the byte order of the keys, through an OrderedIndex built at the
 * first scan and kept up to date from then on; a store that is never scanned has none, so its
 * get and put cost what a Map's do.
 */
export class MemoryStore<V> implements StateStore<V>, StoreCache {
  private readonly live = new Map<string, Entry<V>>();
  private readonly dirty = new Map<string, Buffer>();
  private index: OrderedIndex | undefined;

  constructor(
    readonly name: string,
    readonly codec: ValueCodec<V>,
  ) {}

  get size(): number {
    return this.live.size;
  }

  get(key: Buffer): V | undefined {
    return this.live.get(key.toString('latin1'))?.value;
  }

  put(key: Buffer, value: V): void {
    const id = key.toString('latin1');
    if (this.index !== undefined && !this.live.has(id)) this.index.add(id);
    this.live.set(id, { key, value });
    this.dirty.set(id, key);
  }

  delete(key: Buffer): void {
    const id = key.toString('latin1');
    if (this.live.delete(id)) this.index?.remove(id);
    else if (!this.dirty.has(id)) return;
    this.dirty.set(id, key);
  }

  /**
   * The entries with `from <= key <= to` in byte order of the keys (undefined: that end open),
   * as they are now: the store may be written while the result is iterated.
   */
  range(from: Buffer | undefined, to: Buffer | undefined): [Buffer, V][] {
    this.index ??= new OrderedIndex(this.live.keys());
    const found: [Buffer, V][] = [];
    for (const id of this.index.range(from?.toString('latin1'), to?.toString('latin1'))) {
      const entry = this.live.get(id);
      if (entry !== undefined) found.push([entry.key, entry.value]);
    }
    return found;
  }

  /** The first entry whose key is >= `from`, in byte order, or undefined. */
  first(from: Buffer): [Buffer, V] | undefined {
    this.index ??= new OrderedIndex(this.live.keys());
    const id = this.index.first(from.toString('latin1'));
    const entry = id === undefined ? undefined : this.live.get(id);
    return entry === undefined ? undefined : [entry.key, entry.value];
  }

  *entries(): IterableIterator<[Buffer, V]> {
    for (const { key, value } of this.live.values()) yield [key, value];
  }

  /** How many changes wait for the next flush. */
  get pending(): number {
    return this.dirty.size;
  }

  /** The changes since the last flush, encoded (null = deleted), and forgets them. */
  flush(): StoreChange[] {
    const changes: StoreChange[] = [];
    for (const [id, key] of this.dirty) {
      const entry = this.live.get(id);
      changes.push({ key, value: entry === undefined ? null : this.codec.encode(entry.value) });
    }
    this.dirty.clear();
    return changes;
  }

  /** Applies a change read back from the changelog or RocksDB (restore): not marked dirty. */
  apply(key: Buffer, value: Buffer | null): void {
    const id = key.toString('latin1');
    if (value === null) {
      if (this.live.delete(id)) this.index?.remove(id);
      return;
    }
    if (this.index !== undefined && !this.live.has(id)) this.index.add(id);
    this.live.set(id, { key, value: this.codec.decode(value) });
  }

  /**
   * As apply, with the value decoded already (a table restored from its source topic, whose
   * records its own serdes decode); returns the change to write to RocksDB.
   */
  applyValue(key: Buffer, value: V | null): StoreChange {
    const id = key.toString('latin1');
    if (value === null) {
      if (this.live.delete(id)) this.index?.remove(id);
      return { key, value: null };
    }
    if (this.index !== undefined && !this.live.has(id)) this.index.add(id);
    this.live.set(id, { key, value });
    return { key, value: this.codec.encode(value) };
  }

  /** Drops every entry and every pending change (before a restore from the beginning). */
  clear(): void {
    this.live.clear();
    this.dirty.clear();
    this.index = undefined;
  }
}

/** JSON values: the default codec of aggregation stores. */
export function jsonCodec<V>(): ValueCodec<V> {
  return {
    encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
    decode: (data) => JSON.parse(data.toString('utf8')) as V,
  };
}

/** Values that are bytes already (the Processor API's stores encode with their serdes). */
export const bytesCodec: ValueCodec<Buffer> = {
  encode: (value) => value,
  // A copy: a buffer read back may be a slice of a whole fetched batch.
  decode: (data) => Buffer.from(data),
};
