// Standby tasks (src/runtime/standby.ts, decision 0026) over a changelog served from memory and a
// real RocksDB: passes copy the changelog into the store and checkpoint where they reached, a
// standby is caught up once a pass finds it within the acceptable lag, a warm-up that catches up
// asks for a rebalance once, and a standby given up closes its stores for its task to open.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { silentLogger } from '../../src/core/index.ts';
import type { TaskId } from '../../src/core/index.ts';
import type { ChangelogReader, FetchedRecord } from '../../src/kafka/index.ts';
import { StandbyTasks } from '../../src/runtime/standby.ts';
import { json, string } from '../../src/serde/index.ts';
import { readCheckpoint, storeDir, taskStateDir } from '../../src/state/index.ts';
import { RocksDbPersistence } from '../../src/state/rocksdb/index.ts';
import { topology } from '../../src/topology/index.ts';

const appId = 'standby-unit';
const t = topology(appId);
t.stream('in', { key: string(), value: string() })
  .groupByKey()
  .count({ store: 'counts' })
  .to('out', { key: string(), value: json<number>() });
const plan = t.build().plan;
const changelog = `${appId}-counts-changelog`;

/** A changelog in memory: partition -> records; reads honour `from` and `to`, as the real one. */
function memoryChangelog(): {
  log: Map<number, FetchedRecord[]>;
  reader: ChangelogReader;
  fail: { next: boolean };
} {
  const log = new Map<number, FetchedRecord[]>();
  const fail = { next: false };
  const reader: ChangelogReader = {
    async offsetRanges(tps) {
      return new Map(
        tps.map((tp) => [
          `${tp.topic}/${tp.partition}`,
          { start: 0n, end: BigInt(log.get(tp.partition)?.length ?? 0) },
        ]),
      );
    },
    async read(requests, onRecords) {
      if (fail.next) {
        fail.next = false;
        throw new Error('broker down');
      }
      const progress = new Map();
      for (const r of requests) {
        const all = log.get(r.partition) ?? [];
        const end = Math.min(all.length, r.to === undefined ? all.length : Number(r.to));
        const from = Number(r.from);
        const records = all.slice(from, Math.max(from, end));
        if (records.length > 0)
          await onRecords({ topic: r.topic, partition: r.partition }, records);
        progress.set(`${r.topic}/${r.partition}`, {
          records: records.length,
          position: BigInt(Math.max(from, end)),
        });
      }
      return progress;
    },
  };
  return { log, reader, fail };
}

const record = (offset: number, key: string, value: number): FetchedRecord => ({
  key: Buffer.from(key),
  value: Buffer.from(JSON.stringify(value)),
  timestamp: 0,
  headers: {},
  offset: String(offset),
});

