import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SeenStore } from '../../src/state/index.ts';
import type { StoreChange } from '../../src/state/index.ts';
import { random } from '../../tools/generators/index.ts';

/** The layout, written out independently of the store: key, 8-byte big-endian time, [id, length]. */
function expectedKey(key: string, time: number, id?: string): Buffer {
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(BigInt(time));
  if (id === undefined) return Buffer.concat([Buffer.from(key), t]);
  const idBytes = Buffer.from(id, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(idBytes.length);
  return Buffer.concat([Buffer.from(key), t, idBytes, length]);
}

const keyOf = (store: SeenStore, key: string) => store.entriesOf(key, Buffer.from(key));

/** Every entry of a store as `key@time[#id]`, sorted. */
function contents(store: SeenStore): string[] {
  return [...store.entries()]
    .map((e) => `${e.keyBytes.toString()}@${e.time}${e.id === undefined ? '' : `#${e.id}`}`)
    .sort();
}

/** A store rebuilt from changes as restore does: each change applied, in order. */
function replay(changes: StoreChange[], withIds: boolean): SeenStore {
  const restored = new SeenStore('seen', withIds);
  for (const change of changes) restored.apply(change.key, change.value);
  return restored;
}

describe('seen store', () => {
  it('keeps a key entries in time order whatever the arrival order, each time once', () => {
    const store = new SeenStore('seen', false);
    const a = keyOf(store, 'a');
    for (const time of [5000, 1000, 3000, 3000, 9000, 1000, 7000]) store.add(a, time, undefined);
    assert.deepEqual(
      [...a.entries()].map((e) => e.time),
      [1000, 3000, 5000, 7000, 9000],
    );
    assert.equal(a.latest, 9000);
    assert.equal(store.size, 5);
    assert.ok(a.has(3000, undefined));
    assert.ok(!a.has(4000, undefined));
    assert.ok(!keyOf(store, 'b').has(3000, undefined), 'other keys are apart');
  });

  it('forgets a key entries up to a time from the front, and writes tombstones for them', () => {
    const store = new SeenStore('seen', false);
    const a = keyOf(store, 'a');
    const b = keyOf(store, 'b');
    for (const time of [1000, 2000, 3000, 4000]) {
      store.add(a, time, undefined);
      store.add(b, time, undefined);
    }
    store.flush();
    store.forgetUpTo(a, 2500);
    assert.deepEqual(contents(store), ['a@3000', 'a@4000', 'b@1000', 'b@2000', 'b@3000', 'b@4000']);
    assert.equal(store.size, 6);
    const changes = store.flush();
    assert.deepEqual(changes, [
      { key: expectedKey('a', 1000), value: null },
      { key: expectedKey('a', 2000), value: null },
    ]);
    assert.equal(store.pending, 0);
  });

  it('writes <key><8-byte big-endian time> with a one-byte value', () => {
    const store = new SeenStore('seen', false);
    const time = Date.UTC(2026, 8, 10, 12, 0, 0, 123);
    store.add(keyOf(store, 'sensor-0001'), time, undefined);
    const [change] = store.flush();
    assert.deepEqual(change?.key, expectedKey('sensor-0001', time));
    assert.equal(change?.key.length, 11 + 8);
    assert.equal(change?.value?.length, 1);
  });

  it('with ids: an id is seen once per key whatever its time, and the id is in the store key', () => {
    const store = new SeenStore('seen', true);
    const a = keyOf(store, 'a');
    assert.ok(store.add(a, 2000, 'm-1'));
    assert.ok(store.add(a, 1000, 'm-2'));
    assert.ok(store.add(a, 2000, 'm-3'));
    assert.ok(!store.add(a, 5000, 'm-1'), 'm-1 again, at another time');
    assert.ok(a.has(0, 'm-2'));
    assert.deepEqual(contents(store), ['a@1000#m-2', 'a@2000#m-1', 'a@2000#m-3']);
    assert.deepEqual(
      store.flush().map((c) => c.key),
      [expectedKey('a', 2000, 'm-1'), expectedKey('a', 1000, 'm-2'), expectedKey('a', 2000, 'm-3')],
    );
    store.forgetUpTo(a, 1999);
    assert.ok(!a.has(0, 'm-2'), 'forgotten ids are gone');
    assert.ok(store.add(a, 6000, 'm-2'));
  });

  it('restores from its own changes to the same entries, and applying them twice changes nothing', () => {
    for (const withIds of [false, true]) {
      const store = new SeenStore('seen', withIds);
      const changes: StoreChange[] = [];
      const next = random(7);
      for (let i = 0; i < 2000; i++) {
        const key = `k${Math.floor(next() * 5)}`;
        const entries = keyOf(store, key);
        const time = Math.floor(next() * 100_000);
        store.add(entries, time, withIds ? `id-${Math.floor(next() * 3000)}` : undefined);
        if (i % 50 === 0) store.forgetUpTo(entries, entries.latest - 40_000);
        if (i % 97 === 0) changes.push(...store.flush());
      }
      changes.push(...store.flush());
      const restored = replay(changes, withIds);
      assert.deepEqual(contents(restored), contents(store), `withIds ${withIds}`);
      assert.equal(restored.size, store.size);
      for (const change of changes) restored.apply(change.key, change.value);
      assert.deepEqual(contents(restored), contents(store), 'replayed twice');
      assert.equal(restored.pending, 0, 'restoring is no change to flush');
    }
  });

  it('matches a sorted-list model through growth, compaction and shrinking', () => {
    const store = new SeenStore('seen', false);
    const model = new Map<string, number[]>();
    const next = random(3);
    for (let i = 0; i < 30_000; i++) {
      const key = `k${Math.floor(next() * 3)}`;
      const entries = keyOf(store, key);
      const list = model.get(key) ?? [];
      model.set(key, list);
      // Mostly ascending with some disorder and repeats, as readings arrive.
      const time = i * 10 - Math.floor(next() * 300);
      const added = store.add(entries, time, undefined);
      assert.equal(added, !list.includes(time), `add ${key}@${time}`);
      if (added) {
        list.push(time);
        list.sort((x, y) => x - y);
      }
      // A retention that changes over time makes keys grow and then shrink.
      const retention = i < 15_000 ? 20_000 : 500;
      const upTo = entries.latest - retention;
      store.forgetUpTo(entries, upTo);
      while (list.length > 0 && (list[0] as number) <= upTo) list.shift();
    }
    const expected = [...model].flatMap(([key, list]) => list.map((t) => `${key}@${t}`)).sort();
    assert.deepEqual(contents(store), expected);
    assert.equal(store.size, expected.length);
  });

  it('refuses a key read back that is too short for its layout', () => {
    assert.throws(
      () => new SeenStore('seen', false).apply(Buffer.from('short'), Buffer.from('1')),
      /STATE_FAILED|not a dedup entry/,
    );
    assert.throws(
      () => new SeenStore('seen', true).apply(expectedKey('a', 1000), Buffer.from('1')),
      /not a dedup entry/,
    );
  });
});
