// Joins and a retracting table aggregation under exactly-once, through kill -9 after kill -9 of
// two worker processes against the real broker (fixtures/joins-worker.ts): the committed output
// must equal an oracle computed from the input alone. The left join's window has an hour of
// grace, so no record is late and its result does not depend on which topic a task reads first:
// each (reading, alert) pair of a device at most 30 s apart once, and each reading no alert came
// near once with null, emitted when the window closed (a last record per partition, far ahead,
// closes them all). The room counts: the last count per room equals the rooms' final occupancy.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import { partitionForKey } from '../../src/kafka/index.ts';
import type { Event } from './fixtures/joins-worker.ts';
import { eventually, uniqueName } from './helpers.ts';
import { createTopics, kafka, produceJson, produceSlowly, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { startWorkerProcess, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';
import { random } from '../random.ts';

const fixture = new URL('./fixtures/joins-worker.ts', import.meta.url).pathname;
const partitions = 4;
const base = Date.UTC(2026, 5, 1);
const windowMs = 30_000;

/** Readings and alerts of 30 devices over ~40 minutes, each up to 2 minutes out of order. */
function events(count: number, seed: number, prefix: string): Event[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => ({
    device: `dev-${Math.floor(next() * 30)}`,
    id: `${prefix}${i}`,
    time: base + Math.floor((i / count) * 40 * 60_000) - Math.floor(next() * 120_000),
  }));
}

/** A record per partition far ahead of the rest: its stream time closes every window. */
function closers(prefix: string): Event[] {
  return Array.from({ length: partitions }, (_, p) => {
    let n = 0;
    while (partitionForKey(Buffer.from(`end-${n}`), partitions) !== p) n++;
    return { device: `end-${n}`, id: `${prefix}end-${p}`, time: base + 10 * 3_600_000 };
  });
}

/** The left join's results as `reading|alert` (alert `-` for none), each pair once. */
function joinOracle(readings: Event[], alerts: Event[]): string[] {
  const out: string[] = [];
  for (const r of readings) {
    const matches = alerts.filter(
      (a) => a.device === r.device && Math.abs(a.time - r.time) <= windowMs,
    );
    if (matches.length === 0) out.push(`${r.id}|-`);
    for (const a of matches) out.push(`${r.id}|${a.id}`);
  }
  return out.sort();
}

describe('joins and table aggregations under exactly-once through kill -9', () => {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  after(() => {
    for (const w of live) w.signal('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a stream-stream left join and a retracting room count equal their oracles after 6 kill -9', async () => {
    const readings = [...events(6000, 1, 'r'), ...closers('r')];
    const alerts = [...events(1500, 2, 'a'), ...closers('a')];
    const expectedJoin = joinOracle(readings, alerts);
    // Rooms: 60 devices assigned, then moved (and some unassigned: a tombstone) again and again.
    const next = random(3);
    const assignments: { key: string; value: string | null }[] = [];
    const rooms = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      const device = `dev-${Math.floor(next() * 60)}`;
      const room = next() < 0.05 ? null : `room-${Math.floor(next() * 7)}`;
      assignments.push({ key: device, value: room });
      if (room === null) rooms.delete(device);
      else rooms.set(device, room);
    }
    const occupancy = new Map<string, number>();
    for (let r = 0; r < 7; r++) occupancy.set(`room-${r}`, 0);
    for (const room of rooms.values()) occupancy.set(room, (occupancy.get(room) ?? 0) + 1);

    const appId = uniqueName('it-joins-crash');
    const topics = {
      INPUT_TOPIC: `${appId}-readings`,
      ALERTS_TOPIC: `${appId}-alerts`,
      OUTPUT_TOPIC: `${appId}-joined`,
      ROOMS_TOPIC: `${appId}-rooms`,
      COUNTS_TOPIC: `${appId}-counts`,
    };
    await createTopics([...Object.values(topics).map((topic) => ({ topic, partitions }))]);
    const dirOf = new Map<string, string>();
    const start = (id: string): WorkerProcess => {
      let dir = dirOf.get(id);
      if (dir === undefined) {
        dir = mkdtempSync(join(tmpdir(), 'tributary-it-joins-'));
        dirs.push(dir);
        dirOf.set(id, dir);
      }
      const w = startWorkerProcess({
        id,
        fixture,
        appId,
        input: topics.INPUT_TOPIC,
        output: topics.OUTPUT_TOPIC,
        stateDir: dir,
        env: { ...topics, STATE_DIR: dir },
      });
      live.push(w);
      return w;
    };
    const workers: Record<string, WorkerProcess> = { j1: start('j1'), j2: start('j2') };
    // Three sub-topologies: the join, the rooms table and its groupBy, the count.
    await waitForAssignment(Object.values(workers), partitions * 3);
    const body = (list: Event[]) =>
      list.slice(0, -partitions).map((e) => ({ key: e.device, value: e }));
    const producing = Promise.all([
      produceSlowly(topics.INPUT_TOPIC, body(readings), 500, 400),
      produceSlowly(topics.ALERTS_TOPIC, body(alerts), 125, 400),
      produceSlowly(topics.ROOMS_TOPIC, assignments, 250, 400),
    ]);
    const pick = random(7);
    for (let kill = 0; kill < 6; kill++) {
      await sleep(1000 + Math.floor(pick() * 2000));
      const id = kill % 2 === 0 ? 'j1' : 'j2';
      const victim = workers[id] as WorkerProcess;
      victim.signal('SIGKILL');
      await victim.exited;
      workers[id] = start(id);
    }
    await producing;
    // Only once the workers processed (committed) both streams, the records far ahead: closing
    // the windows earlier would make what is still unread late.
    await committedToEnd(appId, [topics.INPUT_TOPIC, topics.ALERTS_TOPIC]);
    await produceJson(
      topics.ALERTS_TOPIC,
      alerts.slice(-partitions).map((e) => ({ key: e.device, value: e })),
    );
    await produceJson(
      topics.INPUT_TOPIC,
      readings.slice(-partitions).map((e) => ({ key: e.device, value: e })),
    );
    await waitForAssignment(Object.values(workers), partitions * 3, 120_000);

    const decode = (r: ReadRecord): { reading: string; alert: string | null } =>
      JSON.parse(r.value?.toString() ?? 'null') as { reading: string; alert: string | null };
    const joinedRecords = await readTopic(
      topics.OUTPUT_TOPIC,
      (rs) => rs.length >= expectedJoin.length,
      240_000,
    );
    await sleep(3000);
    const settled = await readTopic(topics.OUTPUT_TOPIC, (rs) => rs.length >= joinedRecords.length);
    const joined = settled
      .map(decode)
      .filter((o) => !o.reading.startsWith('rend') && !(o.alert ?? '').startsWith('aend'))
      .map((o) => `${o.reading}|${o.alert ?? '-'}`)
      .sort();
    const expected = expectedJoin.filter((k) => !k.startsWith('rend') && !k.includes('|aend'));
    assert.equal(joined.length, expected.length, 'each result once');
    assert.deepEqual(joined, expected);

    // The last count per room (in offset order per partition: a room is one key) is its occupancy.
    await eventuallyLast(topics.COUNTS_TOPIC, occupancy);
  });
});

/** Waits until the group has committed every record of the topics (all are processed). */
async function committedToEnd(groupId: string, topicNames: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(
      `${groupId} to commit ${topicNames.join(', ')} to their ends`,
      async () => {
        for (const topic of topicNames) {
          const ends = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]));
          if (!ends.every((p) => Number(p.high) === 0 || at.get(p.partition) === Number(p.high)))
            return undefined;
        }
        return true;
      },
      240_000,
      500,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the last committed count of every room equals its occupancy (then asserts it). */
async function eventuallyLast(topic: string, occupancy: Map<string, number>): Promise<void> {
  const lastOf = (records: ReadRecord[]): Map<string, number> => {
    const sorted = [...records].sort(
      (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
    );
    const last = new Map<string, number>();
    for (const r of sorted)
      last.set(r.key ?? '', JSON.parse(r.value?.toString() ?? 'null') as number);
    return last;
  };
  // What was read when the wait ended: a timeout then shows the counts as they stood.
  let seen: ReadRecord[] = [];
  const matches = (records: ReadRecord[]): boolean => {
    seen = records;
    const last = lastOf(records);
    return [...occupancy].every(([room, n]) => (last.get(room) ?? 0) === n);
  };
  await readTopic(topic, matches, 120_000).catch(() => undefined);
  const final = lastOf(seen);
  assert.deepEqual(
    new Map([...final].filter(([, n]) => n > 0)),
    new Map([...occupancy].filter(([, n]) => n > 0)),
    'the last count of each room (actual) against its final occupancy (expected)',
  );
}
