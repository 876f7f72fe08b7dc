import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CachedStore, jsonCodec, StoreCacheBudget } from '../../src/state/index.ts';
import type { KeyReader, StoreChange } from '../../src/state/index.ts';
import { RocksDbPersistence } from '../../src/state/rocksdb/index.ts';
// A seeded PRNG (mulberry32), so a failure replays.
import { random } from '../../tools/generators/index.ts';

/** RocksDB as a Map of committed bytes (pure logic: the real one is tested below). */
class FakeDisk implements KeyReader {
  readonly data = new Map<string, Buffer>();
  reads = 0;
  async getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]> {
    this.reads++;
    await Promise.resolve();
    return keys.map((k) => this.data.get(k.toString('latin1')) ?? null);
  }
  write(changes: readonly StoreChange[]): void {
    for (const { key, value } of changes) {
      if (value === null) this.data.delete(key.toString('latin1'));
      else this.data.set(key.toString('latin1'), value);
    }
  }
}

const key = (n: number): Buffer => Buffer.from(`sensor-${n}`);

describe('CachedStore', () => {
  it('equals a plain map through random batches, commits and evictions under a small budget', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed);
      const budget = new StoreCacheBudget(8 * 1024);
      const store = new CachedStore<number>('counts', jsonCodec<number>(), budget);
      const disk = new FakeDisk();
      store.attach(disk, false);
      // The oracle: what the store holds after every batch.
      const model = new Map<number, number>();
      // Flushed changes not yet in RocksDB (exactly-once holds them until the commit).
      let unpersisted: StoreChange[] = [];
      for (let batch = 0; batch < 300; batch++) {
        const keys = Array.from({ length: 1 + Math.floor(next() * 40) }, () =>
          Math.floor(next() * 2000),
        );
        await store.prefetch(keys.map(key));
        for (const k of keys) {
          const current = store.get(key(k));
          assert.equal(current, model.get(k), `seed ${seed} batch ${batch} key ${k}`);
          if (next() < 0.1) {
            store.delete(key(k));
            model.delete(k);
          } else {
            store.put(key(k), (current ?? 0) + 1);
            model.set(k, (current ?? 0) + 1);
          }
        }
        if (next() < 0.5) unpersisted.push(...store.flush());
        if (next() < 0.3) {
          disk.write(unpersisted);
          store.persisted(unpersisted);
          unpersisted = [];
        }
      }
      disk.write([...unpersisted, ...store.flush()]);
      assert.ok(budget.evictions > 0, 'the budget made the store evict');
      assert.ok(budget.misses > 0, 'evicted keys were read back from RocksDB');
      assert.equal(store.isComplete, false);
      // Everything committed is on disk, as the model says.
      const onDisk = new Map(
        [...disk.data].map(([k, v]) => [k, JSON.parse(v.toString()) as number]),
      );
      assert.deepEqual(onDisk, new Map([...model].map(([k, v]) => [key(k).toString('latin1'), v])));
    }
  });

  it('keeps what is written until RocksDB has it, whatever the budget', async () => {
    const budget = new StoreCacheBudget(1);
    const store = new CachedStore<number>('counts', jsonCodec<number>(), budget);
    const disk = new FakeDisk();
    store.attach(disk, false);
    await store.prefetch([key(1), key(2)]);
    store.put(key(1), 10);
    store.put(key(2), 20);
    const changes = store.flush();
    // A later batch: the budget is exceeded, but the flushed entries are not in RocksDB yet.
    await store.prefetch([key(3)]);
    assert.equal(store.cached, 2, 'flushed, not persisted: both kept');
    await store.prefetch([key(1)]);
    assert.equal(store.get(key(1)), 10);
    disk.write(changes);
    store.persisted(changes);
    await store.prefetch([key(3)]);
    // Only key 3 (read and found absent, this batch's) is held.
    assert.equal(store.cached, 1, 'persisted and over budget: evicted');
    assert.equal(budget.evictions, 2);
  });

  it('needs no read while it holds the whole store, and fails a read it was not given', async () => {
    const budget = new StoreCacheBudget(1024 * 1024);
    const store = new CachedStore<number>('counts', jsonCodec<number>(), budget);
    const disk = new FakeDisk();
    store.attach(disk, false);
    assert.equal(store.prefetch([key(1)]), undefined, 'complete: nothing to read');
    store.put(key(1), 1);
    assert.equal(store.size, 1);
    assert.deepEqual([...store.entries()], [[key(1), 1]]);
    // A checkpointed store starts with its entries on disk only.
    const restarted = new CachedStore<number>('counts', jsonCodec<number>(), budget);
    disk.write(store.flush());
    restarted.attach(disk, true);
    assert.throws(() => restarted.get(key(1)), /was not loaded before the batch/);
    await restarted.prefetch([key(1), key(9)]);
    assert.equal(restarted.get(key(1)), 1);
    assert.equal(restarted.get(key(9)), undefined);
    assert.equal(disk.reads, 1, 'one read for the batch');
  });

  it('holds the keys it found absent while whole when the same prefetch evicts', async () => {
    // Whole in memory, then over budget (another store took half of it): the prefetch finds key
    // 99 absent without a read, then evicts; the batch must still read key 99 as absent, not as
    // a key left on disk.
    const budget = new StoreCacheBudget(400);
    const store = new CachedStore<number>('counts', jsonCodec<number>(), budget);
    const disk = new FakeDisk();
    store.attach(disk, false);
    store.put(key(1), 1);
    store.put(key(2), 2);
    const changes = store.flush();
    disk.write(changes);
    store.persisted(changes);
    assert.equal(store.isComplete, true);
    new CachedStore('other', jsonCodec(), budget);
    assert.equal(store.prefetch([key(99)]), undefined);
    assert.equal(store.isComplete, false, 'the prefetch evicted');
    assert.equal(store.get(key(99)), undefined);
    store.put(key(99), 99);
    assert.equal(disk.reads, 0);
  });

  it('shares the budget between the stores of a worker', () => {
    const budget = new StoreCacheBudget(1000);
    const a = new CachedStore('a', jsonCodec(), budget);
    assert.equal(budget.perStoreBytes, 1000);
    const b = new CachedStore('b', jsonCodec(), budget);
    assert.equal(budget.perStoreBytes, 500);
    b.release();
    a.release();
    assert.equal(budget.perStoreBytes, 1000);
  });

  it('reads its keys from a real RocksDB in one batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-cached-'));
    const db = await RocksDbPersistence.open(dir, true);
    try {
      const store = new CachedStore<{ n: number }>('agg', jsonCodec(), new StoreCacheBudget(64));
      store.attach(db, false);
      for (let i = 0; i < 100; i++) {
        await store.prefetch([key(i)]);
        store.put(key(i), { n: i });
      }
      const changes = store.flush();
      await db.write(changes);
      store.persisted(changes);
      await store.prefetch([key(0)]);
      assert.ok(store.cached < 5, `evicted to the budget (${store.cached} held)`);
      const wanted = [key(3), key(50), key(99), key(1000)];
      await store.prefetch(wanted);
      assert.deepEqual(
        wanted.map((k) => store.get(k)),
        [{ n: 3 }, { n: 50 }, { n: 99 }, undefined],
      );
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
