// Operating Tributary through its `tributary` command, against the real stack: two workers
// scraped by the stack's Prometheus, SIGTERM under load, SASL credentials kept out of logs and
// metrics, and reset followed by a rerun.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import { httpGet, runCli, runTool, startCli, waitReady } from './cli.ts';
import type { CliProcess } from './cli.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { createTopics, kafka, produceJson, readTopic } from './topics.ts';

const slowTag = 'test/integration/fixtures/slow-tag.ts';
const readingsTopology = 'topologies/readings.ts';

async function promQuery(query: string): Promise<number | undefined> {
  const response = await fetch(
    `${endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`,
  );
  const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
  const value = body.data.result[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

/** The metrics port a worker started with TRIBUTARY_METRICS_PORT=0 logged. */
async function metricsPort(worker: CliProcess): Promise<number> {
  return eventually(
    'the worker to log its metrics address',
    async () => {
      const started = worker.log.find((l) => l['msg'] === 'worker started');
      return (started?.['metrics'] as { port: number } | undefined)?.port;
    },
    60_000,
  );
}

/** A worker's /metrics body; a worker busy with a batch may answer late, so asked until it answers 200. */
async function scrape(worker: CliProcess, port: number | undefined): Promise<string> {
  let last = { status: 0, body: '' };
  return eventually(
    () =>
      `/metrics of the worker on port ${port} (last answer ${last.status} ${last.body.slice(0, 200)}; exit code ${worker.child.exitCode}, signal ${worker.child.signalCode}; last log lines ${JSON.stringify(worker.log.slice(-5))}; stderr ${worker.stderr().slice(-1000)})`,
    async () => {
      last = await httpGet(`http://127.0.0.1:${port}/metrics`);
      return last.status === 200 ? last.body : undefined;
    },
    30_000,
    250,
  );
}

/** Waits until the workers' latest assignments cover `count` tasks. */
async function waitTasks(workers: CliProcess[], count: number): Promise<void> {
  await eventually(
    `workers to share ${count} tasks`,
    async () => {
      const owned = workers.flatMap((w) => {
        const last = w.log.filter((l) => l['msg'] === 'assignment').at(-1);
        return (last?.['tasks'] as string[] | undefined) ?? [];
      });
      return owned.length === count && new Set(owned).size === count ? true : undefined;
    },
    60_000,
  );
}

describe('operating workers with the tributary command (real Kafka and Prometheus)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('Prometheus scrapes two workers: records in and consumer lag move; SIGTERM under load loses nothing; secrets stay out of logs and /metrics', async () => {
    const appId = uniqueName('it-ops');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions: 6 },
      { topic: output, partitions: 6 },
    ]);
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-ops-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const { username, password } = endpoints.kafkaSaslUser;
    const start = (id: string): CliProcess =>
      startCli(['run', slowTag], {
        TRIBUTARY_BROKERS: endpoints.kafkaSaslBrokers.join(','),
        TRIBUTARY_KAFKA_SASL_MECHANISM: 'scram-sha-256',
        TRIBUTARY_KAFKA_SASL_USERNAME: username,
        TRIBUTARY_KAFKA_SASL_PASSWORD: password,
        TRIBUTARY_APP_ID: appId,
        TRIBUTARY_WORKER_ID: id,
        TRIBUTARY_METRICS_PORT: '0',
        TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
        TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '20000',
        TRIBUTARY_STATE_DIR: stateDir,
        INPUT_TOPIC: input,
        OUTPUT_TOPIC: output,
        // Small fetches: a batch takes a fraction of a second, so SIGTERM leaves records behind.
        TRIBUTARY_MAX_BYTES_PER_PARTITION: '16384',
        SLOW_US: '800',
      });
    const workers = [start('a'), start('b')];
    cleanups.push(() => {
      for (const w of workers) w.child.kill('SIGKILL');
    });
    const [a, b] = workers as [CliProcess, CliProcess];
    const ports = [await metricsPort(a), await metricsPort(b)];
    for (const port of ports) {
      const health = await httpGet(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
    }
    await waitTasks(workers, 6);
    for (const port of ports) await waitReady(port);

    const targetFile = join(endpoints.prometheusTargetsDir, `${appId}.json`);
    writeFileSync(
      targetFile,
      JSON.stringify([{ targets: ports.map((p) => `127.0.0.1:${p}`), labels: { test: appId } }]),
    );
    cleanups.push(() => rmSync(targetFile, { force: true }));
    const lagQuery = `sum(tributary_consumer_lag{app="${appId}"})`;
    const upQuery = `count(up{test="${appId}"} == 1)`;
    await eventually(
      'Prometheus to scrape both workers',
      async () => ((await promQuery(upQuery)) === 2 ? true : undefined),
      45_000,
      500,
    );

    // Phase 1: 12,000 records at once; at 0.8 ms each the two workers need seconds to drain them.
    const first = Array.from({ length: 12_000 }, (_, seq) => ({
      key: `k${seq % 60}`,
      value: { seq },
    }));
    await produceJson(input, first, 2000);
    // Per series (worker and task): a counter never decreases within its series. A scrape that
    // times out while a worker is busy leaves a gap; a task that moves starts a new series, and a
    // task that moves away and back (the group rebalances while both workers join) starts again
    // from 0 on the same worker, as Kafka Streams' task metrics do: a decrease is allowed only
    // where that worker received an assignment between the two observations.
    const inSeen = new Map<string, { value: number; rebalances: number | undefined }[]>();
    const totals: number[] = [];
    const lagSeen: number[] = [];
    const outputDone = readTopic(output, (rs) => rs.length >= 12_000, 180_000);
    let drained = false;
    void outputDone.then(() => (drained = true));
    await eventually(
      () =>
        `Prometheus to see the records in and the lag drain back to 0 (output drained: ${drained}; records_in totals ${totals.slice(-5).join(', ')}; last lags ${lagSeen.slice(-5).join(', ')}; worker exit codes ${workers.map((w) => w.child.exitCode).join(', ')})`,
      async () => {
        // One query, so the records in and each worker's assignments come from the same scrape.
        const query = `tributary_records_in_total{app="${appId}",operator="in"} or tributary_rebalances_total{app="${appId}"}`;
        const response = await fetch(
          `${endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`,
        );
        const body = (await response.json()) as {
          data: {
            result: {
              metric: { __name__: string; instance: string; task: string };
              value: [number, string];
            }[];
          };
        };
        const rebalances = new Map(
          body.data.result
            .filter((r) => r.metric.__name__ === 'tributary_rebalances_total')
            .map((r) => [r.metric.instance, Number(r.value[1])]),
        );
        let total = 0;
        for (const series of body.data.result) {
          if (series.metric.__name__ !== 'tributary_records_in_total') continue;
          const id = `${series.metric.instance} ${series.metric.task}`;
          const values = inSeen.get(id) ?? [];
          const value = Number(series.value[1]);
          total += value;
          if (value !== values.at(-1)?.value)
            values.push({ value, rebalances: rebalances.get(series.metric.instance) });
          inSeen.set(id, values);
        }
        if (total !== totals.at(-1)) totals.push(total);
        const lag = await promQuery(lagQuery);
        if (lag !== undefined) lagSeen.push(lag);
        return drained && lag === 0 && lagSeen.some((l) => l > 0) ? true : undefined;
      },
      180_000,
      400,
    );
    await outputDone;
    // Moved: records in rose through several values, per series never down; lag above 0, then 0.
    const instances = new Set([...inSeen.keys()].map((id) => id.split(' ')[0]));
    assert.equal(instances.size, 2, 'both workers were scraped');
    assert.ok(totals.length >= 3, `records_in took only the totals ${totals.join(', ')}`);
    for (const [id, values] of inSeen) {
      values.forEach((now, i) => {
        const before = values[i - 1];
        if (before === undefined || now.value >= before.value) return;
        assert.ok(
          now.rebalances !== undefined &&
            before.rebalances !== undefined &&
            now.rebalances > before.rebalances,
          `${id}: records_in decreased without a new assignment of its worker: ${JSON.stringify(values)}`,
        );
      });
    }
    assert.ok(Math.max(...lagSeen) > 0, `lag never rose above 0 (${lagSeen.length} samples)`);
    const metricsBody = await scrape(a, ports[0]);
    for (const name of [
      'tributary_records_out_total',
      'tributary_process_latency_seconds_bucket',
      'tributary_commit_duration_seconds_count',
      'tributary_watermark_seconds',
      'tributary_rebalances_total',
      'tributary_ready',
      'process_cpu_seconds_total',
    ])
      assert.ok(metricsBody.includes(name), `/metrics has no ${name}`);

    // Phase 2: SIGTERM to worker a while 8,000 more records are being processed.
    const second = Array.from({ length: 12_000 }, (_, i) => ({
      key: `k${i % 60}`,
      value: { seq: 12_000 + i },
    }));
    await produceJson(input, second, 2000);
    await sleep(1500);
    const aTasks = (a.log.filter((l) => l['msg'] === 'assignment').at(-1)?.['tasks'] ??
      []) as string[];
    a.child.kill('SIGTERM');
    const code = await Promise.race([a.exited, sleep(30_000).then(() => 'timeout')]);
    assert.equal(code, 0, `worker a exited ${code}: ${a.stderr().slice(-1000)}`);
    assert.ok(
      a.log.some((l) => l['msg'] === 'worker stopped'),
      'worker a logged no "worker stopped"',
    );
    const records = await readTopic(
      output,
      (rs) => new Set(rs.map((r) => JSON.parse(r.value?.toString() ?? '{}').seq)).size >= 24_000,
      124_000,
    );
    const seqs = new Set(
      records.map((r) => (JSON.parse(r.value?.toString() ?? '{}') as { seq: number }).seq),
    );
    for (let seq = 0; seq < 24_000; seq++) assert.ok(seqs.has(seq), `record ${seq} is missing`);
    // Worker b finished what worker a left: records of a's tasks processed by b.
    const takenOver = new Set(
      records
        .map((r) => JSON.parse(r.value?.toString() ?? '{}') as { worker: string; task: string })
        .filter((v) => v.worker === 'b' && aTasks.includes(v.task))
        .map((v) => v.task),
    );
    assert.ok(takenOver.size > 0, `worker b processed nothing of a's tasks ${aTasks.join(', ')}`);

    // Secrets: never in the logs of either worker, nor in what /metrics served.
    const bMetrics = await scrape(b, ports[1]);
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
    for (const [name, text] of [
      ['a stdout', a.stdout()],
      ['a stderr', a.stderr()],
      ['b stdout', b.stdout()],
      ['b stderr', b.stderr()],
      ['a /metrics', metricsBody],
      ['b /metrics', bMetrics],
    ] as const) {
      if (!name.endsWith('stderr')) assert.ok(text.length > 0, `${name} is empty`);
      assert.ok(!text.includes(password), `${name} contains the SASL password`);
    }
  });

  it('reset refuses while a worker is alive; after it, run reprocesses from the start with fresh state', async () => {
    const appId = uniqueName('it-reset');
    const input = `${appId}-readings`;
    const output = `${appId}-hourly`;
    await createTopics([
      { topic: input, partitions: 3 },
      { topic: output, partitions: 3 },
    ]);
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-reset-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const env = {
      TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(','),
      TRIBUTARY_APP_ID: appId,
      TRIBUTARY_METRICS_PORT: '0',
      TRIBUTARY_STATE_DIR: stateDir,
      TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
      READINGS_TOPIC: input,
      READINGS_HOURLY_TOPIC: output,
    };
    // 6 sensors, one reading a minute for 5 hours, starting on an hour, through the tools' CLI.
    const produced = await runTool(
      ['produce', 'readings', '--topic', input, '--count', '1800', '--sensors', '6'].concat([
        '--interval-ms',
        '60000',
        '--start',
        '2026-11-20T00:00:00Z',
        '--seed',
        '7',
      ]),
      { TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(',') },
    );
    assert.equal(produced.code, 0, produced.stderr);
    assert.equal(produced.stdout, `produced 1800 records to ${input}\n`);
    // Every sensor's hours 0..3 close (hour 4's window stays open: nothing later arrives).
    const expected = 6 * 4;

    const firstRun = startCli(['run', readingsTopology], env);
    cleanups.push(() => void firstRun.child.kill('SIGKILL'));
    const firstOut = await readTopic(output, (rs) => rs.length >= expected, 90_000);
    assert.equal(firstOut.length, expected);

    const refused = await runCli(['reset', readingsTopology, '--yes'], env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /live member/);

    firstRun.child.kill('SIGTERM');
    assert.equal(await firstRun.exited, 0);
    const reset = await runCli(['reset', readingsTopology, '--yes'], env);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, new RegExp(`input ${input}: offsets set to 0:0 1:0 2:0`));
    assert.match(reset.stdout, new RegExp(`${appId}-hourly-changelog`));
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      assert.ok(!topics.includes(`${appId}-hourly-changelog`), 'the changelog was deleted');
      assert.ok(topics.includes(`${appId}-dlq`), 'the dead-letter topic is kept');
    } finally {
      await admin.disconnect();
    }

    const secondRun = startCli(['run', readingsTopology], env);
    cleanups.push(() => void secondRun.child.kill('SIGKILL'));
    const all = await readTopic(output, (rs) => rs.length >= 2 * expected, 90_000);
    secondRun.child.kill('SIGTERM');
    assert.equal(await secondRun.exited, 0);
    // The rerun's windows equal the first run's: state started empty (no double counts).
    const canonical = (rs: typeof all): string[] =>
      rs.map((r) => `${r.key} ${r.value?.toString()}`).sort();
    const firstSet = canonical(firstOut);
    const rest = canonical(
      all.filter(
        (r) => !firstOut.some((f) => f.partition === r.partition && f.offset === r.offset),
      ),
    );
    assert.equal(rest.length, expected);
    assert.deepEqual(rest, firstSet);
  });
});
