// (e) The entity-major backfill of disorder.test.ts again, under exactly-once, while the group
// scales 1 -> 3 -> 1 workers as it flows: the tasks move to the added workers and back, each
// time with open windows and every device's own time in its stores, so each new owner restores
// them from the changelogs (the rebalances of a deployment that scales out for a backfill and
// back in after it). Per key: every window once, with its values, and no dead letter; the added
// workers took tasks, and their stops (SIGTERM) exit 0 during the flow.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { backfill } from './disorder-generators.ts';
import { publishReadings } from './disorder-io.ts';
import { baseSeed, checkApps, disorderHarness, partitions, stopAll } from './disorder-run.ts';
import { eventually } from './helpers.ts';
import { kafka, readTopic } from './topics.ts';
import { stopWorker, waitForAssignment } from './workers.ts';

const minuteMs = 60_000;

/** The group's committed offset of each partition of `topic` (-1 where none). */
async function committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(offsets?.partitions.map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

describe('windowed aggregation of a backfill while the group scales (real broker)', () => {
  const harness = disorderHarness();
  after(harness.cleanup);

  it('(e) an entity-major backfill under exactly-once while the workers scale 1 -> 3 -> 1: per key every window once, nothing late', async (t) => {
    // 60 devices x 10 days of 10-minute readings (~86,000), device after device.
    const generated = backfill(baseSeed + 5, {
      devices: 60,
      days: 10,
      intervalMs: 10 * minuteMs,
      maxDelayMs: 15 * minuteMs,
    });
    const { input, apps } = await harness.prepare({
      scenario: 'backfill',
      generated,
      modes: ['key'],
      guarantee: 'exactly_once',
    });
    const [app] = apps;
    assert.ok(app !== undefined);
    assert.equal(app.oracle.late.size, 0, 'no reading is late by its own device time');
    const began = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void => {
      phases.push(`${name} ${((Date.now() - began) / 1000).toFixed(1)} s`);
    };
    const first = app.start('s1');
    await waitForAssignment([first], partitions, 90_000);
    phase('s1 assigned');

    const readings = generated.readings;
    const quarter = Math.floor(readings.length / 4);
    // 1. A quarter with one worker, until it has committed results (open windows in every task).
    await publishReadings(input, readings.slice(0, quarter));
    await readTopic(app.output, (rs) => rs.length >= 20, 120_000);
    phase('first results');
    // 2. Two more workers join while the second quarter flows in small chunks.
    const added = [app.start('s2'), app.start('s3')];
    await publishReadings(input, readings.slice(quarter, 2 * quarter), 1000);
    await waitForAssignment([first, ...added], partitions, 90_000);
    const movedOut = added.map((w) => `${w.id}: ${w.tasks?.join(' ')}`);
    assert.ok(
      added.every((w) => (w.tasks?.length ?? 0) > 0),
      `the added workers took tasks (${movedOut.join(', ')})`,
    );
    phase('scaled out');
    // 3. Half the third quarter; the added workers must commit progress on their partitions
    //    (process with the state they restored) before they leave (SIGTERM) as the rest flows.
    const third = readings.slice(2 * quarter, 3 * quarter);
    const theirs = added.flatMap((w) => (w.tasks ?? []).map((task) => Number(task.split('_')[1])));
    const before = await committedOffsets(app.appId, input);
    await publishReadings(input, third.slice(0, third.length / 2), 1000);
    await eventually(
      () =>
        `the added workers to commit on partitions ${theirs.join(' ')} (from ${JSON.stringify([...before])})`,
      async () => {
        const now = await committedOffsets(app.appId, input);
        return theirs.every((p) => (now.get(p) ?? -1) > (before.get(p) ?? -1)) ? true : undefined;
      },
      90_000,
    );
    phase('added workers committed');
    const stopping = Promise.all(added.map((w) => stopWorker(w)));
    await publishReadings(input, third.slice(third.length / 2), 1000);
    assert.deepEqual(await stopping, [0, 0], 'the added workers stop cleanly during the flow');
    for (const w of added) app.workers.delete(w.id);
    // 4. The rest, markers last (they close every device's last windows), with one worker.
    await publishReadings(input, readings.slice(3 * quarter));
    await waitForAssignment([first], partitions, 90_000);
    phase('scaled in');
    const figures = await checkApps(apps, input, 240_000);
    phase('checked');
    const restored = [first, ...added]
      .flatMap((w) => w.log)
      .filter((e) => e['msg'] === 'store restored')
      .reduce((n, e) => n + Number(e['records']), 0);
    t.diagnostic(
      `${generated.description}: ${readings.length} readings; tasks moved out to ${movedOut.join(', ')}; changelog records restored ${restored}; ${figures}; ${phases.join(', ')}`,
    );
    await stopAll(apps);
  });
});
