import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { jsonCodec, MemoryStore } from '../../src/state/index.ts';
import type { StoreChange } from '../../src/state/index.ts';
import { RocksDbPersistence } from '../../src/state/rocksdb/index.ts';

const key = (i: number): Buffer => Buffer.from(`sensor-${String(i).padStart(6, '0')}`);
const value = (i: number): Buffer => Buffer.from(`value-${i}`);

/** Every entry as hex key -> hex value. */
async function load(rocks: RocksDbPersistence): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const count = await rocks.loadAll((k, v) => entries.set(k.toString('hex'), v.toString('hex')));
  assert.equal(count, entries.size);
  return entries;
}

const code = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TributaryError) return error.code;
    throw error;
  }
  return 'no error';
};

describe('RocksDbPersistence', () => {
  let root: string;
  let n = 0;
  const freshDir = (): string => join(root, 'app', '0_0', `store-${++n}`);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tributary-rocksdb-'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps exactly the live entries of 10,000 puts and 5,000 deletes across a reopen', async () => {
    const dir = freshDir();
    const rocks = await RocksDbPersistence.open(dir);
    const puts: StoreChange[] = [];
    for (let i = 0; i < 10_000; i++) puts.push({ key: key(i), value: value(i) });
    await rocks.write(puts);
    const deletes: StoreChange[] = [];
    for (let i = 0; i < 10_000; i += 2) deletes.push({ key: key(i), value: null });
    await rocks.write(deletes);
    await rocks.close();

    const reopened = await RocksDbPersistence.open(dir);
    const entries = await load(reopened);
    await reopened.close();

    assert.equal(entries.size, 5_000);
    for (let i = 0; i < 10_000; i++) {
      const expected = i % 2 === 0 ? undefined : value(i).toString('hex');
      assert.equal(entries.get(key(i).toString('hex')), expected);
    }
  });

  it('applies puts and deletes of one batch in order, and deletes of absent keys', async () => {
    const rocks = await RocksDbPersistence.open(freshDir());
    await rocks.write([
      { key: key(1), value: value(1) },
      { key: key(2), value: value(2) },
      { key: key(1), value: null },
      { key: key(3), value: null },
      { key: key(2), value: value(22) },
    ]);
    const entries = await load(rocks);
    await rocks.close();
    assert.deepEqual(entries, new Map([[key(2).toString('hex'), value(22).toString('hex')]]));
  });

  it('round-trips binary keys and values, including 0x00 and 0xff bytes and empty values', async () => {
    const dir = freshDir();
    const changes: StoreChange[] = [
      { key: Buffer.from([0x00]), value: Buffer.from([0xff, 0x00, 0xff]) },
      { key: Buffer.from([0x00, 0x00]), value: Buffer.from([0x00]) },
      { key: Buffer.from([0xff]), value: Buffer.alloc(0) },
      { key: Buffer.from([0xff, 0xff, 0x00, 0x01]), value: Buffer.from([0x80]) },
      { key: Buffer.from([0x61, 0x00, 0x62]), value: Buffer.from('a\u0000b') },
    ];
    const rocks = await RocksDbPersistence.open(dir);
    await rocks.write(changes);
    await rocks.close();

    const reopened = await RocksDbPersistence.open(dir);
    const loaded: StoreChange[] = [];
    await reopened.loadAll((k, v) => loaded.push({ key: k, value: v }));
    await reopened.close();

    const sorted = [...changes].sort((a, b) => Buffer.compare(a.key, b.key));
    assert.deepEqual(
      loaded.map((c) => [c.key.toString('hex'), c.value?.toString('hex')]),
      sorted.map((c) => [c.key.toString('hex'), c.value?.toString('hex')]),
    );
  });

  it('restores a MemoryStore flushed into RocksDB into a fresh MemoryStore', async () => {
    const dir = freshDir();
    const counts = new MemoryStore<{ count: number }>('counts', jsonCodec());
    for (let i = 0; i < 1_000; i++) counts.put(key(i), { count: i });
    const rocks = await RocksDbPersistence.open(dir);
    await rocks.write(counts.flush());
    for (let i = 0; i < 1_000; i += 3) counts.delete(key(i));
    counts.put(key(1), { count: -1 });
    await rocks.write(counts.flush());
    await rocks.close();

    const restored = new MemoryStore<{ count: number }>('counts', jsonCodec());
    const reopened = await RocksDbPersistence.open(dir);
    const loaded = await reopened.loadAll((k, v) => restored.apply(k, v));
    await reopened.close();

    assert.equal(loaded, counts.size);
    assert.equal(restored.pending, 0);
    const snapshot = (store: MemoryStore<{ count: number }>) =>
      new Map([...store.entries()].map(([k, v]) => [k.toString('hex'), v.count]));
    assert.deepEqual(snapshot(restored), snapshot(counts));
    assert.deepEqual(restored.get(key(1)), { count: -1 });
    assert.equal(restored.get(key(3)), undefined);
  });

  it('loads nothing from a new store and treats an empty write as a no-op', async () => {
    const rocks = await RocksDbPersistence.open(freshDir());
    await rocks.write([]);
    assert.equal(await rocks.loadAll(() => assert.fail('no entry expected')), 0);
    await rocks.close();
  });

  it('stops loading and rejects with the error that apply throws', async () => {
    const rocks = await RocksDbPersistence.open(freshDir());
    await rocks.write(Array.from({ length: 5_000 }, (_, i) => ({ key: key(i), value: value(i) })));
    let calls = 0;
    const failure = new Error('cannot decode');
    await assert.rejects(
      rocks.loadAll(() => {
        if (++calls === 10) throw failure;
      }),
      (error) => error === failure,
    );
    assert.equal(calls, 10);
    await rocks.close();
  });

  it('flushes to SST files, and survives being closed twice', async () => {
    const dir = freshDir();
    const rocks = await RocksDbPersistence.open(dir);
    await rocks.write([{ key: key(1), value: value(1) }]);
    await rocks.flush();
    assert.ok((await readdir(dir)).some((file) => file.endsWith('.sst')));
    await Promise.all([rocks.close(), rocks.close()]);
    await rocks.close();
    assert.equal(rocks.closed, true);
    assert.equal(await code(rocks.write([{ key: key(2), value: value(2) }])), 'STATE_FAILED');
    assert.equal(await code(rocks.loadAll(() => undefined)), 'STATE_FAILED');
  });

  it('waits for a write in flight before it closes', async () => {
    const dir = freshDir();
    const rocks = await RocksDbPersistence.open(dir);
    const written = rocks.write([{ key: key(7), value: value(7) }]);
    const closed = rocks.close();
    await Promise.all([written, closed]);
    const reopened = await RocksDbPersistence.open(dir);
    assert.equal((await load(reopened)).size, 1);
    await reopened.close();
  });

  it('refuses a second open of a store that is open', async () => {
    const dir = freshDir();
    const rocks = await RocksDbPersistence.open(dir);
    assert.equal(await code(RocksDbPersistence.open(dir)), 'STATE_FAILED');
    await rocks.close();
  });

  it('wipes a store directory, and a wiped store opens empty', async () => {
    const dir = freshDir();
    const rocks = await RocksDbPersistence.open(dir);
    await rocks.write([{ key: key(1), value: value(1) }]);
    await rocks.close();
    await RocksDbPersistence.wipe(dir);
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    await RocksDbPersistence.wipe(dir);

    const reopened = await RocksDbPersistence.open(dir);
    assert.equal((await load(reopened)).size, 0);
    await reopened.close();
  });
});
