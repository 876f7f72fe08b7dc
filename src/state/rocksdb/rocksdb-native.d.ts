/**
 * The part of `rocksdb-native` 3.18.1 that Tributary uses. The package ships no type
 * definitions; these are read from its index.js and lib/ (docs/decisions/0002), and its
 * upgrade is gated by test/unit/state-rocksdb.test.ts.
 */
declare module 'rocksdb-native' {
  interface ColumnFamilyOptions {
    /** Bytes of one memtable (default 64 MiB). */
    writeBufferSize?: number;
    /** Memtables kept before writes stall (default 2). */
    maxWriteBufferNumber?: number;
    /** `false`: no block cache (default: RocksDB's own, 32 MiB). */
    blockCache?: boolean;
    /** Index and filter blocks in the block cache (default true; needs the block cache). */
    tableCacheIndexAndFilterBlocks?: boolean;
    /** `null`: no filter (default: a Bloom filter of 10 bits per key). */
    filterPolicy?: null;
  }

  interface RocksDBOptions extends ColumnFamilyOptions {
    createIfMissing?: boolean;
    readOnly?: boolean;
  }

  interface Range {
    gt?: Buffer;
    gte?: Buffer;
    lt?: Buffer;
    lte?: Buffer;
  }

  interface IteratorOptions {
    reverse?: boolean;
    limit?: number;
    /** Entries fetched per native call (default 8). */
    capacity?: number;
  }

  interface Entry {
    key: Buffer;
    value: Buffer;
  }

  /** A streamx Readable of entries. */
  interface RocksDBIterator extends AsyncIterable<Entry> {
    on(event: 'data', listener: (entry: Entry) => void): this;
    on(event: 'error', listener: (error: unknown) => void): this;
    on(event: 'close', listener: () => void): this;
    destroy(error?: unknown): void;
  }

  interface BatchOptions {
    /** Operations the batch expects (it grows past this). */
    capacity?: number;
    /** Frees the batch when its flush settles. */
    autoDestroy?: boolean;
  }

  interface WriteBatch {
    tryPut(key: Buffer, value: Buffer): void;
    tryDelete(key: Buffer): void;
    tryDeleteRange(start: Buffer, end: Buffer): void;
    /** Applies every operation atomically. */
    flush(): Promise<void>;
    destroy(): void;
  }

  interface ReadBatch {
    get(key: Buffer): Promise<Buffer | null>;
    flush(): Promise<void>;
    tryFlush(): void;
    destroy(): void;
  }

  class RocksDB {
    constructor(path: string, options?: RocksDBOptions);
    readonly opened: boolean;
    readonly closed: boolean;
    readonly path: string;
    ready(): Promise<void>;
    close(): Promise<void>;
    write(options?: BatchOptions): WriteBatch;
    read(options?: BatchOptions): ReadBatch;
    iterator(range?: Range, options?: IteratorOptions): RocksDBIterator;
    /** Flushes the memtables to SST files and waits for it. */
    flush(): Promise<void>;
  }

  export = RocksDB;
}
