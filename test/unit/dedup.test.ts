import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { replayedFromHeader, silentLogger, taskId } from '../../src/core/index.ts';
import type { ProcessorContext, StreamRecord } from '../../src/core/index.ts';
import type { FetchedRecord, OutgoingRecord } from '../../src/kafka/index.ts';
import { dedupOperator } from '../../src/operators/index.ts';
import { deadLetterHeaders, Task } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { SeenStore } from '../../src/state/index.ts';
import { createTestDriver, ManualClock } from '../../src/testing/index.ts';
import { describeJson, hours, topology, tumbling, withAppId } from '../../src/topology/index.ts';
import type { DedupOptions, Plan } from '../../src/topology/index.ts';

interface Reading {
  sensor: string;
  time: number;
  celsius: number;
  message?: string;
}
const readings = { key: string(), value: json<Reading>() };
const hourMs = 3_600_000;
const start = Date.UTC(2026, 2, 1);

function dedupTopology(
  appId: string,
  options: Partial<DedupOptions<string, Reading>> & { retentionMs: number },
): Plan {
  const t = topology(appId);
  t.stream('in', readings, { name: 'in', timestamp: 'time' })
    .dedup({ store: 'seen', ...options })
    .to('out', readings, { name: 'to-out' });
  return t.build().plan;
}

const reading = (sensor: string, time: number, celsius = 20): Reading => ({
  sensor,
  time,
  celsius,
});

/**
 * The oracle: what a dedup step with per-key retention lets through, computed with plain lists:
 * a record passes unless its key has a retained entry of its id; it is remembered unless it is
 * already older than its key's latest time minus the retention.
 */
function expectedThrough(
  input: Reading[],
  retentionMs: number,
  idOf: (r: Reading) => string = (r) => String(r.time),
): Reading[] {
  const seen = new Map<string, { time: number; id: string }[]>();
  const through: Reading[] = [];
  for (const r of input) {
    const list = seen.get(r.sensor) ?? [];
    seen.set(r.sensor, list);
    const latest = Math.max(-Infinity, ...list.map((e) => e.time));
    const live = list.filter((e) => e.time + retentionMs > Math.max(latest, r.time));
    if (list.some((e) => e.id === idOf(r) && e.time + retentionMs > latest)) continue;
    through.push(r);
    if (r.time + retentionMs > latest) live.push({ time: r.time, id: idOf(r) });
    seen.set(r.sensor, live);
  }
  return through;
}

/** The live entries of a changelog, read as a compacted topic would keep them. */
function liveEntries(changelog: OutgoingRecord[]): Map<string, number> {
  const live = new Map<string, Buffer>();
  for (const r of changelog) {
    const id = (r.key as Buffer).toString('latin1');
    if (r.value === null) live.delete(id);
    else live.set(id, r.key as Buffer);
  }
  const perKey = new Map<string, number>();
  for (const key of live.values()) {
    const name = key.subarray(0, key.length - 8).toString();
    perKey.set(name, (perKey.get(name) ?? 0) + 1);
  }
  return perKey;
}

