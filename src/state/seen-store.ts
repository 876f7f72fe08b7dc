import { TributaryError } from '../core/index.ts';
import type { StoreCache, StoreChange } from './store.ts';

// The store of a dedup step: per key, the entries (time, and an id where ids are not the event
// time) it has seen, in time order, so forgetting what has expired pops from the front of one
// key's list and never looks at other keys.
//
// Layout in the changelog and RocksDB (one entry per record let through):
//   <encoded key><time: 8 bytes, big-endian>                                  -> "1"
//   <encoded key><time: 8 bytes BE><id: UTF-8><id length: 2 bytes BE>         -> "1"  (withIds)
// The value carries nothing: an entry is there or it is not (a tombstone deletes it).
//
// In memory it is not a map of entries (a MemoryStore holds ~250 bytes per entry: a Buffer, a
// latin1 string, an object and a map slot), but per key one growable Float64Array of times:
// 8 bytes per entry plus slack, so 1,000 sensors at 1 Hz retained for 65 minutes (3.9 million
// entries) take 33 MiB (bench/aggregators.ts). With ids of their own, each entry adds its id
// string and a map slot.

const twoTo32 = 0x1_0000_0000;
const initialCapacity = 8;
const present = Buffer.from('1');

/** One key's entries, oldest first: times[head, end) ascending, with ids[i] for times[i]. */
export class SeenEntries {
  private times = new Float64Array(initialCapacity);
  private head = 0;
  private end = 0;
  /** With ids: the id of each slot of `times`, and each id's time. */
  private ids: string[] | undefined;
  private readonly byId: Map<string, number> | undefined;

  constructor(
    /** The encoded key, as in the store keys. */
    readonly keyBytes: Buffer,
    withIds: boolean,
  ) {
    if (withIds) {
      this.ids = [];
      this.byId = new Map();
    }
  }

  get size(): number {
    return this.end - this.head;
  }

  /** The largest time of the key's entries (the key's event time), or -Infinity when none. */
  get latest(): number {
    return this.end > this.head ? (this.times[this.end - 1] as number) : Number.NEGATIVE_INFINITY;
  }

  /** The oldest entry's time, or undefined when none. */
  get oldest(): number | undefined {
    return this.end > this.head ? this.times[this.head] : undefined;
  }

  has(time: number, id: string | undefined): boolean {
    if (this.byId !== undefined) return id !== undefined && this.byId.has(id);
    const i = this.lowerBound(time);
    return i < this.end && this.times[i] === time;
  }

  /** Adds an entry in time order; false when it is there already. */
  insert(time: number, id: string | undefined): boolean {
    if (this.byId !== undefined) {
      if (id === undefined) throw new TypeError('this store keeps ids: an entry needs one');
      if (this.byId.has(id)) return false;
      this.byId.set(id, time);
      // After the entries of the same time, so an append stays an append.
      this.insertAt(time < this.latest ? this.upperBound(time) : this.end, time, id);
      return true;
    }
    if (time <= this.latest) {
      const at = this.lowerBound(time);
      if (this.times[at] === time) return false;
      this.insertAt(at, time, undefined);
      return true;
    }
    this.insertAt(this.end, time, undefined);
    return true;
  }

  /** Removes the entries with time <= upTo, oldest first, telling `removed` about each. */
  removeUpTo(upTo: number, removed: (time: number, id: string | undefined) => void): void {
    while (this.end > this.head && (this.times[this.head] as number) <= upTo) {
      const time = this.times[this.head] as number;
      let id: string | undefined;
      if (this.ids !== undefined) {
        id = this.ids[this.head];
        this.ids[this.head] = '';
        if (id !== undefined) this.byId?.delete(id);
      }
      this.head++;
      removed(time, id);
    }
    if (this.head === this.end) this.empty();
    // Give memory back when a key now keeps far fewer entries than it did.
    if (this.times.length > 4 * initialCapacity && this.size < this.times.length / 4)
      this.resize(Math.ceil(this.times.length / 2));
  }

  /** Removes one entry (a tombstone read back at restore); false when it is not there. */
  remove(time: number, id: string | undefined): boolean {
    let at = this.lowerBound(time);
    if (this.ids !== undefined) {
      if (id === undefined || this.byId?.get(id) !== time) return false;
      while (at < this.end && this.ids[at] !== id) at++;
      if (at === this.end) return false;
      this.byId?.delete(id);
      this.ids.splice(at, 1);
    } else if (at >= this.end || this.times[at] !== time) {
      return false;
    }
    this.times.copyWithin(at, at + 1, this.end);
    this.end--;
    if (this.head === this.end) this.empty();
    return true;
  }

  /** Every entry, oldest first. */
  *entries(): IterableIterator<{ time: number; id: string | undefined }> {
    for (let i = this.head; i < this.end; i++)
      yield { time: this.times[i] as number, id: this.ids?.[i] };
  }

  private insertAt(at: number, time: number, id: string | undefined): void {
    if (this.end === this.times.length) {
      const offset = this.head;
      // Full at the back: room for an eighth more than it holds, moving the entries to the
      // front of the same array where that fits (a key at a steady rate pops as many as it
      // adds), else into a new one. So n entries take at most ~1.4 n slots (8 bytes each), and
      // each slot freed costs at most 8 moves.
      const capacity = this.times.length;
      const wanted = Math.max(initialCapacity, Math.ceil((this.size + 1) * 1.125));
      this.resize(capacity >= wanted && capacity <= wanted * 1.25 ? capacity : wanted);
      at -= offset;
    }
    if (at < this.end) this.times.copyWithin(at + 1, at, this.end);
    this.times[at] = time;
    this.end++;
    if (id !== undefined) this.ids?.splice(at, 0, id);
  }

