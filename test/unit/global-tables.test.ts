// Global tables without a broker: the worker's GlobalTables fed records directly, and the test
// driver's global tables fed by piping into the table's topic. Both against an oracle that
// replays the writes (last value per key, null deletes, what does not decode left out).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { silentLogger, TributaryError } from '../../src/core/index.ts';
import type { Logger } from '../../src/core/index.ts';
import type { TopicAdmin } from '../../src/kafka/index.ts';
import { GlobalTables } from '../../src/runtime/global-tables.ts';
import { prepareTopics } from '../../src/runtime/internal-topics.ts';
import { bytes, json, nullable, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';
import type { AnySerde } from '../../src/topology/plan.ts';

interface Station {
  name: string;
  n: number;
}

/** A fixed pseudo-random sequence (no Math.random: a failure must replay). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

type Write = { key: string; value: Station | null | 'malformed' };

function writes(count: number, seed: number): Write[] {
  const next = lcg(seed);
  return Array.from({ length: count }, (_, n) => {
    const key = `k${Math.floor(next() * 12)}`;
    const roll = next();
    return {
      key,
      value: roll < 0.2 ? null : roll < 0.27 ? 'malformed' : { name: `${key}@${n}`, n },
    };
  });
}

function oracle(ws: readonly Write[]): Map<string, Station> {
  const table = new Map<string, Station>();
  for (const { key, value } of ws) {
    if (value === 'malformed') continue;
    if (value === null) table.delete(key);
    else table.set(key, value);
  }
  return table;
}

const encode = (value: Write['value']): Buffer | null =>
  value === null
    ? null
    : value === 'malformed'
      ? Buffer.from('{oops')
      : Buffer.from(JSON.stringify(value));

describe('GlobalTables fed records', () => {
  it('holds the last decoded value per key, deletes on null, skips and counts what does not decode', async () => {
    const warned: object[] = [];
    const logger: Logger = { ...silentLogger, warn: (fields) => warned.push(fields) };
    // json() refuses null: a tombstone must still delete (the DSL wraps it, a plan may not).
    const tables = new GlobalTables(
      [
        { store: 'a', topic: 'stations', key: string() as AnySerde, value: json() as AnySerde },
        // A second table over the same topic gets every record too.
        { store: 'b', topic: 'stations', key: string() as AnySerde, value: json() as AnySerde },
      ],
      logger,
    );
    const ws = writes(400, 7);
    // Records spread over 3 partitions by key, in order per partition (so per key).
    for (let start = 0; start < ws.length; start += 25) {
      const chunk = ws.slice(start, start + 25);
      for (let p = 0; p < 3; p++) {
        const records = chunk
          .map((w, i) => ({ w, offset: String(start + i) }))
          .filter(({ w }) => Number(w.key.slice(1)) % 3 === p)
          .map(({ w, offset }) => ({ key: Buffer.from(w.key), value: encode(w.value), offset }));
        await tables.apply('stations', p, records);
      }
    }
    const expected = oracle(ws);
    const malformed = ws.filter((w) => w.value === 'malformed').length;
    assert.ok(malformed > 0 && ws.some((w) => w.value === null), 'the sequence has both');
    for (const store of ['a', 'b']) {
      const view = tables.view(store);
      assert.ok(view !== undefined);
      assert.equal(view.size, expected.size);
      for (let k = 0; k < 12; k++)
        assert.deepEqual(view.get(Buffer.from(`k${k}`)), expected.get(`k${k}`), `${store} k${k}`);
    }
    assert.equal(tables.skipped, 2 * malformed);
    assert.equal(warned.length, 2 * malformed);
    assert.ok(warned.every((w) => 'topic' in w && 'partition' in w && 'offset' in w));
    assert.equal(tables.view('nope'), undefined);
    assert.equal(tables.prepares('stations'), false);
    await tables.stop();
  });
});

describe('global tables in the test driver (piping into the topic)', () => {
  const build = () => {
    const t = topology('gt-unit');
    const stations = t.globalTable(
      'stations',
      { key: string(), value: json<Station>() },
      { store: 'stations' },
    );
    // The stream's key names the station key before the dot: `k3.17` looks up k3.
    t.stream('readings', { key: string(), value: json<{ seq: number }>() })
      .leftJoinGlobal(
        stations,
        (key) => key.split('.')[0] ?? '',
        (r, st) => ({ seq: r.seq, station: st?.name ?? null }),
        { name: 'station' },
      )
      .to('out', { key: string(), value: json<{ seq: number; station: string | null }>() });
    return t.build();
  };

  it('every record sees the table as written before it was processed; tombstones delete; malformed records are left out', async () => {
    const driver = await createTestDriver(build(), { partitions: 3, commit: 'batch' });
    const raw = driver.input('stations', { key: string(), value: nullable(bytes()) });
    const readings = driver.input('readings', { key: string(), value: json<{ seq: number }>() });
    const out = driver.output('out', {
      key: string(),
      value: json<{ seq: number; station: string | null }>(),
    });
    const next = lcg(11);
    const ws = writes(300, 3);
    const expected: { key: string; seq: number; station: string | null }[] = [];
    let seq = 0;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as Write;
      raw.pipe(w.key, encode(w.value));
      // After some writes, a few readings: each joins with the table as written so far.
      if (next() < 0.5) {
        const table = oracle(ws.slice(0, i + 1));
        for (let r = 0; r < 3; r++) {
          const key = `k${Math.floor(next() * 12)}.${seq}`;
          readings.pipe(key, { seq });
          expected.push({ key, seq, station: table.get(key.split('.')[0] ?? '')?.name ?? null });
          seq++;
        }
        // Processed before the next table write (global records are applied at the start of
        // the next processing, before what waits): half the time by a read (synchronous), half
        // by flush (awaited).
        if (next() < 0.5) await driver.flush();
        else out.readAll();
      }
    }
    assert.deepEqual(
      out
        .readAll()
        .map((o) => ({ key: o.key, ...o.value }))
        .sort((a, b) => a.seq - b.seq),
      expected,
    );
    await driver.close();
  });

  it('refuses a synchronous read while a global table record waits for its serdes prepareBatch', async () => {
    const t = topology('gt-prepare');
    const inner = json<Station>();
    const prepared: number[] = [];
    const stations = t.globalTable(
      'stations',
      {
        key: string(),
        value: {
          ...inner,
          prepareBatch: async (values: readonly (Buffer | null)[]) => {
            prepared.push(values.length);
          },
        },
      },
      { store: 'stations' },
    );
    t.stream('readings', { key: string(), value: json<{ seq: number }>() })
      .joinGlobal(
        stations,
        (key) => key,
        (r, st) => `${r.seq}@${st.name}`,
      )
      .to('out', { key: string(), value: json<string>() });
    const driver = await createTestDriver(t.build(), { partitions: 2 });
    driver.input('stations', { key: string(), value: inner }).pipe('a', { name: 'A', n: 0 });
    const out = driver.output('out', { key: string(), value: json<string>() });
    assert.throws(
      () => out.readAll(),
      (e: unknown) => (e as { code?: string }).code === 'TEST_DRIVER_MISUSE',
    );
    await driver.flush();
    assert.deepEqual(prepared, [1], 'prepareBatch ran once, for the one record');
    driver
      .input('readings', { key: string(), value: json<{ seq: number }>() })
      .pipe('a', { seq: 1 });
    assert.deepEqual(out.readValues(), ['1@A']);
    await driver.close();
  });
});

describe('start-up topic checks of a global table', () => {
  const plan = () => {
    const t = topology('gt-topics');
    const stations = t.globalTable(
      'stations',
      { key: string(), value: json<Station>() },
      { store: 'stations' },
    );
    t.stream('readings', { key: string(), value: json<{ seq: number }>() })
      .leftJoinGlobal(
        stations,
        (key) => key,
        (r) => r.seq,
      )
      .to('out', { key: string(), value: json<number>() });
    return t.build().plan;
  };
  const admin = (counts: Record<string, number>): TopicAdmin =>
    ({
      connect: async () => undefined,
      partitionCounts: async (topics: string[]) =>
        new Map(topics.flatMap((t) => (counts[t] === undefined ? [] : [[t, counts[t]] as const]))),
      createTopics: async () => undefined,
      brokerCount: async () => 1,
    }) as unknown as TopicAdmin;

  it('stops the start when the table topic does not exist, naming the table', async () => {
    await assert.rejects(
      prepareTopics(plan(), admin({ readings: 2, out: 2 }), silentLogger, 1),
      (e: unknown) =>
        e instanceof TributaryError &&
        e.code === 'TOPIC_MISMATCH' &&
        e.message.includes('stations (global table stations)'),
    );
  });

  it('reads the table topic outside the group: not a source topic, any partition count', async () => {
    const p = plan();
    assert.deepEqual(p.sourceTopics, ['readings']);
    const counts = await prepareTopics(
      p,
      admin({ readings: 2, out: 2, stations: 3 }),
      silentLogger,
      1,
    );
    assert.equal(counts.get('readings'), 2);
  });
});