describe('standby tasks', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  /** Standby tasks of `plan` in a fresh state directory, read through `reader`; counts probes. */
  const standbysOver = (
    reader: ChangelogReader,
    stateDir: string,
    probes: { n: number },
    probeIntervalMs?: number,
  ) =>
    new StandbyTasks({
      ...(probeIntervalMs === undefined ? {} : { probeIntervalMs }),
      plan,
      location: { stateDir, appId },
      reader,
      logger: silentLogger,
      acceptableLag: 100,
      intervalMs: 20,
      onCaughtUp: () => probes.n++,
    });
  const freshDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-standby-unit-'));
    dirs.push(dir);
    return dir;
  };

  it('copies the changelog into RocksDB, checkpoints it, and reports caught up within the acceptable lag', async () => {
    const stateDir = freshDir();
    const { log, reader, fail } = memoryChangelog();
    log.set(
      1,
      Array.from({ length: 250 }, (_, i) => record(i, `k${i % 100}`, i)),
    );
    const probes = { n: 0 };
    const standbys = standbysOver(reader, stateDir, probes);
    const id = '0_1' as TaskId;
    await standbys.update(new Map([[id, true]]));
    assert.deepEqual(standbys.report(), { standby: ['0_1'], caughtUp: [] });
    // The first pass reads 250 records: behind (over 100); the next reads none: caught up.
    for (let i = 0; i < 100 && standbys.report().caughtUp.length === 0; i++) await sleep(10);
    assert.deepEqual(standbys.report().caughtUp, ['0_1']);
    assert.equal(probes.n, 1, 'the warm-up asked for one rebalance');
    // An assignment that still names it a warm-up was made before the leader saw it caught up
    // (the probe met a rejoin under way): it asks again.
    await standbys.update(new Map([[id, true]]));
    await sleep(5);
    assert.equal(probes.n, 2, 'a warm-up caught up and assigned again asks again');
    const taskDir = taskStateDir(stateDir, appId, id);
    assert.equal((await readCheckpoint(taskDir))?.get(changelog), '250');
    // More arrives, a pass fails (Kafka down) and the next reads it: still one probe.
    fail.next = true;
    log.get(1)?.push(...Array.from({ length: 50 }, (_, i) => record(250 + i, `k${i}`, 1000 + i)));
    for (let i = 0; i < 300 && (await readCheckpoint(taskDir))?.get(changelog) !== '300'; i++)
      await sleep(10);
    assert.equal((await readCheckpoint(taskDir))?.get(changelog), '300');
    assert.equal(probes.n, 2);
    assert.equal(standbys.stats.records, 300);
    // Given up: its stores close, and hold the latest value of every key.
    await standbys.update(new Map());
    assert.equal(standbys.size, 0);
    const db = await RocksDbPersistence.open(storeDir(stateDir, appId, id, 'counts'));
    const found = new Map<string, string>();
    await db.loadAll((key, value) => found.set(key.toString(), value.toString()));
    await db.close();
    assert.equal(found.size, 100);
    assert.equal(found.get('k0'), '1000');
    assert.equal(found.get('k99'), '199');
    await standbys.close();
  });

  it('a standby that is not a warm-up asks for no rebalance, and a new one starts from its checkpoint', async () => {
    const stateDir = freshDir();
    const { log, reader } = memoryChangelog();
    log.set(
      0,
      Array.from({ length: 10 }, (_, i) => record(i, `k${i}`, i)),
    );
    const probes = { n: 0 };
    const make = () => standbysOver(reader, stateDir, probes);
    const first = make();
    await first.update(new Map([['0_0' as TaskId, false]]));
    for (let i = 0; i < 100 && first.report().caughtUp.length === 0; i++) await sleep(10);
    assert.deepEqual(first.report().caughtUp, ['0_0']);
    await first.close();
    log.get(0)?.push(record(10, 'k0', 99));
    const second = make();
    await second.update(new Map([['0_0' as TaskId, false]]));
    for (let i = 0; i < 100 && second.stats.passes === 0; i++) await sleep(10);
    assert.equal(second.stats.records, 1, 'only what the checkpoint did not cover');
    await second.close();
    assert.equal(probes.n, 0);
  });

  it('a standby whose stores cannot be opened yet (their lock held) opens at a later pass', async () => {
    const stateDir = freshDir();
    const { log, reader } = memoryChangelog();
    log.set(2, [record(0, 'k', 1)]);
    const id = '0_2' as TaskId;
    const holder = await RocksDbPersistence.open(storeDir(stateDir, appId, id, 'counts'));
    const probes = { n: 0 };
    const standbys = standbysOver(reader, stateDir, probes);
    await standbys.update(new Map([[id, true]]));
    assert.equal(standbys.size, 0, 'not opened while the lock is held');
    assert.deepEqual(standbys.report(), { standby: [], caughtUp: [] });
    await holder.close();
    for (let i = 0; i < 300 && standbys.report().caughtUp.length === 0; i++) await sleep(10);
    assert.deepEqual(standbys.report(), { standby: ['0_2'], caughtUp: ['0_2'] });
    assert.equal(probes.n, 1);
    await standbys.close();
  });

  it('probes on an interval while it holds warm-ups, and not once it holds none', async () => {
    const { reader } = memoryChangelog();
    const probes = { n: 0 };
    const standbys = standbysOver(reader, freshDir(), probes, 150);
    await standbys.update(new Map([['0_3' as TaskId, true]]));
    for (let i = 0; i < 100 && probes.n < 3; i++) await sleep(20);
    assert.ok(probes.n >= 3, `the caught-up probe and the interval's (${probes.n})`);
    await standbys.update(new Map([['0_3' as TaskId, false]]));
    const after = probes.n;
    await sleep(500);
    assert.equal(probes.n, after, 'a standby that is no warm-up probes nothing');
    await standbys.close();
  });
});
