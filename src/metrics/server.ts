import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { TributaryError } from '../core/index.ts';
import type { WorkerMetrics } from './metrics.ts';

export interface HealthProbe {
  /** The process runs and its worker has not failed. */
  alive(): boolean;
  /** Joined the group and every assigned task restored. */
  ready(): boolean;
  /** A short word for the probe's body (the runtime's state). */
  state(): string;
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  metrics: WorkerMetrics;
  health: HealthProbe;
}

export interface MetricsServer {
  /** The address it listens on (the port is the one assigned when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The worker's HTTP endpoints: /metrics (Prometheus text format), /healthz (200 while alive,
 * 503 once failed) and /readyz (200 once ready, else 503), as Kubernetes probes expect.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics, health } = options;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.render().then(
        ({ body, contentType }) =>
          response.writeHead(200, { 'content-type': contentType }).end(body),
        (error: unknown) =>
          response
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics failed: ${(error as Error).message}\n`),
      );
      return;
    }
    const probe = path === '/healthz' ? health.alive() : path === '/readyz' ? health.ready() : null;
    if (probe === null) {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('not found: try /metrics, /healthz or /readyz\n');
      return;
    }
    response
      .writeHead(probe ? 200 : 503, { 'content-type': 'application/json' })
      .end(`${JSON.stringify({ status: probe ? 'ok' : 'unavailable', state: health.state() })}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new TributaryError(
          'CONFIG_INVALID',
          error.code === 'EADDRINUSE'
            ? `metrics port ${options.port} on ${options.host} is in use (TRIBUTARY_METRICS_PORT)`
            : `metrics server could not listen on ${options.host}:${options.port}: ${error.message}`,
          { cause: error },
        ),
      );
    });
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
