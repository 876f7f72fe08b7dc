import type { StateStore, StoreCache, StoreChange, ValueCodec } from './store.ts';

interface Entry<V> {
  key: Buffer;
  value: V;
}

/**
 * The in-memory layer every store has: all live entries, plus the changes since the last flush
 * (the write cache). `flush()` hands the changes over, encoded, and forgets them; the runtime
 * writes them to the changelog and to RocksDB. Keys are held as latin1 strings of their bytes.
 */
export class MemoryStore<V> implements StateStore<V>, StoreCache {
  private readonly live = new Map<string, Entry<V>>();
  private readonly dirty = new Map<string, Buffer>();

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
    this.live.set(id, { key, value });
    this.dirty.set(id, key);
  }

  delete(key: Buffer): void {
    const id = key.toString('latin1');
    if (!this.live.delete(id) && !this.dirty.has(id)) return;
    this.dirty.set(id, key);
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
    if (value === null) this.live.delete(id);
    else this.live.set(id, { key, value: this.codec.decode(value) });
  }

  /** Drops every entry and every pending change (before a restore from the beginning). */
  clear(): void {
    this.live.clear();
    this.dirty.clear();
  }
}

/** JSON values: the default codec of aggregation stores. */
export function jsonCodec<V>(): ValueCodec<V> {
  return {
    encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
    decode: (data) => JSON.parse(data.toString('utf8')) as V,
  };
}
