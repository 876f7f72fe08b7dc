import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import RocksDB from 'rocksdb-native';

import { TributaryError } from '../../core/index.ts';
import type { ErrorCode } from '../../core/index.ts';
import { stateError, stateFaultOf } from '../state-errors.ts';
import type { StoreChange } from '../store.ts';

/**
 * A store held whole in memory (memory-store.ts) reads its RocksDB only by one scan when a task
 * starts: no block cache and no Bloom filter, which only serve point reads. The memtables are
 * sized explicitly, because each task has its own RocksDB per store (0002).
 */
const rocksDbOptions = {
  blockCache: false,
  tableCacheIndexAndFilterBlocks: false,
  filterPolicy: null,
  writeBufferSize: 16 * 1024 * 1024,
  maxWriteBufferNumber: 2,
} as const;

/**
 * A store whose live copy is RocksDB (cached-store.ts) reads its keys by point reads: a Bloom
 * filter (RocksDB's default, 10 bits per key) answers most reads of absent keys without touching
 * a data block. Still no block cache: each would be 32 MiB per store per task, in the process's
 * RSS, where the store's own bounded cache already keeps the hot entries decoded; data blocks are
 * read through the kernel's page cache.
 */
const pointReadOptions = {
  blockCache: false,
  tableCacheIndexAndFilterBlocks: false,
  writeBufferSize: 16 * 1024 * 1024,
  maxWriteBufferNumber: 2,
} as const;

/**
 * Entries per native call of the scan. Scanning 1,000,000 entries on the 2-CPU dev VM took
 * 6.7 s at the binding's default of 8, 2.3 s at 1,024 and 3.6 s at 16,384.
 */
const scanCapacity = 1024;

/**
 * The durable layer of one store: its RocksDB directory `<stateDir>/<appId>/<taskId>/<store>`.
 * A store held in memory never reads it while it runs; a cached store (cached-store.ts) reads
 * the keys a batch needs from it (`getMany`). At commit the runtime writes the store's flushed changes in one batch,
 * then `flush()`es before the checkpoint is written; on start it loads every entry back.
 */
