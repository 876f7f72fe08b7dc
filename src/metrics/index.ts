/**
 * metrics: the only importer of prom-client. A worker's Prometheus registry (fed by the runtime's
 * telemetry and snapshots) and its HTTP endpoints /metrics, /healthz and /readyz.
 *
 * @example
 *   const metrics = createMetrics({ app: 'weather', guarantee: 'exactly_once' });
 *   metrics.observe(() => runtime.snapshot());
 *   await startMetricsServer({ host: '0.0.0.0', port: 9464, metrics, health });
 */
export { createMetrics } from './metrics.ts';
export type { MetricsOptions, WorkerMetrics } from './metrics.ts';
export { startMetricsServer } from './server.ts';
export type { HealthProbe, MetricsServer, MetricsServerOptions } from './server.ts';
