import { TributaryError } from '../core/index.ts';
import type {
  KeyValue,
  KeyValueStore,
  StoreSerde,
  WindowedEntry,
  WindowStore,
} from '../core/index.ts';
import type { MemoryStore } from './memory-store.ts';

// The stores of the Processor API: typed handles over a MemoryStore of bytes. Keys and values
// are encoded with the serdes the store was declared with when they are written (as Kafka
// Streams does), so what a processor reads back is what its changelog and RocksDB hold, and a
// value its serde cannot carry fails at once, not after a restart. The serde's topic argument is
// the store's changelog topic.

type Bytes = MemoryStore<Buffer>;

const twoTo32 = 0x1_0000_0000;

function encode<T>(serde: StoreSerde<T>, value: T, store: string, topic: string, what: string) {
  const bytes = serde.serialize(value, topic);
  if (bytes === null) {
    throw new TributaryError(
      'SERDE_NULL',
      `store '${store}': a ${what} encodes to null with serde ${serde.name}; a store keeps non-null ${what}s (delete() removes an entry)`,
    );
  }
  return bytes;
}

/** A key-value store of K to V over a byte store. */
export class KeyValueStoreHandle<K, V> implements KeyValueStore<K, V> {
  constructor(
    private readonly bytes: Bytes,
    private readonly serdes: { key: StoreSerde<K>; value: StoreSerde<V> },
    private readonly topic: string,
  ) {}

  get name(): string {
    return this.bytes.name;
  }

  get size(): number {
    return this.bytes.size;
  }

  get(key: K): V | undefined {
    const data = this.bytes.get(this.key(key));
    return data === undefined ? undefined : this.serdes.value.deserialize(data, this.topic);
  }

  put(key: K, value: V): void {
    const data = encode(this.serdes.value, value, this.name, this.topic, 'value');
    this.bytes.put(this.key(key), data);
  }

  delete(key: K): void {
    this.bytes.delete(this.key(key));
  }

  *range(from: K | undefined, to: K | undefined): IterableIterator<KeyValue<K, V>> {
    const low = from === undefined ? undefined : this.key(from);
    const high = to === undefined ? undefined : this.key(to);
    for (const [key, data] of this.bytes.range(low, high)) {
      yield {
        key: this.serdes.key.deserialize(key, this.topic),
        value: this.serdes.value.deserialize(data, this.topic),
      };
    }
  }

  all(): IterableIterator<KeyValue<K, V>> {
    return this.range(undefined, undefined);
  }

  private key(key: K): Buffer {
    return encode(this.serdes.key, key, this.name, this.topic, 'key');
  }
}

/** `<encoded key><window start: 8 bytes, big-endian>`: by key, then time, in byte order. */
export function windowStoreKey(keyBytes: Buffer, start: number): Buffer {
  const key = Buffer.allocUnsafe(keyBytes.length + 8);
  keyBytes.copy(key, 0);
  key.writeUInt32BE(Math.floor(start / twoTo32), keyBytes.length);
  key.writeUInt32BE(start % twoTo32, keyBytes.length + 4);
  return key;
}

function startOf(storeKey: Buffer): number {
  const at = storeKey.length - 8;
  return storeKey.readUInt32BE(at) * twoTo32 + storeKey.readUInt32BE(at + 4);
}

/** A window store of (K, window start) to V over a byte store. */
export class WindowStoreHandle<K, V> implements WindowStore<K, V> {
  constructor(
    private readonly bytes: Bytes,
    private readonly serdes: { key: StoreSerde<K>; value: StoreSerde<V> },
    private readonly topic: string,
  ) {}

  get name(): string {
    return this.bytes.name;
  }

  get size(): number {
    return this.bytes.size;
  }

  get(key: K, windowStart: number): V | undefined {
    const data = this.bytes.get(this.storeKey(key, windowStart));
    return data === undefined ? undefined : this.serdes.value.deserialize(data, this.topic);
  }

  put(key: K, windowStart: number, value: V): void {
    const data = encode(this.serdes.value, value, this.name, this.topic, 'value');
    this.bytes.put(this.storeKey(key, windowStart), data);
  }

  delete(key: K, windowStart: number): void {
    this.bytes.delete(this.storeKey(key, windowStart));
  }

  *fetch(key: K, timeFrom: number, timeTo: number): IterableIterator<WindowedEntry<K, V>> {
    const keyBytes = encode(this.serdes.key, key, this.name, this.topic, 'key');
    const from = Math.max(0, Math.ceil(timeFrom));
    const to = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(timeTo));
    if (from > to) return;
    const low = windowStoreKey(keyBytes, from);
    const high = windowStoreKey(keyBytes, to);
    for (const [storeKey, data] of this.bytes.range(low, high)) {
      // A longer key that starts with this one's bytes sorts in between: not this key's.
      if (storeKey.length !== keyBytes.length + 8) continue;
      if (storeKey.compare(keyBytes, 0, keyBytes.length, 0, keyBytes.length) !== 0) continue;
      yield { key, windowStart: startOf(storeKey), value: this.decodeValue(data) };
    }
  }

  *fetchAll(timeFrom: number, timeTo: number): IterableIterator<WindowedEntry<K, V>> {
    for (const [storeKey, data] of this.bytes.range(undefined, undefined)) {
      const windowStart = startOf(storeKey);
      if (windowStart < timeFrom || windowStart > timeTo) continue;
      yield { key: this.decodeKey(storeKey), windowStart, value: this.decodeValue(data) };
    }
  }

  all(): IterableIterator<WindowedEntry<K, V>> {
    return this.fetchAll(0, Number.MAX_SAFE_INTEGER);
  }

  private storeKey(key: K, windowStart: number): Buffer {
    if (!Number.isSafeInteger(windowStart) || windowStart < 0) {
      throw new TributaryError(
        'OPERATOR_FAILED',
        `store '${this.name}': a window start is a whole number of ms >= 0, got ${windowStart}`,
      );
    }
    return windowStoreKey(encode(this.serdes.key, key, this.name, this.topic, 'key'), windowStart);
  }

  private decodeKey(storeKey: Buffer): K {
    return this.serdes.key.deserialize(storeKey.subarray(0, storeKey.length - 8), this.topic);
  }

  private decodeValue(data: Buffer): V {
    return this.serdes.value.deserialize(data, this.topic);
  }
}
