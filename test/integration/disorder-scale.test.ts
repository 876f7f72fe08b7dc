// Windowed aggregation of real-source-shaped input while the group scales 1 -> 3 -> 1 workers
// as it flows, under exactly-once: the tasks move to the added workers and back, each time with
// open windows and every device's (or partition's) time in their stores, so each new owner
// restores them from the changelogs (the rebalances of a deployment that scales out for a
// backfill or a burst and back in after it).
// (e) The entity-major backfill of disorder.test.ts: per key every window once, with its values,
//     and no dead letter.
// (f) Live devices, one of them reconnecting after 6 hours offline with its buffer in a burst:
//     by key time every window once; by partition time, the windows and the late readings
//     (dead letters) the oracle names, so the partition's time moved with its task.
// (g) (f)'s input shape under at-least-once: the rebalances are incremental and graceful (each
//     moving task committed and closed by its old owner before its new owner starts, the added
//     workers committing before they leave), so no batch is handled twice and the output must
//     be as exact as under exactly-once: at-least-once allows duplicates on a crash, not here.
// (h) (g) with 2% of the live readings sent again a few minutes later, deduplicated before the
//     windows by a store of their own, under at-least-once: the dedup store moves with its task
//     too, so no copy reaches a window on the new owner either.
// In each the added workers took tasks, and their stops (SIGTERM) exit 0 during the flow.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { TestContext } from 'node:test';