  private empty(): void {
    this.head = this.end = 0;
    if (this.ids !== undefined) this.ids = [];
  }

  /** Moves the entries to the front of an array of `capacity` slots. */
  private resize(capacity: number): void {
    if (capacity === this.times.length) {
      this.times.copyWithin(0, this.head, this.end);
    } else {
      const times = new Float64Array(capacity);
      times.set(this.times.subarray(this.head, this.end));
      this.times = times;
    }
    if (this.ids !== undefined) this.ids = this.ids.slice(this.head, this.end);
    this.end -= this.head;
    this.head = 0;
  }

  /** The first slot in [head, end) with a time >= `time`. */
  private lowerBound(time: number): number {
    let lo = this.head;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first slot in [head, end) with a time > `time`. */
  private upperBound(time: number): number {
    let lo = this.head;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A change since the last flush: an entry added (live) or forgotten. */
interface SeenChange {
  entries: SeenEntries;
  time: number;
  id: string | undefined;
  live: boolean;
}

/** The store key of an entry (see the layout above). */
export function seenKey(keyBytes: Buffer, time: number, id: string | undefined): Buffer {
  const idLength = id === undefined ? 0 : Buffer.byteLength(id, 'utf8');
  const key = Buffer.allocUnsafe(keyBytes.length + 8 + (id === undefined ? 0 : idLength + 2));
  keyBytes.copy(key, 0);
  key.writeUInt32BE(Math.floor(time / twoTo32), keyBytes.length);
  key.writeUInt32BE(time % twoTo32, keyBytes.length + 4);
  if (id !== undefined) {
    key.write(id, keyBytes.length + 8, 'utf8');
    key.writeUInt16BE(idLength, key.length - 2);
  }
  return key;
}

/**
 * What a dedup step has seen, per key (see the layout above). The operator reads and changes it
 * through `entriesOf`, `add` and `forgetUpTo`; the runtime flushes and restores it as any store.
 */
export class SeenStore implements StoreCache {
  private readonly keys = new Map<string, SeenEntries>();
  private changes: SeenChange[] = [];
  private entryCount = 0;

  constructor(
    readonly name: string,
    /** Entries carry ids of their own (not just their time). */
    readonly withIds: boolean,
  ) {}

  /** Entries, over all keys. */
  get size(): number {
    return this.entryCount;
  }

  /** Keys with at least one entry. */
  get keyCount(): number {
    return this.keys.size;
  }

  get pending(): number {
    return this.changes.length;
  }

  /** The entries of a key (`keyId`: its encoded bytes as latin1), created empty when absent. */
  entriesOf(keyId: string, keyBytes: Buffer): SeenEntries {
    let entries = this.keys.get(keyId);
    if (entries === undefined) {
      entries = new SeenEntries(keyBytes, this.withIds);
      this.keys.set(keyId, entries);
    }
    return entries;
  }

  /** Adds an entry; false when it is there already (nothing changes then). */
  add(entries: SeenEntries, time: number, id: string | undefined): boolean {
    if (!entries.insert(time, id)) return false;
    this.entryCount++;
    this.changes.push({ entries, time, id, live: true });
    return true;
  }

  /** Forgets the key's entries with time <= upTo. A key keeps its latest entry (its time). */
  forgetUpTo(entries: SeenEntries, upTo: number): void {
    if ((entries.oldest ?? Number.POSITIVE_INFINITY) > upTo) return;
    entries.removeUpTo(upTo, (time, id) => {
      this.entryCount--;
      this.changes.push({ entries, time, id, live: false });
    });
  }

  /** Every entry, by key, oldest first. */
  *entries(): IterableIterator<{ keyBytes: Buffer; time: number; id: string | undefined }> {
    for (const entries of this.keys.values())
      for (const { time, id } of entries.entries()) yield { keyBytes: entries.keyBytes, time, id };
  }

  flush(): StoreChange[] {
    const out = this.changes.map(({ entries, time, id, live }) => ({
      key: seenKey(entries.keyBytes, time, id),
      value: live ? present : null,
    }));
    this.changes = [];
    return out;
  }

  apply(key: Buffer, value: Buffer | null): void {
    const { keyBytes, time, id } = this.parse(key);
    const keyId = keyBytes.toString('latin1');
    if (value === null) {
      const entries = this.keys.get(keyId);
      if (entries === undefined || !entries.remove(time, id)) return;
      this.entryCount--;
      if (entries.size === 0) this.keys.delete(keyId);
      return;
    }
    // A copy: the read buffer may be a slice of a whole fetched batch.
    const entries = this.keys.get(keyId) ?? this.entriesOf(keyId, Buffer.from(keyBytes));
    if (entries.insert(time, id)) this.entryCount++;
  }

  clear(): void {
    this.keys.clear();
    this.changes = [];
    this.entryCount = 0;
  }

  private parse(key: Buffer): { keyBytes: Buffer; time: number; id: string | undefined } {
    let end = key.length;
    let id: string | undefined;
    if (this.withIds) {
      const idLength = end >= 10 ? key.readUInt16BE(end - 2) : -1;
      end -= 2 + idLength;
      if (idLength < 0 || end < 8) throw this.invalid(key);
      id = key.toString('utf8', end, end + idLength);
    }
    if (end < 8) throw this.invalid(key);
    const time = key.readUInt32BE(end - 8) * twoTo32 + key.readUInt32BE(end - 4);
    return { keyBytes: key.subarray(0, end - 8), time, id };
  }

  private invalid(key: Buffer): TributaryError {
    return new TributaryError(
      'STATE_FAILED',
      `store '${this.name}': a key of ${key.length} bytes read back from its changelog or RocksDB is not a dedup entry (<key><8-byte time>${this.withIds ? '<id><2-byte id length>' : ''})`,
    );
  }
}
