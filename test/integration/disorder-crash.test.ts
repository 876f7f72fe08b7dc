// (d) The entity-major backfill of disorder.test.ts again, under exactly-once, with two workers
// per application and a kill -9 of one of them mid-run (once results are committed, while the
// input is still being published and its tasks hold open windows), then its restart on the same
// state directory. Per key: every window, each once, with its values, no dead letter; per
// partition: exactly the documented late readings and the windows of the others. The stores'
// clocks (each key's time, the partition's stream time) must come back from the changelogs
// exactly: a clock restored too far back would let late readings in, too far ahead would drop
// good ones. Markers, not an idle timeout, close the last windows: an idle timeout counts wall
// time from a restarted task's restore, so the kill would change which windows close when.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { backfill } from './disorder-generators.ts';
import { publishReadings, readToEnd } from './disorder-io.ts';
import { baseSeed, checkApps, disorderHarness, partitions, stopAll } from './disorder-run.ts';
import { readTopic } from './topics.ts';
import { waitForAssignment } from './workers.ts';

describe('windowed aggregation on disordered input under exactly-once (real broker)', () => {
  const harness = disorderHarness();
  after(harness.cleanup);

  it('(d) an entity-major backfill with kill -9 of one of two workers mid-run and a restart: per key every window once, per partition the documented late readings', async (t) => {
    const generated = backfill(baseSeed + 3);
    const { input, apps } = await harness.prepare({
      scenario: 'backfill',
      generated,
      modes: ['key', 'partition'],
      guarantee: 'exactly_once',
      // Transactions of a second: the kill lands in one holding results and changelog writes.
      workerEnv: { COMMIT_INTERVAL_MS: '1000' },
    });
    const began = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void => {
      phases.push(`${name} ${((Date.now() - began) / 1000).toFixed(1)} s`);
    };
    const key = apps.find((app) => app.mode === 'key');
    assert.ok(key !== undefined);
    assert.equal(key.oracle.late.size, 0, 'no reading is late by its own device time');
    for (const app of apps) {
      app.start('w1');
      app.start('w2');
    }
    await Promise.all(
      apps.map((app) => waitForAssignment([...app.workers.values()], partitions, 90_000)),
    );
    phase('assigned');

    // 1. The first third of the backfill; wait until both applications have committed results.
    const readings = generated.readings;
    const third = Math.floor(readings.length / 3);
    await publishReadings(input, readings.slice(0, third));
    await Promise.all(apps.map((app) => readTopic(app.output, (rs) => rs.length >= 20, 120_000)));
    phase('first results');
    // 2. The second third in small chunks, so the workers process while it flows; halfway
    //    through, kill -9 the worker w1 of each application.
    const killed: string[] = [];
    const kill = (): void => {
      for (const app of apps) {
        const victim = app.workers.get('w1');
        assert.ok(victim !== undefined);
        killed.push(`${app.mode}: w1 owned ${victim.tasks?.join(' ')}`);
        assert.ok((victim.tasks?.length ?? 0) > 0, `${app.mode}: the victim owns tasks`);
        victim.signal('SIGKILL');
      }
      phase('killed');
    };
    const second = readings.slice(third, 2 * third);
    await publishReadings(input, second, 250, (sent) => {
      if (killed.length === 0 && sent >= second.length / 2) kill();
    });
    await Promise.all(apps.map((app) => app.workers.get('w1')?.exited));
    // 3. Restart it on its state directory; publish the rest while the group rebalances.
    for (const app of apps) app.start('w1');
    await publishReadings(input, readings.slice(2 * third));
    await Promise.all(
      apps.map((app) => waitForAssignment([...app.workers.values()], partitions, 90_000)),
    );
    phase('reassigned');
    const figures = await checkApps(apps, input, 180_000);
    phase('checked');
    // Diagnostics: results and dead letters of aborted transactions (the victim's), which
    // read_committed hid.
    const abortedOn = async (topic: string): Promise<number> => {
      const [all, committed] = await Promise.all([
        readToEnd(topic, { uncommitted: true }),
        readToEnd(topic),
      ]);
      return all.length - committed.length;
    };
    const aborted = await Promise.all(
      apps.map(async (app) => {
        const [results, dead] = await Promise.all([
          abortedOn(app.output),
          abortedOn(`${app.appId}-dlq`),
        ]);
        return `${app.mode} ${results} results and ${dead} dead letters`;
      }),
    );
    const restored = apps.map((app) =>
      [...app.workers.values()]
        .flatMap((w) => w.log)
        .filter((e) => e['msg'] === 'store restored')
        .reduce((n, e) => n + Number(e['records']), 0),
    );
    t.diagnostic(
      `${generated.description}: ${readings.length} readings; killed ${killed.join(', ')}; changelog records restored ${restored.join(', ')}; aborted by the kill: ${aborted.join(', ')}; ${figures}; ${phases.join(', ')}`,
    );
    await stopAll(apps);
  });
});