export class RocksDbPersistence {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly db: RocksDB,
  ) {}

  /**
   * Creates the directory if needed and opens the store's RocksDB; `pointReads` for a store
   * that reads keys from it while it runs (a Bloom filter: pointReadOptions).
   */
  static async open(dir: string, pointReads = false): Promise<RocksDbPersistence> {
    const db = await openDb(dir, pointReads ? pointReadOptions : rocksDbOptions);
    return new RocksDbPersistence(dir, db);
  }

  /**
   * Whether a RocksDB database is in the directory: RocksDB writes its CURRENT file (the name of
   * the live MANIFEST) when it creates a database and only ever replaces it atomically, so a
   * directory without one is not a store, whatever else it holds. RocksDB would open such a
   * directory as a new, empty store, so a checkpoint must not be trusted on the directory's
   * existence alone.
   */
  static async holdsDatabase(dir: string): Promise<boolean> {
    try {
      return (await stat(join(dir, 'CURRENT'))).isFile();
    } catch (cause) {
      if (isMissing(cause)) return false;
      throw stateError('read', dir, cause);
    }
  }

  /**
   * Deletes a store directory and everything in it, for a restore from the beginning of the
   * changelog. The store must not be open.
   */
  static async wipe(dir: string): Promise<void> {
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (cause) {
      throw stateError('delete RocksDB store', dir, cause);
    }
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Hands every entry to `apply`, in key order, and returns how many there were. One iterator
   * reads them in chunks; entries arrive as events, so nothing is awaited per entry. If `apply`
   * throws, the scan stops and the promise rejects with that error.
   */
  async loadAll(apply: (key: Buffer, value: Buffer) => void): Promise<number> {
    this.checkOpen('load');
    const iterator = this.db.iterator({}, { capacity: scanCapacity });
    return new Promise((resolve, reject) => {
      let count = 0;
      let failure: { error: unknown } | undefined;
      iterator.on('data', ({ key, value }) => {
        if (failure !== undefined) return;
        try {
          apply(key, value);
          count++;
        } catch (error) {
          failure = { error };
          iterator.destroy(error);
        }
      });
      iterator.on('error', (cause) => {
        failure ??= { error: this.error('read', cause, 'STATE_CORRUPT') };
      });
      // 'close' comes last, after 'end' or 'error', once the native iterator is released (so the
      // store can then be closed).
      iterator.on('close', () => {
        if (failure === undefined) resolve(count);
        else reject(failure.error);
      });
    });
  }

  /**
   * The values of `keys` (null: absent), read in one native batch: one round trip to the
   * binding's thread pool for the whole batch of keys, not one per key (~50 us each: 0002).
   */
  async getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]> {
    this.checkOpen('read');
    if (keys.length === 0) return [];
    const batch = this.db.read({ capacity: keys.length });
    try {
      const values = Promise.all(keys.map((key) => batch.get(key)));
      // A failed read rejects every get with the flush: one handler for them all, whichever
      // settles first (an unhandled rejection would end the process).
      values.catch(() => undefined);
      await batch.flush();
      return await values;
    } catch (cause) {
      throw this.error(`read ${keys.length} keys from`, cause, 'STATE_CORRUPT');
    } finally {
      batch.destroy();
    }
  }

  /** Writes changes (a null value deletes the key) in one atomic batch. */
  async write(changes: readonly StoreChange[]): Promise<void> {
    this.checkOpen('write');
    if (changes.length === 0) return;
    const batch = this.db.write({ capacity: changes.length });
    try {
      for (const { key, value } of changes) {
        if (value === null) batch.tryDelete(key);
        else batch.tryPut(key, value);
      }
      await batch.flush();
    } catch (cause) {
      throw this.error(`write ${changes.length} changes to`, cause);
    } finally {
      // An undestroyed batch holds a reference that would make close() wait forever.
      batch.destroy();
    }
  }

  /**
   * Flushes the memtables to SST files. Batches go to RocksDB's write-ahead log without fsync,
   * which survives a killed process but not a lost machine. Calling this before writing the
   * checkpoint (commit step 5) keeps a checkpoint from covering changes that are not on disk.
   */
  async flush(): Promise<void> {
    this.checkOpen('flush');
    try {
      await this.db.flush();
    } catch (cause) {
      throw this.error('flush', cause);
    }
  }

  /** Closes the RocksDB after the reads and writes in flight. Closing again is a no-op. */
  close(): Promise<void> {
    this.closing ??= this.db.close().catch((cause: unknown) => {
      throw this.error('close', cause);
    });
    return this.closing;
  }

  private checkOpen(action: string): void {
    if (this.closing !== undefined) {
      throw new TributaryError(
        'STATE_FAILED',
        `cannot ${action} RocksDB store ${this.dir}: closed`,
        {
          retriable: false,
        },
      );
    }
  }

  /** A read error is corruption (STATE_CORRUPT) unless the disk says otherwise. */
  private error(
    what: string,
    cause: unknown,
    otherwise: ErrorCode = 'STATE_FAILED',
  ): TributaryError {
    return stateError(`${what} RocksDB store`, this.dir, cause, otherwise);
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

async function openDb(
  dir: string,
  options: typeof rocksDbOptions | typeof pointReadOptions,
): Promise<RocksDB> {
  let db: RocksDB | undefined;
  try {
    await mkdir(dir, { recursive: true });
    db = new RocksDB(dir, options);
    await db.ready();
    return db;
  } catch (cause) {
    await db?.close().catch(() => undefined);
    // A held LOCK (the task's previous owner in this process still closing) is retriable
    // STATE_FAILED; a full or read-only disk ends the worker; anything else means the files
    // are corrupt or missing (checksum or size mismatch, a missing .sst or MANIFEST).
    throw stateError(
      'open RocksDB store',
      dir,
      cause,
      stateFaultOf(cause) === 'locked' ? 'STATE_FAILED' : 'STATE_CORRUPT',
    );
  }
}
