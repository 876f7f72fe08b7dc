import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { silentLogger, taskId, TributaryError } from '../../src/core/index.ts';
import type { Processor, Timer } from '../../src/core/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../../src/kafka/index.ts';
import { Task } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { bytesCodec, MemoryStore } from '../../src/state/index.ts';
import { createTestDriver, ManualClock } from '../../src/testing/index.ts';
import { keyValueStore, topology, windowStore } from '../../src/topology/index.ts';
import type { Output, Reading } from '../integration/fixtures/ttl-dedup.ts';
import { ttlDedupTopology } from '../integration/fixtures/ttl-dedup.ts';
import { ttlDedupOracle } from '../integration/ttl-dedup-oracle.ts';
import { random } from '../random.ts';

describe('ordered scans of a memory store', () => {
  const cases = [
    { what: 'few keys', symbols: 6, maxLength: 3, steps: 20_000, scans: 0.2 },
    // Enough keys that the index merges its side array and drops deleted keys many times.
    { what: 'many keys', symbols: 40, maxLength: 3, steps: 60_000, scans: 0.001 },
  ];
  for (const { what, symbols, maxLength, steps, scans } of cases)
    it(`range() returns exactly the live keys between its bounds in byte order, through puts, deletes and restores (${what})`, () => {
      const next = random(7 + symbols);
      const store = new MemoryStore<Buffer>('s', bytesCodec);
      const model = new Map<string, string>();
      const keyOf = (): Buffer => {
        const length = 1 + Math.floor(next() * maxLength);
        return Buffer.from(Array.from({ length }, () => Math.floor(next() * symbols) * 6));
      };
      for (let step = 0; step < steps; step++) {
        const key = keyOf();
        const id = key.toString('latin1');
        const op = next();
        if (op >= 1 - scans) {
          scan(step);
        } else if (op < 0.45) {
          store.put(key, Buffer.from(String(step)));
          model.set(id, String(step));
        } else if (op < 0.7) {
          store.delete(key);
          model.delete(id);
        } else {
          const value = next() < 0.5 ? null : Buffer.from(`r${step}`);
          store.apply(key, value);
          if (value === null) model.delete(id);
          else model.set(id, value.toString());
        }
      }
      scan(steps);
      assert.equal(store.size, model.size);

      function scan(step: number): void {
        const a = keyOf();
        const b = keyOf();
        const [from, to] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
        const open = next();
        const low = open < 0.1 ? undefined : from;
        const high = open > 0.9 ? undefined : to;
        const got = store.range(low, high).map(([k, v]) => [k.toString('latin1'), v.toString()]);
        const want = [...model]
          .filter(([k]) => {
            const bytes = Buffer.from(k, 'latin1');
            return (
              (low === undefined || Buffer.compare(bytes, low) >= 0) &&
              (high === undefined || Buffer.compare(bytes, high) <= 0)
            );
          })
          .sort(([x], [y]) => Buffer.compare(Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')));
        assert.deepEqual(got, want, `range at step ${step}`);
      }
    });
});

describe('Processor API stores', () => {
  const counts = keyValueStore('counts', { key: string(), value: json<{ n: number }>() });
  const perMinute = windowStore('per-minute', { key: string(), value: json<number>() });

  /** A processor that writes what it is told and forwards what its scans return. */
  function scanner(): Processor<string, string, string, unknown> {
    return {
      process(record, context) {
        const kv = context.getStore(counts);
        const windows = context.getStore(perMinute);
        const [op, a, b] = record.value.split(' ');
        if (op === 'put') {
          kv.put(record.key, { n: (kv.get(record.key)?.n ?? 0) + 1 });
          windows.put(
            record.key,
            record.timestamp,
            (windows.get(record.key, record.timestamp) ?? 0) + 1,
          );
        } else if (op === 'range') {
          context.forward({ ...record, value: [...kv.range(a, b)] });
        } else if (op === 'all') {
          context.forward({ ...record, value: [...kv.all()].map((e) => e.key) });
        } else if (op === 'fetch') {
          context.forward({ ...record, value: [...windows.fetch(a ?? '', Number(b), Infinity)] });
        } else if (op === 'fetchAll') {
          context.forward({
            ...record,
            value: [...windows.fetchAll(Number(a), Number(b))].map((e) => [e.key, e.windowStart]),
          });
        } else if (op === 'delete') {
          kv.delete(record.key);
        }
      },
    };
  }

  async function driver() {
    const t = topology('proc-stores');
    t.stream('in', { key: string(), value: string() })
      .process(scanner, { name: 'scan', stores: [counts, perMinute] })
      .to('out', { key: string(), value: json<unknown>() });
    const d = await createTestDriver(t.build());
    return {
      pipe: (key: string, value: string, timestamp = 0) =>
        d.input('in', { key: string(), value: string() }).pipe(key, value, { timestamp }),
      out: () => d.output('out', { key: string(), value: json<unknown>() }).readValues(),
      d,
    };
  }

  it('scans key-value entries in key order and window entries in time order, per key', async () => {
    const { pipe, out, d } = await driver();
    for (const [key, time] of [
      ['b', 5],
      ['a', 9],
      ['ab', 7],
      ['a', 3],
      ['c', 1],
      ['a', 9],
    ] as const)
      pipe(key, 'put', time);
    pipe('x', 'range a b');
    pipe('x', 'all');
    pipe('x', 'fetch a 0');
    pipe('x', 'fetch a 4');
    pipe('x', 'fetchAll 4 8');
    pipe('ab', 'delete');
    pipe('x', 'all');
    assert.deepEqual(out(), [
      [
        { key: 'a', value: { n: 3 } },
        { key: 'ab', value: { n: 1 } },
        { key: 'b', value: { n: 1 } },
      ],
      ['a', 'ab', 'b', 'c'],
      [
        { key: 'a', windowStart: 3, value: 1 },
        { key: 'a', windowStart: 9, value: 2 },
      ],
      [{ key: 'a', windowStart: 9, value: 2 }],
      [
        ['ab', 7],
        ['b', 5],
      ],
      ['a', 'b', 'c'],
    ]);
    // Changelogged under the store names, as the built-in aggregates' stores.
    assert.ok(d.written('proc-stores-counts-changelog').length > 0);
    assert.ok(d.written('proc-stores-per-minute-changelog').length > 0);
  });

  it('keeps what the value serde encodes, not the object put: a Map does not survive json()', async () => {
    const holder = keyValueStore('holder', { key: string(), value: json<Map<string, number>>() });
    let readBack: unknown;
    const t = topology('proc-codec');
    t.stream('in', { key: string(), value: string() })
      .process<string, string>(
        () => ({
          process(record, context) {
            const store = context.getStore(holder);
            store.put(record.key, new Map([['a', 1]]));
            readBack = store.get(record.key);
          },
        }),
        { name: 'holds', stores: [holder] },
      )
      .to('out', { key: string(), value: string() });
    const d = await createTestDriver(t.build());
    d.input('in', { key: string(), value: string() }).pipe('k', 'v');
    await d.flush(); // the driver processes piped records at a read or a flush
    assert.ok(!(readBack instanceof Map), 'the value read back is what the changelog holds');
    assert.deepEqual(readBack, {});
  });

  it('refuses a store the processor did not declare, timers without a timer store, and store names used twice', async () => {
    const failures: unknown[] = [];
    const t = topology('proc-refuse');
    t.stream('in', { key: string(), value: string() })
      .process<string, string>(
        () => ({
          process(_record, context) {
            for (const use of [() => context.getStore('other'), () => context.timers]) {
              try {
                use();
              } catch (error) {
                failures.push(error);
              }
            }
          },
        }),
        { name: 'p', stores: [counts] },
      )
      .to('out', { key: string(), value: string() });
    const d = await createTestDriver(t.build());
    d.input('in', { key: string(), value: string() }).pipe('k', 'v');
    await d.flush();
    assert.equal(failures.length, 2);
    assert.ok(failures.every((e) => e instanceof TributaryError && e.code === 'TOPOLOGY_INVALID'));

    const twice = topology('proc-twice');
    const s = twice.stream('in', { key: string(), value: string() });
    s.process(scanner, { name: 'one', stores: [counts] });
    s.process(scanner, { name: 'two', stores: [counts] });
    assert.throws(() => twice.build(), /store name 'counts' is used twice/);
    const same = topology('proc-same');
    assert.throws(
      () =>
        same
          .stream('in', { key: string(), value: string() })
          .process(scanner, { name: 'p', stores: [counts], timers: 'counts' }),
      (e: unknown) => e instanceof TributaryError && e.code === 'TOPOLOGY_INVALID',
    );
    const bad = topology('proc-bad');
    assert.throws(
      () =>
        bad.stream('in', { key: string(), value: string() }).process(scanner, {
          stores: [keyValueStore('no/slash', { key: string(), value: string() })],
        }),
      /store name 'no\/slash'/,
    );
  });

  it('shows its stores in describe() and plans one changelog topic per store', () => {
    const t = topology('proc-describe');
    t.stream('in', { key: string(), value: string() })
      .process(scanner, { name: 'scan', stores: [counts, perMinute], timers: 'scan-timers' })
      .to('out', { key: string(), value: json<unknown>() });
    const built = t.build();
    assert.match(
      built.describe().text,
      /Processor: scan \(process, stores: counts, per-minute, timers: scan-timers\)/,
    );
    assert.deepEqual(
      built.plan.internalTopics.filter((x) => x.kind === 'changelog').map((x) => x.name),
      [
        'proc-describe-counts-changelog',
        'proc-describe-per-minute-changelog',
        'proc-describe-scan-timers-changelog',
      ],
    );
    assert.deepEqual(
      built.plan.subtopologies[0]?.stores.map((s) => s.name),
      ['counts', 'per-minute', 'scan-timers'],
    );
    assert.match(built.describe().mermaid, /store_scan_timers\[\("scan-timers<br\/>store"\)\]/);
  });
});

/** Readings of a few devices, out of order per device, with duplicates (ids sent again). */
function readings(count: number, seed: number): Reading[] {
  const next = random(seed);
  const out: Reading[] = [];
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; i++) {
    if (i > 0 && next() < 0.1) {
      const again = out[Math.floor(next() * out.length)] as Reading;
      out.push({ ...again });
      continue;
    }
    const device = `d${Math.floor(next() * 5)}`;
    // Mostly a little out of order; now and then a device sends a reading from far back (its
    // session's TTL is over by stream time at once).
    const back = next() < 0.05 ? 600_000 + Math.floor(next() * 600_000) : 0;
    const time = base + i * 7_000 - Math.floor(next() * 120_000) - back;
    out.push({ device, id: `m${i}`, time, v: Math.round(next() * 1000) / 10 });
  }
  return out;
}

const ttl = 5 * 60_000;

describe('a custom stateful processor with event-time timers (TTL dedup)', () => {
  it('forwards first occurrences and summarises each session when its timer fires, as the oracle says', async () => {
    const data = readings(3000, 11);
    const built = ttlDedupTopology('ttl-unit', 'in', 'out', ttl);
    const d = await createTestDriver(built);
    const input = d.input('in', { key: string(), value: json<Reading>() });
    for (const r of data) input.pipe(r.device, r);
    const got = new Map<string, Output[]>();
    for (const o of d.output('out', { key: string(), value: json<Output>() }).readValues())
      got.set(o.device, [...(got.get(o.device) ?? []), o]);
    const want = ttlDedupOracle([data], ttl);
    assert.deepEqual(got, want);
    const summaries = [...got.values()].flat().filter((o) => o.kind === 'summary').length;
    assert.ok(summaries > 20, `sessions were summarised (${summaries})`);
    assert.ok(data.length > [...got.values()].flat().filter((o) => o.kind === 'first').length);
  });

  it('gives the same output when the task is rebuilt from its changelogs at any point (timers and stream time included)', async () => {
    const data = readings(1200, 5);
    const built = ttlDedupTopology('ttl-restart', 'in', 'out', ttl);
    const sub = built.plan.subtopologies[0];
    if (sub === undefined) throw new Error('no sub-topology');
    const clock = new ManualClock(0);
    const changelogs: OutgoingRecord[] = [];
    const outputs: OutgoingRecord[] = [];
    const newTask = async (): Promise<Task> => {
      const task = new Task({
        id: taskId(0, 0),
        subtopology: sub,
        partition: 0,
        dlqTopic: built.plan.dlqTopic,
        clock,
        logger: silentLogger,
      });
      // What restore does: each store gets its changelog's records back, in order.
      for (const record of changelogs) {
        const store = [...task.stores.values()].find((s) => s.spec.changelogTopic === record.topic);
        if (record.key !== null) store?.memory.apply(record.key, record.value);
      }
      await task.init();
      return task;
    };
    const next = random(99);
    let task = await newTask();
    let restarts = 0;
    for (const [i, r] of data.entries()) {
      const fetched: FetchedRecord = {
        key: Buffer.from(r.device),
        value: Buffer.from(JSON.stringify(r)),
        timestamp: 0,
        headers: {},
        offset: String(i),
      };
      outputs.push(...task.process('in', 0, [fetched]));
      changelogs.push(...task.flushStores().records);
      if (next() < 0.15) {
        await task.abandon();
        task = await newTask();
        restarts++;
      }
    }
    const got = new Map<string, Output[]>();
    for (const o of outputs.map((r) => JSON.parse(String(r.value)) as Output))
      got.set(o.device, [...(got.get(o.device) ?? []), o]);
    assert.deepEqual(got, ttlDedupOracle([data], ttl));
    assert.ok(restarts > 100, `${restarts} restarts`);
  });

  it('fires wall-clock timers at punctuation, in time order, and lets onTimer forward to a named child', async () => {
    const fired: Timer[] = [];
    const t = topology('proc-wall');
    const processed = t
      .stream('in', { key: string(), value: json<number>() })
      .process<string, string>(
        () => ({
          process(record, context) {
            context.timers.schedule('wall', context.clock.now() + record.value, record.key);
          },
          onTimer(timer, context) {
            fired.push(timer);
            const child = timer.key.startsWith('x') ? 'to-x' : 'to-y';
            context.forward(
              { key: timer.key, value: `${timer.time}`, timestamp: timer.time, headers: {} },
              child,
            );
          },
        }),
        { name: 'wall', timers: 'wall-timers' },
      );
    processed.mapValues((v) => v, { name: 'to-x' }).to('x', { key: string(), value: string() });
    processed.mapValues((v) => v, { name: 'to-y' }).to('y', { key: string(), value: string() });
    const d = await createTestDriver(t.build(), { startTime: 1000 });
    const input = d.input('in', { key: string(), value: json<number>() });
    input.pipe('x1', 300);
    input.pipe('y1', 100);
    input.pipe('x2', 200);
    input.pipe('y2', 5000);
    assert.equal(fired.length, 0, 'nothing fires before the clock reaches it');
    d.advanceWallClock(1000);
    assert.deepEqual(
      fired.map((f) => [f.kind, f.time, f.key]),
      [
        ['wall', 1100, 'y1'],
        ['wall', 1200, 'x2'],
        ['wall', 1300, 'x1'],
      ],
    );
    assert.deepEqual(d.output('x', { key: string(), value: string() }).readValues(), [
      '1200',
      '1300',
    ]);
    assert.deepEqual(d.output('y', { key: string(), value: string() }).readValues(), ['1100']);
    d.advanceWallClock(10_000);
    assert.equal(fired.length, 4);
  });

  it('cancels timers, keeps one timer per (kind, time, key), and counts an onTimer that throws as skipped', async () => {
    const fired: string[] = [];
    const t = topology('proc-cancel');
    t.stream('in', { key: string(), value: string() })
      .process<string, string>(
        () => ({
          process(record, context) {
            const [op, at] = record.value.split(' ');
            const time = Number(at);
            if (op === 'set') context.timers.schedule('event', time, record.key);
            else if (op === 'time') fired.push(`time ${String(context.timers.streamTime)}`);
            else if (op === 'cancel')
              fired.push(`cancel ${String(context.timers.cancel('event', time, record.key))}`);
          },
          onTimer(timer) {
            fired.push(`${timer.key}@${timer.time}`);
            if (timer.key === 'boom') throw new Error('onTimer failed');
          },
        }),
        { name: 'cancels', timers: 'cancel-timers', onError: 'skip' },
      )
      .to('out', { key: string(), value: string() });
    const d = await createTestDriver(t.build());
    const input = d.input('in', { key: string(), value: string() });
    input.pipe('a', 'set 50', { timestamp: 10 });
    input.pipe('a', 'set 50', { timestamp: 11 });
    input.pipe('b', 'set 40', { timestamp: 12 });
    input.pipe('boom', 'set 45', { timestamp: 13 });
    input.pipe('b', 'cancel 40', { timestamp: 14 });
    input.pipe('b', 'cancel 40', { timestamp: 15 });
    input.pipe('c', 'time', { timestamp: 60 });
    input.pipe('c', 'time', { timestamp: 20 });
    await d.flush();
    assert.deepEqual(fired, [
      'cancel true',
      'cancel false',
      'time 60',
      'boom@45',
      'a@50',
      'time 60',
    ]);
    assert.equal(d.stats().skipped, 1);
  });
});
