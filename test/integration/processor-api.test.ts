// A custom stateful processor written with the public Processor API only (a per-key dedup with
// a TTL event-time timer: fixtures/ttl-dedup.ts), run by two worker processes under exactly-once
// through kill -9 after kill -9, against the real broker: the committed output must equal an
// oracle computed from the input alone (ttl-dedup-oracle.ts), with nothing twice and nothing
// lost. Input as real sources send it: out of order per device, with duplicates.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import { partitionForKey } from '../../src/kafka/index.ts';
import type { Output, Reading } from './fixtures/ttl-dedup.ts';
import { uniqueName } from './helpers.ts';
import { ttlDedupOracle } from './ttl-dedup-oracle.ts';
import { createTopics, produceSlowly, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';
import { random } from '../random.ts';

const fixture = new URL('./fixtures/ttl-dedup-worker.ts', import.meta.url).pathname;
const partitions = 6;
const ttlMs = 10 * 60_000;
const base = Date.UTC(2026, 5, 1);

/**
 * 40 devices over ~5 hours of event time: each reading up to 3 minutes out of order, one in 30
 * from 15-35 minutes back (a device flushing its buffer), one in 12 a duplicate of an earlier
 * reading (sent again with the same id); then one reading per partition far ahead, so every
 * session's timer is due by the end.
 */
function input(count: number): Reading[] {
  const next = random(2026);
  const out: Reading[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && next() < 1 / 12) {
      out.push({
        ...(out[out.length - 1 - Math.floor(next() * Math.min(out.length, 500))] as Reading),
      });
      continue;
    }
    const device = `dev-${Math.floor(next() * 40)}`;
    const back = next() < 1 / 30 ? 900_000 + Math.floor(next() * 1_200_000) : 0;
    const time = base + i * 600 - Math.floor(next() * 180_000) - back;
    out.push({ device, id: `r${i}`, time, v: Math.round(next() * 10_000) / 100 });
  }
  const end = base + count * 600 + 10 * ttlMs;
  for (let p = 0; p < partitions; p++) {
    let n = 0;
    while (partitionForKey(Buffer.from(`tick-${n}`), partitions) !== p) n++;
    out.push({ device: `tick-${n}`, id: 'end', time: end, v: 0 });
  }
  return out;
}

/** The input per partition, in the order produced (one producer, in order: the offset order). */
function byPartition(data: Reading[]): Reading[][] {
  const parts: Reading[][] = Array.from({ length: partitions }, () => []);
  for (const r of data) parts[partitionForKey(Buffer.from(r.device), partitions)]?.push(r);
  return parts;
}

const decode = (r: ReadRecord): Output => JSON.parse(r.value?.toString() ?? 'null') as Output;

function perDevice(read: ReadRecord[]): Map<string, Output[]> {
  const sorted = [...read].sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  const out = new Map<string, Output[]>();
  for (const r of sorted) {
    const o = decode(r);
    out.set(o.device, [...(out.get(o.device) ?? []), o]);
  }
  return out;
}

describe('a custom stateful processor with timers (Processor API) over a real broker', () => {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  after(() => {
    for (const w of live) w.signal('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('under exactly-once, equals the oracle after 8 kill -9 and restarts of 2 workers', async (t) => {
    const data = input(40_000);
    const expected = ttlDedupOracle(byPartition(data), ttlMs);
    const expectedCount = [...expected.values()].reduce((n, list) => n + list.length, 0);
    const appId = uniqueName('it-proc-ttl');
    const inputTopic = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: inputTopic, partitions },
      { topic: output, partitions },
    ]);
    const dirOf = new Map<string, string>();
    const start = (id: string): WorkerProcess => {
      let dir = dirOf.get(id);
      if (dir === undefined) {
        dir = mkdtempSync(join(tmpdir(), 'tributary-it-proc-'));
        dirs.push(dir);
        dirOf.set(id, dir);
      }
      const w = startWorkerProcess({
        id,
        fixture,
        appId,
        input: inputTopic,
        output,
        guarantee: 'exactly_once',
        stateDir: dir,
        env: { TTL_MS: String(ttlMs) },
      });
      live.push(w);
      return w;
    };
    const workers: Record<string, WorkerProcess> = { p1: start('p1'), p2: start('p2') };
    await waitForAssignment(Object.values(workers), partitions);
    const producing = produceSlowly(
      inputTopic,
      data.map((r) => ({ key: r.device, value: r })),
      2000,
      700,
    );
    const next = random(7);
    for (let kill = 0; kill < 8; kill++) {
      await sleep(1000 + Math.floor(next() * 2000));
      const id = kill % 2 === 0 ? 'p1' : 'p2';
      const victim = workers[id] as WorkerProcess;
      victim.signal('SIGKILL');
      await victim.exited;
      workers[id] = start(id);
    }
    await producing;
    await waitForAssignment(Object.values(workers), partitions, 120_000);
    const read = await readTopic(output, (rs) => rs.length >= expectedCount, 240_000);
    await sleep(3000);
    const settled = await readTopic(output, (rs) => rs.length >= read.length);
    const got = perDevice(settled);
    const summaries = [...expected.values()].flat().filter((o) => o.kind === 'summary').length;
    t.diagnostic(
      `${data.length} readings, ${expectedCount} expected outputs (${summaries} summaries), ${settled.length} committed`,
    );
    assert.equal(settled.length, expectedCount, 'nothing twice, nothing lost');
    for (const [device, list] of expected)
      assert.deepEqual(got.get(device), list, `device ${device}`);
    assert.deepEqual(await Promise.all(Object.values(workers).map((w) => stopWorker(w))), [0, 0]);
  });
});