import { backfill, reconnect, withDuplicates } from './disorder-generators.ts';
import type { Generated } from './disorder-generators.ts';
import { publishReadings } from './disorder-io.ts';
import { baseSeed, checkApps, disorderHarness, partitions, stopAll } from './disorder-run.ts';
import { scenarioWindows } from './disorder-scenarios.ts';
import type { App } from './disorder-run.ts';
import { eventually } from './helpers.ts';
import { kafka, readTopic } from './topics.ts';
import { stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const minuteMs = 60_000;

/**
 * (f), (g) and (h)'s input: 40 devices x 24 h of 1-minute readings (~57,600), latencies up to
 * 10 min; one device offline 6 h, then its buffer in a 5-minute burst among the live readings.
 */
const liveDevices = (seed: number): Generated =>
  reconnect(seed, {
    devices: 40,
    hours: 24,
    intervalMs: minuteMs,
    maxDelayMs: 3 * minuteMs,
    offlineMs: 6 * 60 * minuteMs,
    burstMs: 5 * minuteMs,
    maxLatencyMs: 10 * minuteMs,
  });

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

describe('windowed aggregation of real-source-shaped input while the group scales (real broker)', () => {
  const harness = disorderHarness();
  after(harness.cleanup);

  /**
   * The input in four quarters: one worker; two more join; they commit progress on their own
   * partitions, then stop (SIGTERM) as the input flows; the rest with one worker. Then every
   * application's output and dead letters against its oracle.
   */
  async function scaleOutAndIn(
    t: TestContext,
    generated: Generated,
    input: string,
    apps: App[],
  ): Promise<void> {
    const began = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void => {
      phases.push(`${name} ${((Date.now() - began) / 1000).toFixed(1)} s`);
    };
    const firsts = apps.map((app) => app.start('s1'));
    for (const first of firsts) await waitForAssignment([first], partitions, 90_000);
    phase('s1 assigned');

    const readings = generated.readings;
    const quarter = Math.floor(readings.length / 4);
    // 1. A quarter with one worker, until it has committed results (open windows in every task).
    await publishReadings(input, readings.slice(0, quarter));
    for (const app of apps) await readTopic(app.output, (rs) => rs.length >= 20, 120_000);
    phase('first results');
    // 2. Two more workers join while the second quarter flows in small chunks.
    const added = apps.map((app) => [app.start('s2'), app.start('s3')]);
    await publishReadings(input, readings.slice(quarter, 2 * quarter), 1000);
    const movedOut: string[] = [];
    for (const [a, app] of apps.entries()) {
      const theirs = added[a] ?? [];
      await waitForAssignment([firsts[a] as WorkerProcess, ...theirs], partitions, 90_000);
      const moved = theirs.map((w) => `${w.id}: ${w.tasks?.join(' ')}`);
      movedOut.push(`${app.mode} ${moved.join(', ')}`);
      assert.ok(
        theirs.every((w) => (w.tasks?.length ?? 0) > 0),
        `the added workers took tasks (${moved.join(', ')})`,
      );
    }
    phase('scaled out');
    // 3. Half the third quarter; the added workers must commit progress on their partitions
    //    (process with the state they restored) before they leave (SIGTERM) as the rest flows.
    const third = readings.slice(2 * quarter, 3 * quarter);
    const before = await Promise.all(apps.map((app) => committedOffsets(app.appId, input)));
    await publishReadings(input, third.slice(0, third.length / 2), 1000);
    for (const [a, app] of apps.entries()) {
      const theirs = (added[a] ?? []).flatMap((w) =>
        (w.tasks ?? []).map((task) => Number(task.split('_')[1])),
      );
      const from = before[a] ?? new Map<number, number>();
      await eventually(
        () =>
          `${app.mode}: the added workers to commit on partitions ${theirs.join(' ')} (from ${JSON.stringify([...from])})`,
        async () => {
          const now = await committedOffsets(app.appId, input);
          return theirs.every((p) => (now.get(p) ?? -1) > (from.get(p) ?? -1)) ? true : undefined;
        },
        90_000,
      );
    }
    phase('added workers committed');
    const stopping = Promise.all(added.flat().map((w) => stopWorker(w)));
    await publishReadings(input, third.slice(third.length / 2), 1000);
    assert.deepEqual(
      await stopping,
      added.flat().map(() => 0),
      'the added workers stop cleanly during the flow',
    );
    for (const [a, app] of apps.entries()) for (const w of added[a] ?? []) app.workers.delete(w.id);
    // 4. The rest, markers last (they close every device's last windows), with one worker.
    await publishReadings(input, readings.slice(3 * quarter));
    for (const first of firsts) await waitForAssignment([first], partitions, 90_000);
    phase('scaled in');
    const figures = await checkApps(apps, input, 240_000);
    phase('checked');
    const restored = [...firsts, ...added.flat()]
      .flatMap((w) => w.log)
      .filter((e) => e['msg'] === 'store restored')
      .reduce((n, e) => n + Number(e['records']), 0);
    t.diagnostic(
      `${generated.description}: ${readings.length} readings; tasks moved out to ${movedOut.join('; ')}; changelog records restored ${restored}; ${figures}; ${phases.join(', ')}`,
    );
    await stopAll(apps);
  }

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
    assert.equal(apps[0]?.oracle.late.size, 0, 'no reading is late by its own device time');
    await scaleOutAndIn(t, generated, input, apps);
  });

  it('(f) devices reconnecting with hours of buffered readings, under exactly-once, while the workers scale 1 -> 3 -> 1: per key every window once; by partition time, the late readings the oracle names', async (t) => {
    const generated = liveDevices(baseSeed + 6);
    const { input, apps } = await harness.prepare({
      scenario: 'reconnect',
      generated,
      modes: ['key', 'partition'],
      guarantee: 'exactly_once',
    });
    const byPartition = apps.find((a) => a.mode === 'partition');
    assert.ok(
      [...(byPartition?.oracle.late.values() ?? [])].some((r) => r.device === generated.focus),
      'by partition time, the burst has late readings',
    );
    await scaleOutAndIn(t, generated, input, apps);
  });

  it('(g) devices reconnecting with hours of buffered readings, under at-least-once, while the workers scale 1 -> 3 -> 1: no batch handled twice, so every window once; by partition time, the late readings the oracle names', async (t) => {
    const generated = liveDevices(baseSeed + 7);
    const { input, apps } = await harness.prepare({
      scenario: 'reconnect',
      generated,
      modes: ['key', 'partition'],
      guarantee: 'at_least_once',
    });
    await scaleOutAndIn(t, generated, input, apps);
  });

  it('(h) reconnecting devices that also send readings again, deduplicated, under at-least-once, while the workers scale 1 -> 3 -> 1: every copy dropped, every window once; by partition time, the late readings the oracle names', async (t) => {
    const generated = withDuplicates(liveDevices(baseSeed + 8), baseSeed + 9, 0.02, 200);
    const { sizeMs, graceMs } = scenarioWindows.reconnect;
    const { input, apps } = await harness.prepare({
      scenario: 'reconnect',
      generated,
      modes: ['key', 'partition'],
      guarantee: 'at_least_once',
      workerEnv: { DEDUP_RETENTION_MS: String(sizeMs + graceMs) },
    });
    const copies = generated.readings.filter((r) => r.duplicate === true).length;
    assert.ok(copies > 500, `readings sent again: ${copies}`);
    await scaleOutAndIn(t, generated, input, apps);
  });
});