describe('dedup step', () => {
  it('drops a record whose key and event time were seen, and lets other keys have that time', async () => {
    const driver = await createTestDriver({
      plan: dedupTopology('dd-basic', { retentionMs: hourMs }),
    });
    const input = driver.input('in', readings);
    const sent = [
      reading('a', start, 20),
      reading('b', start, 21),
      reading('a', start, 99), // same key and time: a duplicate, whatever its value
      reading('a', start + 1000, 22),
      reading('b', start, 21),
    ];
    for (const r of sent) input.pipe(r.sensor, r);
    assert.deepEqual(driver.output('out', readings).readValues(), [
      reading('a', start, 20),
      reading('b', start, 21),
      reading('a', start + 1000, 22),
    ]);
  });

  it("forgets by each key's own event time: an entity-ordered backfill keeps the second key's entries", async () => {
    const retentionMs = 26 * hourMs;
    const driver = await createTestDriver({
      plan: dedupTopology('dd-backfill', { retentionMs }),
    });
    const input = driver.input('in', readings);
    const sent: Reading[] = [];
    // Location a's ten days, then b's first three days, then b's third day again (an overlapping
    // chunk). By the partition's time (a's day 10) b's day-3 entries would be long forgotten.
    for (let h = 0; h < 240; h++) sent.push(reading('a', start + h * hourMs, h % 30));
    for (let h = 0; h < 72; h++) sent.push(reading('b', start + h * hourMs, h % 25));
    for (let h = 48; h < 72; h++) sent.push(reading('b', start + h * hourMs, h % 25));
    // And a's first day again: older than a's time minus the retention, so not judged.
    for (let h = 0; h < 3; h++) sent.push(reading('a', start + h * hourMs, h % 30));
    for (const r of sent) input.pipe(r.sensor, r);
    const out = driver.output('out', readings).readValues();
    assert.deepEqual(out, expectedThrough(sent, retentionMs));
    assert.equal(out.length, 240 + 72 + 3, "b's repeated day dropped, a's old hours passed on");
    // Each key keeps 26 entries (hours latest-25 .. latest), in the compacted changelog too.
    assert.deepEqual(
      liveEntries(driver.written('dd-backfill-seen-changelog')),
      new Map([
        ['a', 26],
        ['b', 26],
      ]),
    );
  });

  it('equals the oracle on readings out of order, repeated and late, over several keys', async () => {
    const retentionMs = 10 * 60_000;
    const driver = await createTestDriver(
      { plan: dedupTopology('dd-random', { retentionMs }) },
      { partitions: 3 },
    );
    const input = driver.input('in', readings);
    let seed = 17;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sent: Reading[] = [];
    for (let i = 0; i < 3000; i++) {
      const sensor = `s${Math.floor(next() * 7)}`;
      const jitter = Math.floor(next() * 20) * 30_000; // up to 10 minutes back
      const r = reading(sensor, start + Math.floor(i / 7) * 60_000 - jitter, i % 40);
      sent.push(r);
      if (next() < 0.1) sent.push({ ...r });
    }
    for (const r of sent) input.pipe(r.sensor, r);
    const out = driver.output('out', readings).readAll();
    for (const sensor of new Set(sent.map((r) => r.sensor))) {
      assert.deepEqual(
        out.filter((r) => r.key === sensor).map((r) => r.value),
        expectedThrough(
          sent.filter((r) => r.sensor === sensor),
          retentionMs,
        ),
        sensor,
      );
    }
    assert.ok(out.length < sent.length, `${out.length} of ${sent.length} through`);
  });

  it('with an id function, a record of a key is a duplicate when its id was seen, whatever its time', async () => {
    const driver = await createTestDriver({
      plan: dedupTopology('dd-ids', { retentionMs: hourMs, id: (r) => r.message ?? '' }),
    });
    const input = driver.input('in', readings);
    const sent = [
      { ...reading('a', start), message: 'm1' },
      { ...reading('a', start + 5000), message: 'm1' }, // sent again later: a duplicate
      { ...reading('a', start), message: 'm2' }, // same time, another message
      { ...reading('b', start), message: 'm1' }, // another key
    ];
    for (const r of sent) input.pipe(r.sensor, r);
    assert.deepEqual(
      driver
        .output('out', readings)
        .readValues()
        .map((r) => `${r.sensor}:${r.message}`),
      ['a:m1', 'a:m2', 'b:m1'],
    );
    const keys = driver.written('dd-ids-seen-changelog').map((r) => (r.key as Buffer).length);
    // 'a' + 8-byte time + 'm1' + 2-byte length
    assert.deepEqual(keys, [13, 13, 13]);
  });

  it('counts duplicates and unjudged records; the operator passes on the others unchanged', () => {
    const store = new SeenStore('seen', false);
    const op = dedupOperator(
      { name: 'dedup', key: string() as never, retentionMs: 1000, id: undefined },
      store,
    );
    const forwarded: StreamRecord<unknown, unknown>[] = [];
    const context = {
      forward: (r: StreamRecord<unknown, unknown>) => forwarded.push(r),
    } as unknown as ProcessorContext<unknown, unknown>;
    const record = (key: string, timestamp: number) => ({
      key,
      value: { v: timestamp },
      timestamp,
      headers: { h: 'x' },
    });
    for (const [key, t] of [
      ['a', 5000],
      ['a', 5000],
      ['a', 5500],
      ['a', 3000], // older than 5500 - 1000: passed on unchecked
      ['a', 3000], // and not remembered
      ['a', 5000],
    ] as const)
      op.process(record(key, t), context);
    assert.deepEqual(
      forwarded.map((r) => r.timestamp),
      [5000, 5500, 3000, 3000],
    );
    assert.deepEqual(forwarded[0], record('a', 5000));
    assert.deepEqual(op.stats, { duplicates: 2, unchecked: 2 });
    assert.equal(store.size, 2);
  });

  it('lets a replayed dead letter through although its key and time were seen', () => {
    const store = new SeenStore('seen', false);
    const op = dedupOperator(
      { name: 'dedup', key: string() as never, retentionMs: 1000, id: undefined },
      store,
    );
    const forwarded: StreamRecord<unknown, unknown>[] = [];
    const context = {
      forward: (r: StreamRecord<unknown, unknown>) => forwarded.push(r),
    } as unknown as ProcessorContext<unknown, unknown>;
    const record = (headers: Record<string, string>) => ({
      key: 'a',
      value: 1,
      timestamp: 5000,
      headers,
    });
    op.process(record({}), context);
    op.process(record({}), context); // a duplicate
    op.process(record({ [replayedFromHeader]: '0:17' }), context); // replayed by tributary dlq
    assert.equal(forwarded.length, 2);
    assert.equal(forwarded[1]?.headers[replayedFromHeader], '0:17');
    assert.deepEqual(op.stats, { duplicates: 1, unchecked: 0 });
    assert.equal(store.size, 1);
  });

  it('sends a record without a usable event time to the dead-letter topic and goes on', async () => {
    const t = topology('dd-bad');
    t.stream('in', readings, { name: 'in', timestamp: (r) => r.time })
      .dedup({ store: 'seen', retentionMs: hourMs })
      .to('out', readings);
    const driver = await createTestDriver(t.build());
    const input = driver.input('in', readings);
    input.pipe('a', reading('a', -5));
    input.pipe('a', reading('a', 1.5));
    input.pipe('a', reading('a', start));
    assert.equal(driver.output('out', readings).readValues().length, 1);
    const dead = driver.written('dd-bad-dlq');
    assert.equal(dead.length, 2);
    assert.ok(dead.every((d) => d.headers[deadLetterHeaders.code] === 'OPERATOR_FAILED'));
    assert.ok(dead.every((d) => d.headers[deadLetterHeaders.operator] === 'seen'));
  });

  it('restored from its changelog, goes on exactly as if it had never stopped', async () => {
    const plan = dedupTopology('dd-restore', { retentionMs: 20 * 60_000 });
    const sub = plan.subtopologies[0];
    assert.ok(sub !== undefined);
    const newTask = async (): Promise<Task> => {
      const task = new Task({
        id: taskId(0, 0),
        subtopology: sub,
        partition: 0,
        dlqTopic: plan.dlqTopic,
        clock: new ManualClock(0),
        logger: silentLogger,
      });
      return task;
    };
    const serde = json<Reading>();
    const input: FetchedRecord[] = [];
    for (let i = 0; i < 1200; i++) {
      const sensor = `s${i % 5}`;
      const time = start + Math.floor(i / 5) * 30_000 - (i % 3) * 45_000;
      const r = reading(sensor, time, i % 11);
      const record = {
        key: Buffer.from(sensor),
        value: serde.serialize(r, 'in') as Buffer,
        timestamp: time,
        headers: {},
      };
      input.push({ ...record, offset: String(input.length) });
      if (i % 4 === 0) input.push({ ...record, offset: String(input.length) });
    }
    const outputs = (records: OutgoingRecord[]): string[] =>
      records
        .filter((r) => r.topic === 'out')
        .map((r) => `${String(r.key)}:${String(r.value)}:${r.timestamp}`);
    const run = (task: Task, records: FetchedRecord[], changelog: OutgoingRecord[]): string[] => {
      const out: string[] = [];
      for (let i = 0; i < records.length; i += 37) {
        out.push(...outputs(task.process('in', 0, records.slice(i, i + 37))));
        changelog.push(...task.flushStores().records);
      }
      return out;
    };

    const whole = await newTask();
    await whole.init();
    const expected = run(whole, input, []);

    const cut = 1000;
    const first = await newTask();
    await first.init();
    const changelog: OutgoingRecord[] = [];
    const before = run(first, input.slice(0, cut), changelog);
    const second = await newTask();
    const memory = second.stores.get('seen')?.memory;
    assert.ok(memory !== undefined);
    // As restore does: every changelog record applied in order; a tail replayed again (after
    // RocksDB already had it) must change nothing.
    for (const r of [...changelog, ...changelog.slice(changelog.length / 2)])
      memory.apply(r.key as Buffer, r.value);
    await second.init();
    const after = run(second, input.slice(cut), []);
    assert.deepEqual([...before, ...after], expected);
    assert.equal(memory.size, whole.stores.get('seen')?.memory.size);
    assert.ok(expected.length < input.length, 'some records were duplicates');
  });
});

