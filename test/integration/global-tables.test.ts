// A global table in two worker processes against the real broker: its topic (3 partitions) is
// not co-partitioned with the stream (2 partitions); every worker reads all of it before it
// processes, follows its updates and deletes, and skips a record that does not decode.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { uniqueName } from './helpers.ts';
import { createTopics, kafka, produceJson, readTopic } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

interface Out {
  sensor: string;
  time: number;
  station: string | null;
}

describe('a global table over a real broker', () => {
  const live: WorkerProcess[] = [];
  after(async () => {
    for (const w of live) await stopWorker(w).catch(() => undefined);
  });

  it('is read whole by every worker, follows updates and deletes, and needs no co-partitioning', async () => {
    const name = uniqueName('global');
    const [input, stations, output] = [`${name}-in`, `${name}-stations`, `${name}-out`];
    await createTopics([
      { topic: input, partitions: 2 },
      { topic: stations, partitions: 3, config: { 'cleanup.policy': 'compact' } },
      { topic: output, partitions: 2 },
    ]);
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    await produceJson(
      stations,
      ids.map((id) => ({ key: id, value: { name: `station ${id}` } })),
    );
    // A record that does not decode: left out of the table, logged.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: stations, messages: [{ key: 'zz', value: 'not json' }] });
    const workers = ['w1', 'w2'].map((id) => {
      const w = startWorkerProcess({
        id,
        topology: 'global',
        appId: name,
        input,
        output,
        env: { META_TOPIC: stations },
      });
      live.push(w);
      return w;
    });
    await waitForAssignment(workers, 2);
    const readings = (time: number) =>
      ids.flatMap((id) =>
        [1, 2].map((n) => ({
          key: `${id}-${n}`,
          value: { sensor: `${id}-${n}`, time, celsius: 1 },
        })),
      );
    await produceJson(input, readings(1));
    await readTopic(output, (r) => r.length >= 12);
    // Updates and a delete (a tombstone) while the workers run: probes until both see them.
    await produceJson(stations, [{ key: 'a', value: { name: 'station A2' } }]);
    await producer.send({ topic: stations, messages: [{ key: 'b', value: null }] });
    await producer.disconnect();
    let time = 2;
    for (;;) {
      await produceJson(input, readings(time));
      const read = await readTopic(output, (r) => r.length >= 12 * time);
      const latest = read
        .map((r) => JSON.parse(r.value?.toString() ?? 'null') as Out)
        .filter((o) => o.time === time);
      const ok = latest.every((o) =>
        o.sensor.startsWith('a-')
          ? o.station === 'station A2'
          : o.sensor.startsWith('b-')
            ? o.station === null
            : o.station === `station ${o.sensor[0]}`,
      );
      if (ok) break;
      time++;
      assert.ok(time < 30, 'the updates reached both workers');
    }
    const all = (await readTopic(output, (r) => r.length >= 12 * time)).map(
      (r) => JSON.parse(r.value?.toString() ?? 'null') as Out,
    );
    assert.equal(all.length, 12 * time, 'each reading once');
    for (const o of all.filter((x) => x.time === 1))
      assert.equal(o.station, `station ${o.sensor[0]}`, 'read whole before processing');
    // Both workers processed readings (each owns a partition) and each read the whole table.
    for (const w of workers) {
      const read = w.log.find((l) => l['msg'] === 'global table read');
      assert.ok(read !== undefined, `${w.id} read the global table`);
      assert.equal(read['entries'], ids.length, `${w.id}: every station, the bad record left out`);
    }
  });
});
