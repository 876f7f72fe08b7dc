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

import { partitionForKey } from '../../src/kafka/index.ts';
import { backfill, reconnect, skew } from './disorder-generators.ts';
import type { Generated } from './disorder-generators.ts';
import { disorderOracle } from './disorder-oracle.ts';
import type { DisorderOracle } from './disorder-oracle.ts';
import {
  baseSeed,
  checkApps,
  disorderHarness,
  partitions,
  publish,
  startOneWorkerEach,
  stopAll,
} from './disorder-run.ts';
import { scenarioWindows } from './disorder-scenarios.ts';
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
    // The input is what the scenario claims: nothing late by a device's own time, and readings
    // late by their partition's time.
    assert.equal(key.oracle.late.size, 0, 'no reading is late by its own device time');
    assert.ok(partition.oracle.late.size > 0, 'some readings are late by partition time');
    await startOneWorkerEach(apps);
    await publish(input, generated, apps);
    const figures = await checkApps(apps, input, 120_000);
    diagnostic(
      `${generated.description}: ${generated.readings.length} readings; ${figures}${lateBreakdown(generated, partition.oracle)}`,
    );
    await stopAll(apps);
  }

  it('(a) an entity-major backfill into 3 partitions: per key, every window; per partition, the documented late readings', async (t) => {
    await run('backfill', backfill(baseSeed), (m) => t.diagnostic(m));
  });

  for (const seed of [baseSeed + 1, baseSeed + 11]) {
    it(`(b) a device offline for 2 hours publishes its buffered readings while the others keep publishing (seed ${seed})`, async (t) => {
      const generated = reconnect(seed);
      const late = disorderOracle(
        generated.readings,
        partitions,
        scenarioWindows.reconnect,
        'partition',
      ).late;
      assert.ok(
        [...late.values()].some((r) => r.device === generated.focus),
        'by partition time, the burst has late readings',
      );
      await run('reconnect', generated, (m) => t.diagnostic(m));
    });
  }

  for (const seed of [baseSeed + 2, baseSeed + 12]) {
    it(`(c) one device whose clock runs hours ahead of the others (seed ${seed})`, async (t) => {
      await run('skew', skew(seed), (m) => t.diagnostic(m));
    });
  }
});

/** Where the late readings by partition time come from, for the diagnostics. */
function lateBreakdown(generated: Generated, oracle: DisorderOracle): string {
  const focus = generated.focus;
  if (focus === undefined) return '';
  const home = partitionForKey(focus, partitions);
  let own = 0;
  let neighbours = 0;
  for (const r of oracle.late.values()) {
    if (r.device === focus) own++;
    else if (partitionForKey(r.device, partitions) === home) neighbours++;
  }
  return ` (late by partition time: ${own} of ${focus}, ${neighbours} of the other devices of its partition ${home}, ${oracle.late.size - own - neighbours} elsewhere)`;
}
