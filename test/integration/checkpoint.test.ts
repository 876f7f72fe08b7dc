import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { readCheckpoint } from '../../src/state/index.ts';
import { uniqueName } from './helpers.ts';
import { readings } from './oracle.ts';
import { createTopics, kafka, produceJson, readTopic } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const partitions = 3;
const restoredIn = (w: WorkerProcess): number =>
  w.log.filter((e) => e['msg'] === 'store restored').reduce((n, e) => n + Number(e['records']), 0);

describe('restart from the checkpoint (real broker, RocksDB state directory)', () => {
  const live: WorkerProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tributary-it-checkpoint-'));
  after(() => {
    for (const w of live) w.signal('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores only the changelog tail written since the last checkpoint', async (t) => {
    const appId = uniqueName('it-checkpoint');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    const changelog = `${appId}-hourly-changelog`;
    await createTopics([
      { topic: input, partitions },
      { topic: output, partitions },
    ]);
    const start = (id: string): WorkerProcess => {
      const w = startWorkerProcess({ id, topology: 'hourly', appId, input, output, stateDir: dir });
      live.push(w);
      return w;
    };
    const data = readings(60_000, 30, 7).map((r) => ({ key: r.sensor, value: r }));

    // 1. A clean stop writes the checkpoint: the restart reads nothing from the changelog.
    const first = start('c1');
    await waitForAssignment([first], partitions);
    await produceJson(input, data.slice(0, 30_000), 5000);
    await readTopic(output, (rs) => rs.length > 100);
    assert.equal(await stopWorker(first), 0);
    const admin = kafka.admin();
    await admin.connect();
    const ends = async (): Promise<Map<number, bigint>> =>
      new Map((await admin.fetchTopicOffsets(changelog)).map((p) => [p.partition, BigInt(p.high)]));
    const changelogSize = [...(await ends()).values()].reduce((a, b) => a + b, 0n);
    assert.ok(changelogSize > 0n, 'the stores wrote their changelog');

    const second = start('c2');
    await waitForAssignment([second], partitions);
    assert.equal(
      restoredIn(second),
      0,
      `nothing to restore after a clean stop (changelog holds ${changelogSize})`,
    );

    // 2. After kill -9 the restart reads exactly what was written after the last checkpoint.
    await produceJson(input, data.slice(30_000), 5000);
    await readTopic(output, (rs) => rs.length > 600);
    second.signal('SIGKILL');
    await second.exited;
    const appDir = join(dir, appId);
    let tail = 0n;
    const end = await ends();
    for (const task of readdirSync(appDir)) {
      const partition = Number(task.split('_')[1]);
      const checkpointed = (await readCheckpoint(join(appDir, task)))?.get(changelog);
      tail += (end.get(partition) ?? 0n) - BigInt(checkpointed ?? '0');
    }
    await admin.disconnect();

    const third = start('c3');
    await waitForAssignment([third], partitions);
    assert.equal(
      BigInt(restoredIn(third)),
      tail,
      'restored records = changelog tail since the checkpoints',
    );
    const total = [...end.values()].reduce((a, b) => a + b, 0n);
    assert.ok(tail < total, `the tail (${tail}), not the whole changelog (${total})`);
    t.diagnostic(
      `changelog ${total} records; restored after kill -9: ${tail}; after a clean stop: 0`,
    );
    assert.equal(await stopWorker(third), 0);
  });
});
