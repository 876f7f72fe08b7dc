import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { partitionForKey } from '../../src/kafka/index.ts';
import { uniqueName } from './helpers.ts';
import { createTopics, produceJson, readTopic } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

describe('keyBy over a real broker', () => {
  const live: WorkerProcess[] = [];
  after(() => {
    for (const w of live) w.signal('SIGKILL');
  });

  it("repartitions to Java's partition for the new key, and counts every record of a key in one task", async () => {
    const appId = uniqueName('it-keyby');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions: 6 },
      { topic: output, partitions: 6 },
    ]);
    const workers = ['r1', 'r2'].map((id) =>
      startWorkerProcess({ id, topology: 'keyby', appId, input, output }),
    );
    live.push(...workers);
    // Two sub-topologies on 6 partitions each: 12 tasks.
    await waitForAssignment(workers, 12);

    const stations = Array.from({ length: 17 }, (_, i) => `station-${i}`);
    // Keyed by device: the readings of one station arrive on many input partitions.
    const records = Array.from({ length: 3400 }, (_, i) => ({
      key: `device-${i % 97}`,
      value: { station: stations[i % stations.length], seq: i },
    }));
    await produceJson(input, records);

    const perStation = records.length / stations.length;
    const out = await readTopic(output, (rs) => rs.length >= records.length);
    const counts = out.map(
      (r) =>
        JSON.parse(r.value?.toString() ?? '{}') as { station: string; count: number; task: string },
    );
    for (const station of stations) {
      const mine = counts.filter((c) => c.station === station);
      assert.equal(mine.length, perStation, `${station}: every record counted`);
      assert.equal(
        Math.max(...mine.map((c) => c.count)),
        perStation,
        `${station}: one running count saw all`,
      );
      assert.equal(new Set(mine.map((c) => c.task)).size, 1, `${station}: one task`);
      assert.match(mine[0]?.task ?? '', /^1_/, 'counted in the second sub-topology');
    }

    const repartitioned = await readTopic(
      `${appId}-by-station-repartition`,
      (rs) => rs.length >= records.length,
    );
    for (const r of repartitioned) {
      assert.equal(
        r.partition,
        partitionForKey(r.key ?? '', 6),
        `${r.key} on its murmur2 partition`,
      );
    }
    assert.deepEqual(await Promise.all(workers.map((w) => stopWorker(w))), [0, 0]);
  });
});