describe('dedup in the topology', () => {
  it('declares a seen store with a compacted changelog named after it', () => {
    const plan = dedupTopology('dd-plan', { retentionMs: hourMs, name: 'once' });
    const node = plan.subtopologies[0]?.nodes.find((n) => n.name === 'once');
    assert.ok(node?.kind === 'process' && node.label === 'dedup');
    assert.deepEqual(plan.subtopologies[0]?.stores, [
      { name: 'seen', changelogTopic: 'dd-plan-seen-changelog', kind: 'seen', withIds: false },
    ]);
    assert.ok(
      plan.internalTopics.some(
        (t) => t.name === 'dd-plan-seen-changelog' && t.kind === 'changelog',
      ),
    );
    const renamed = withAppId(
      { appId: 'dd-plan', plan, describe: () => ({ text: '', mermaid: '' }) },
      'other',
    );
    assert.equal(renamed.plan.subtopologies[0]?.stores[0]?.changelogTopic, 'other-seen-changelog');
    const t = topology('dd-text');
    t.stream('in', readings, { timestamp: 'time' })
      .dedup({ store: 'seen', retentionMs: 60_000 })
      .to('out', readings);
    const described = t.build();
    assert.equal(describeJson(described.plan).subtopologies[0]?.nodes[1]?.store, 'seen');
    assert.match(described.describe().mermaid, /seen<br\/>store/);
    assert.match(
      described.describe().text,
      /Processor: seen \(dedup, store: seen, retention: 60000 ms\)/,
    );
  });

  it('is refused after an operator that may change the key, and allowed after those that keep it', () => {
    const t = topology('dd-keys');
    const source = t.stream('in', readings, { timestamp: 'time' });
    for (const changed of [
      source.map((k, v) => [k, v] as const),
      source.flatMap((k, v) => [[k, v] as const]),
    ]) {
      assert.throws(
        () => changed.dedup({ store: 'x', retentionMs: 1000 }),
        (error: Error & { code?: string }) =>
          error.code === 'TOPOLOGY_INVALID' &&
          /^dedup\(\) after (map|flatMap) .*keyBy\(fn, \{ key, value \}\) first/.test(
            error.message,
          ),
      );
    }
    const kept = source
      .filter(() => true)
      .mapValues((v) => v)
      .dedup({ store: 'seen', retentionMs: 1000 });
    // The key stays the partitioning key after dedup: grouping by it needs no repartition.
    kept
      .groupByKey()
      .windowedBy(tumbling(hours(1)))
      .count({ store: 'counts' })
      .to('counts', { key: string(), value: json() });
    const plan = t.build().plan;
    assert.equal(plan.subtopologies.length, 1);
  });

  it('rejects a missing store, a bad retention, and a store name another operator uses', () => {
    const source = () => topology('dd-bad-options').stream('in', readings);
    assert.throws(
      () => source().dedup({ store: 'seen', retentionMs: 0 }),
      /retentionMs of dedup 'seen' must be a positive whole number/,
    );
    assert.throws(
      () => source().dedup({ store: 'seen', retentionMs: 1.5 }),
      /positive whole number/,
    );
    assert.throws(
      () => source().dedup({ retentionMs: 1000 } as unknown as DedupOptions<string, Reading>),
      /needs a store name/,
    );
    const t = topology('dd-twice');
    const deduped = t
      .stream('in', readings)
      .dedup({ store: 'state', name: 'once', retentionMs: 1000 });
    deduped
      .groupByKey()
      .count({ store: 'state', name: 'counts' })
      .to('out', { key: string(), value: json() });
    assert.throws(
      () => t.build(),
      /store name 'state' is used twice: by dedup 'once' .* and aggregate 'counts'/,
    );
  });
});
