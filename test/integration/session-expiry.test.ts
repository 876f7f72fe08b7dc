// A worker whose batch blocks longer than the session timeout loses its place in the group: the
// commit that follows is refused (unknown member). It must rejoin and carry on from its last
// committed offsets, as a Kafka Streams instance does after a CommitFailedException, not stop.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { startCli } from './cli.ts';
import type { CliProcess } from './cli.ts';
import { waitForCommitted } from './disorder-io.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { createTopics, produceJson, readTopic } from './topics.ts';

describe('a worker that overruns its session (real Kafka)', () => {
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
  });

  it('rejoins the group after its commit is refused and outputs every record', async () => {
    const appId = uniqueName('it-session');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions: 3 },
      { topic: output, partitions: 3 },
    ]);
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-session-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    await produceJson(
      input,
      Array.from({ length: 3000 }, (_, seq) => ({ key: `k${seq % 30}`, value: { seq } })),
      1000,
    );
    const worker: CliProcess = startCli(['run', 'test/integration/fixtures/slow-tag.ts'], {
      TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(','),
      TRIBUTARY_APP_ID: appId,
      TRIBUTARY_WORKER_ID: 'w',
      TRIBUTARY_METRICS_PORT: '0',
      TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
      TRIBUTARY_STATE_DIR: stateDir,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      // The first record blocks the event loop (and the heartbeats) for 10 s, past the session.
      SLOW_FIRST_MS: '10000',
    });
    cleanups.push(() => worker.child.kill('SIGKILL'));
    const records = await readTopic(
      output,
      (rs) =>
        worker.child.exitCode !== null ||
        new Set(rs.map((r) => (JSON.parse(r.value?.toString() ?? '{}') as { seq: number }).seq))
          .size >= 3000,
      120_000,
    );
    assert.equal(
      worker.child.exitCode,
      null,
      `the worker stopped: ${JSON.stringify(worker.log.slice(-4))} ${worker.stderr().slice(-2000)}`,
    );
    const seqs = new Set(
      records.map((r) => (JSON.parse(r.value?.toString() ?? '{}') as { seq: number }).seq),
    );
    for (let seq = 0; seq < 3000; seq++) assert.ok(seqs.has(seq), `record ${seq} is missing`);
    // The member was dropped and joins again: more than one assignment. Every record can be in
    // the output before that (under at-least-once the outputs go out before the refused
    // commit), and the new join waits for the batches in flight, so the test waits for it.
    const assignments = (): number => worker.log.filter((l) => l['msg'] === 'assignment').length;
    await eventually(
      () => `a second assignment: the session did not expire (${assignments()} assignment)`,
      async () => (assignments() >= 2 ? true : undefined),
      60_000,
    );
    // Then it carries on from its last committed offsets: the group commits the input's end.
    await waitForCommitted(appId, input, 60_000, () => JSON.stringify(worker.log.slice(-4)));
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.stderr().slice(-2000));
  });
});
