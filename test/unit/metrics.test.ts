import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';

import { createLogger } from '../../src/app/index.ts';
import type { RuntimeSnapshot } from '../../src/core/index.ts';
import { createMetrics, startMetricsServer } from '../../src/metrics/index.ts';

function snapshot(tasks: RuntimeSnapshot['tasks'], ready = true): RuntimeSnapshot {
  return { tasks, rebalances: 2, restoring: 0, ready };
}

const task0: RuntimeSnapshot['tasks'][number] = {
  task: '0_0',
  operators: [
    { operator: 'readings', recordsIn: 10, recordsOut: 9 },
    { operator: 'to-out', recordsIn: 9, recordsOut: 9 },
  ],
  streamTimeMs: 1_700_000_000_000,
  late: 1,
  deadLettered: 1,
  restored: new Map([['hourly', 42]]),
};

describe('worker metrics', () => {
  it('exports the runtime snapshot under the names of DESIGN.md, labelled by app', async () => {
    const metrics = createMetrics({
      app: 'weather',
      guarantee: 'exactly_once',
      defaultMetrics: false,
    });
    let current = snapshot([task0]);
    metrics.observe(
      () => current,
      () => Promise.resolve([{ topic: 'obs', partition: 0, lag: 17 }]),
    );
    metrics.telemetry.batchProcessed('0_0', 0.003, 10);
    metrics.telemetry.committed(0.02);
    metrics.telemetry.sinkWriteFailed('cassandra');
    const { body, contentType } = await metrics.render();
    assert.match(contentType, /^text\/plain/);
    for (const line of [
      'tributary_records_in_total{task="0_0",operator="readings",app="weather"} 10',
      'tributary_records_out_total{task="0_0",operator="readings",app="weather"} 9',
      'tributary_consumer_lag{topic="obs",partition="0",app="weather"} 17',
      'tributary_watermark_seconds{task="0_0",app="weather"} 1700000000',
      'tributary_late_records_total{task="0_0",app="weather"} 1',
      'tributary_dlq_records_total{task="0_0",app="weather"} 1',
      'tributary_restore_records_total{task="0_0",store="hourly",app="weather"} 42',
      'tributary_rebalances_total{app="weather"} 2',
      'tributary_sink_write_errors_total{sink="cassandra",app="weather"} 1',
      'tributary_process_latency_seconds_count{app="weather",task="0_0"} 1',
      'tributary_commit_duration_seconds_count{app="weather",guarantee="exactly_once"} 1',
      'tributary_tasks{app="weather"} 1',
      'tributary_ready{app="weather"} 1',
    ])
      assert.ok(body.includes(line), `missing: ${line}`);
    // A task that left this worker takes its series with it.
    current = snapshot([], false);
    const after = (await metrics.render()).body;
    assert.ok(!after.includes('task="0_0",operator'), 'the revoked task has no series');
    assert.ok(after.includes('tributary_ready{app="weather"} 0'));
  });

  it('serves /metrics, /healthz and /readyz', async () => {
    const metrics = createMetrics({ app: 'a', guarantee: 'at_least_once' });
    let ready = false;
    metrics.observe(() => snapshot([task0], ready));
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      health: {
        alive: () => true,
        ready: () => ready,
        state: () => (ready ? 'running' : 'starting'),
      },
    });
    try {
      const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
      assert.equal((await get('/healthz')).status, 200);
      assert.equal((await get('/readyz')).status, 503);
      ready = true;
      const readyz = await get('/readyz');
      assert.equal(readyz.status, 200);
      assert.deepEqual(await readyz.json(), { status: 'ok', state: 'running' });
      const body = await (await get('/metrics')).text();
      assert.ok(body.includes('process_cpu_seconds_total'), "Node's default metrics");
      assert.ok(body.includes('tributary_records_in_total'));
      assert.equal((await get('/nope')).status, 404);
    } finally {
      await server.close();
    }
  });

  it('names the metrics port when it is taken', async () => {
    const metrics = createMetrics({ app: 'a', guarantee: 'at_least_once', defaultMetrics: false });
    const health = { alive: () => true, ready: () => true, state: () => 'running' };
    const first = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics, health });
    try {
      await assert.rejects(
        startMetricsServer({ host: '127.0.0.1', port: first.port, metrics, health }),
        new RegExp(
          `metrics port ${first.port} on 127.0.0.1 is in use \\(TRIBUTARY_METRICS_PORT\\)`,
        ),
      );
    } finally {
      await first.close();
    }
  });
});

describe('worker logs', () => {
  it('are JSON lines with app, worker and task, and never show a password', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    const logger = createLogger({ app: 'weather', worker: 'w1', destination });
    logger
      .child({ task: '0_1' })
      .info({ sasl: { mechanism: 'plain', password: 'pw-1' } }, 'connecting');
    logger.info({ config: { cassandra: { credentials: { password: 'pw-2' } } } }, 'settings');
    logger.warn({ headers: { authorization: 'Basic pw-3' } }, 'request');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(entries[0]?.['app'], 'weather');
    assert.equal(entries[0]?.['worker'], 'w1');
    assert.equal(entries[0]?.['task'], '0_1');
    for (const secret of ['pw-1', 'pw-2', 'pw-3'])
      assert.ok(!lines.join('\n').includes(secret), `${secret} reached the log`);
  });
});
