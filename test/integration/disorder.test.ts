// Windowed aggregation on input with the disorder real sources have, against the real broker:
// (a) an entity-major backfill, (b) a device that reconnects after 2 hours offline and publishes
// its buffer, (c) a device whose clock runs hours ahead. Each input is published once and read
// by two applications, one per time mode, each checked against an oracle computed from the
// input alone (disorder-oracle.ts):
// - time: 'key': every window of every device, each once, with its values; no dead letter;
// - time: 'partition' (Kafka Streams' stream time): exactly the readings late by their
//   partition's stream time in the dead-letter topic, and the windows of the others.
// The last windows close by a marker reading per device far in the future (see withMarkers in
// disorder-generators.ts), not by an idle timeout: nothing here depends on the wall clock.
// (d), the backfill under exactly-once with kill -9, is in disorder-crash.test.ts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { backfill, reconnect, skew } from './disorder-generators.ts';
import type { Generated } from './disorder-generators.ts';
import {
  baseSeed,
  checkApp,
  disorderHarness,
  publish,
  startOneWorkerEach,
  stopAll,
} from './disorder-run.ts';
import type { Scenario } from './disorder-scenarios.ts';

describe('windowed aggregation on disordered input (real broker): per-key time vs per-partition time', () => {
  const harness = disorderHarness();
  after(harness.cleanup);

  /** Runs both modes on the scenario's input and checks each against its oracle. */
  async function run(
    scenario: Scenario,
    generated: Generated,
    diagnostic: (m: string) => void,
  ): Promise<void> {
    const { input, apps } = await harness.prepare({
      scenario,
      generated,
      modes: ['key', 'partition'],
      guarantee: 'at_least_once',
    });
    const [key, partition] = apps;
    assert.ok(key !== undefined && partition !== undefined);
    // The input is what the scenario claims: nothing late for a device's own time, and a good
    // part late for a partition's.
    assert.equal(key.oracle.late.size, 0, 'no reading is late by its own device time');
    assert.ok(partition.oracle.late.size > 0, 'some readings are late by partition time');
    await startOneWorkerEach(apps);
    await publish(input, generated, apps);
    const figures = [];
    for (const app of apps) figures.push(await checkApp(app, input, 120_000));
    diagnostic(
      `${generated.description}: ${generated.readings.length} readings; ${figures.join('; ')}`,
    );
    await stopAll(apps);
  }

  it('(a) an entity-major backfill into 3 partitions: per key, every window; per partition, the documented late readings', async (t) => {
    await run('backfill', backfill(baseSeed), (m) => t.diagnostic(m));
  });

  it('(b) a device offline for 2 hours publishes its buffered readings while the others keep publishing', async (t) => {
    await run('reconnect', reconnect(baseSeed + 1), (m) => t.diagnostic(m));
  });

  it('(c) one device whose clock runs hours ahead of the others', async (t) => {
    await run('skew', skew(baseSeed + 2), (m) => t.diagnostic(m));
  });
});
